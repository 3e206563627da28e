"""``cost_usd``: a table's token counts priced with :mod:`agno_nb.prices`, vectorized.

Each distinct (model, provider) of the table is looked up once; the prices are then
spread over the rows with Arrow, so a million messages cost a handful of lookups.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import prices

COST = "cost_usd"


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.zeros(table.num_rows)
    return pc.fill_null(table[name].cast(pa.float64()), 0.0).to_numpy()


def _set(table: pa.Table, values: pa.Array) -> pa.Table:
    if COST in table.column_names:
        return table.set_column(table.column_names.index(COST), COST, values)
    return table.append_column(COST, values)


def add_cost(table: pa.Table) -> Tuple[pa.Table, List[str]]:
    """``table`` (runs or messages) with ``cost_usd`` filled in, and the unknown models."""
    n = table.num_rows
    if n == 0 or "model" not in table.column_names:
        return _set(table, pa.nulls(n, pa.float64())), []
    provider = table["model_provider"] if "model_provider" in table.column_names else pa.nulls(n, pa.string())
    key = pc.binary_join_element_wise(pc.fill_null(table["model"].cast(pa.string()), "\x00"),
                                      pc.fill_null(provider.cast(pa.string()), ""), "\x1f")
    encoded = pc.dictionary_encode(key).combine_chunks()
    pairs = []
    for k in encoded.dictionary.to_pylist():
        model, prov = k.split("\x1f", 1)
        pairs.append((None if model == "\x00" else model, prov or None))
    found = [prices.lookup(m, p) for m, p in pairs]
    unknown = sorted({m for (m, _), f in zip(pairs, found) if m is not None and f is None})
    known = np.array([f is not None for f in found], dtype=bool)

    def per_row(values: List[float]) -> np.ndarray:
        return np.asarray(values, dtype=float)[encoded.indices.to_numpy(zero_copy_only=False)]

    p_in = per_row([f.input if f else np.nan for f in found])
    p_out = per_row([f.output if f else np.nan for f in found])
    p_cache = per_row([(f.input if f.cached_input is None else f.cached_input) if f else np.nan for f in found])
    in_input = per_row([1.0 if (f is None or f.cached_in_input) else 0.0 for f in found]).astype(bool)
    inp, out, cached = _numbers(table, "input_tokens"), _numbers(table, "output_tokens"), _numbers(table, "cache_read_tokens")
    uncached = np.where(in_input, np.maximum(inp - cached, 0.0), inp)
    cost = (uncached * p_in + cached * p_cache + out * p_out) / 1e6
    mask = ~per_row(known.astype(float)).astype(bool)
    return _set(table, pa.array(cost, pa.float64(), mask=mask)), unknown


def session_cost(sessions: pa.Table, runs: pa.Table) -> pa.Table:
    """``sessions`` with ``cost_usd`` = the sum of its runs' (null when none was priced)."""
    sums = runs.select(["session_id", COST]).group_by("session_id").aggregate([(COST, "sum")])
    lookup = pc.index_in(sessions["session_id"], sums["session_id"])
    values = pc.take(sums[f"{COST}_sum"], pc.fill_null(lookup, 0)) if sums.num_rows else pa.nulls(sessions.num_rows, pa.float64())
    values = pc.if_else(pc.is_null(lookup), pa.scalar(None, pa.float64()), values)
    return _set(sessions, values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)


def unknown_note(models: List[str]) -> str:
    names = ", ".join(repr(m) for m in models)
    return (f"no price for model{'s' if len(models) > 1 else ''} {names}: cost_usd is NaN for {'their' if len(models) > 1 else 'its'} rows. "
            "Set one with agno_nb.prices.set(model, input=..., output=..., cached_input=...) "
            "(USD per million tokens).")
