"""``cost_usd``: a table's token counts priced with :mod:`agno_nb.prices`, vectorized.

Each distinct (model, provider) of the table is looked up once; the prices are then
spread over the rows with Arrow, so a million messages cost a handful of lookups.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

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


def _codes(column: pa.ChunkedArray) -> Tuple[np.ndarray, List[Optional[str]]]:
    """Each row's code in the column's distinct values (None among them for nulls)."""
    encoded = pc.dictionary_encode(column.cast(pa.string())).combine_chunks()
    values: List[Optional[str]] = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    return codes, values + [None]


def add_cost(table: pa.Table) -> Tuple[pa.Table, List[str]]:
    """``table`` (runs or messages) with ``cost_usd`` filled in, and the unknown models."""
    n = table.num_rows
    if n == 0 or "model" not in table.column_names:
        return _set(table, pa.nulls(n, pa.float64())), []
    models, model_names = _codes(table["model"])
    if "model_provider" in table.column_names:
        providers, provider_names = _codes(table["model_provider"])
    else:
        providers, provider_names = np.zeros(n, np.int64), [None]
    # one price lookup per distinct (model, provider) pair, spread over the rows by its code
    pair_codes, rows = np.unique(models.astype(np.int64) * len(provider_names) + providers, return_inverse=True)
    pairs = [(model_names[c // len(provider_names)], provider_names[c % len(provider_names)] or None)
             for c in pair_codes.tolist()]
    found = [prices.lookup(m, p) if m is not None else None for m, p in pairs]
    unknown = sorted({m for (m, _), f in zip(pairs, found) if m is not None and f is None})

    def per_row(values: List[float]) -> np.ndarray:
        return np.asarray(values, dtype=float)[rows]

    p_in = per_row([f.input if f else np.nan for f in found])
    p_out = per_row([f.output if f else np.nan for f in found])
    p_cache = per_row([(f.input if f.cached_input is None else f.cached_input) if f else np.nan for f in found])
    in_input = per_row([1.0 if (f is None or f.cached_in_input) else 0.0 for f in found]).astype(bool)
    inp, out, cached = _numbers(table, "input_tokens"), _numbers(table, "output_tokens"), _numbers(table, "cache_read_tokens")
    uncached = np.where(in_input, np.maximum(inp - cached, 0.0), inp)
    cost = (uncached * p_in + cached * p_cache + out * p_out) / 1e6
    mask = per_row([0.0 if f is not None else 1.0 for f in found]).astype(bool)
    # a row with no model and no tokens called no model (a workflow run: its steps did): it
    # cost nothing, rather than an unknown amount
    idle = per_row([1.0 if m is None else 0.0 for m, _ in pairs]).astype(bool) & (inp + out + cached == 0)
    cost, mask = np.where(idle, 0.0, cost), mask & ~idle
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
