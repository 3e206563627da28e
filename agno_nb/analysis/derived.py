"""The columns filled in after a load: ``cost_usd`` (runs, messages, sessions), ``flags`` (runs),
the runs' ``self_*``/``cum_*`` figures (:mod:`agno_nb.analysis.rollup`) and the sessions' ``runs_*`` sums.

They are declared with the others in :mod:`agno_nb.analysis.columns`; the load's SQL gives
them as typed NULLs, and :func:`derive` replaces them here, because prices can be set at
any time (:mod:`agno_nb.prices`) and flags compare a run with others and read its tool
calls and messages (:mod:`agno_nb.analysis.flags`).
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .cost import COST, add_cost, session_cost, unknown_note
from .flags import RUN_FIELDS, RUN_INPUTS, find_flags, flag_lists, thresholds
from .rollup import (TOKENS, TREE_INPUTS, own_figures, parents, rollup_columns, session_sums, set_columns,
                     take_by_run)
from .filters import Filters
from .raw import COUNT_SCHEMA

# the flags' inputs, parsed with the runs (see parse.Parser._runs and flags.RUN_INPUTS)
HIDDEN = tuple(f"_{k}" for k in RUN_INPUTS)


def derive(ex: Any, name: str, table: pa.Table, filters: Dict[str, Any], runs: Optional[pa.Table] = None) -> pa.Table:
    """``table`` (as just loaded by ``ex``) with its derived columns filled in.

    ``runs``: for sessions, their runs' cost inputs when already read (:func:`runs_for_sessions`).
    """
    unknown = []
    if name == "messages":
        table, unknown = add_cost(table)
    elif name == "runs":
        if set(filters) <= _WHOLE_SESSIONS or not _has_figures(table):
            tree = table if set(filters) <= _WHOLE_SESSIONS else _session_runs(ex, table)
            tree, unknown = priced_runs(tree)
            table = set_columns(table, take_by_run(run_figures(tree), tree, table))
        else:
            # a Parquet export's rows carry the figures of their whole trees, as exported: the
            # other runs of their sessions are not read (a filter reads its folders only); the
            # own cost is priced again with today's prices, cum_cost_usd stays as exported
            table, unknown = _price_own(table)
    elif name == "sessions":
        ids = table["session_id"].to_pylist()
        if runs is None and ids:
            runs = _load(ex, "runs", {"session_ids": ids} if filters else {}, columns=COST_INPUTS)
        if runs is not None:
            runs, unknown = priced_runs(runs)
            table = session_cost(table, runs)
            table = session_run_sums(table, runs)
    if name == "runs":
        findings = findings_for(ex, filters, runs=table)
        table = table.set_column(table.column_names.index("flags"), "flags", flag_lists(table["run_id"], findings))
    table = table.drop_columns([c for c in HIDDEN if c in table.column_names])
    # At most one note per load, naming the models without a price that this explorer
    # has not named before: a notebook that loads ten times is told once.
    noted = ex.__dict__.setdefault("_unpriced_noted", set())
    new = [m for m in unknown if m not in noted]
    if new:
        noted.update(new)
        warnings.warn(unknown_note(new), RuntimeWarning, stacklevel=4)
    return table


# what a run's cost_usd and its self_/cum_ figures are computed from (a sessions load reads only
# these of every run)
COST_INPUTS = (*TREE_INPUTS, "model", "model_provider")
# filters that select whole sessions, so whole run trees: the runs loaded are the tree
_WHOLE_SESSIONS = {"session_ids"}


def _session_runs(ex: Any, table: pa.Table) -> pa.Table:
    """Every run of the sessions of ``table``'s runs: a filter (agent_id=, since=, ...) may have
    left out the members or steps a run's cum_ figures add up."""
    ids = pc.unique(table["session_id"]).to_pylist()
    return _load(ex, "runs", {"session_ids": ids}, columns=COST_INPUTS) if ids else table


def _has_figures(table: pa.Table) -> bool:
    """The runs already carry their self_ figures (read from an export, not parsed)."""
    return "self_total_tokens" in table.column_names and table["self_total_tokens"].null_count == 0


def _price_own(runs: pa.Table) -> Tuple[pa.Table, List[str]]:
    """``cost_usd`` from the runs' stored self_ tokens."""
    own = {n: runs[f"self_{n}"] for n in TOKENS if f"self_{n}" in runs.column_names}
    base = runs.select([c for c in ("model", "model_provider", "cache_read_tokens") if c in runs.column_names])
    priced, unknown = add_cost(set_columns(base, own))
    return set_columns(runs, {COST: priced[COST]}), unknown


def priced_runs(runs: pa.Table) -> Tuple[pa.Table, List[str]]:
    """Runs (whole sessions) with ``cost_usd`` of their own model calls (``self_`` tokens priced)
    and their ``self_`` tokens; also the models without a price."""
    own = own_figures(runs, parents(runs))
    priced, unknown = add_cost(set_columns(runs.select([c for c in ("model", "model_provider") if c in runs.column_names]),
                                           {n: pa.array(v) for n, v in own.items()}))
    cost = priced[COST]
    return set_columns(runs, {COST: cost, **{f"self_{n}": pa.array(v) for n, v in own.items()}}), unknown


def run_figures(priced: pa.Table) -> Dict[str, pa.Array]:
    """``cost_usd`` and the self_/cum_ columns of runs priced by :func:`priced_runs`."""
    cost = pc.fill_null(priced[COST].cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    return {COST: priced[COST].combine_chunks(), **rollup_columns(priced, cost)}


def session_run_sums(sessions: pa.Table, priced: pa.Table) -> pa.Table:
    """``sessions`` with ``runs_*_tokens``: their runs' self_ tokens added up."""
    names = [f"self_{n}" for n in TOKENS]
    sums = session_sums(priced, names)
    idx = pc.index_in(sessions["session_id"], value_set=sums["session_id"])
    return set_columns(sessions, {f"runs_{n}": pc.take(sums[f"self_{n}_sum"], idx).cast(pa.int64())
                                  for n in TOKENS})


def runs_for_sessions(ex: Any) -> Tuple[pa.Table, pa.Table]:
    """Every run's cost inputs, and the top-level runs per session (``source.COUNT_SCHEMA``), from
    one read of the runs. A run whose JSON is bad counts (as in the SQL count), costs nothing."""
    from .columns import TABLES
    from .parse import Parser, row_columns

    columns = [c for c in TABLES["runs"] if c.name in COST_INPUTS]
    f = Filters()
    raw = ex.source.fetch(f, row_columns=row_columns("runs", columns, f))
    runs, problems = Parser(ex.con).build(raw, f, "runs", columns)
    runs, problems = ex._repair(runs, problems, f, "runs", columns)
    top = runs.filter(pc.is_null(runs["parent_run_id"])).select(["session_id"])
    bad = [p["session_id"] for p in problems if p.get("parent_run_id", 0) is None]
    if bad:
        top = pa.concat_tables([top, pa.table({"session_id": pa.array(bad, top.schema.field(0).type)})])
    counts = top.group_by("session_id").aggregate([([], "count_all")]).rename_columns(["session_id", "n"])
    return runs, counts.cast(COUNT_SCHEMA)


def _load(ex: Any, name: str, filters: Dict[str, Any], columns: Optional[Sequence[str]] = None) -> pa.Table:
    # bad rows were reported (or raised) by the load the user asked for: not again here
    return ex._arrow(name, filters, errors="ignore", derive=False, columns=columns)


def split_flag_kwargs(kwargs: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """``ex.flags()``'s keywords as (filters, thresholds); a TypeError for anything else."""
    filters = list(inspect.signature(Filters.build).parameters)
    known = thresholds()
    unknown = [k for k in kwargs if k not in known and k not in filters]
    if unknown:
        raise TypeError(f"flags() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                        f"its filters are {', '.join(filters)}; its thresholds are "
                        f"{', '.join(f'{k}={v!r}' for k, v in known.items())}")
    return ({k: v for k, v in kwargs.items() if k not in known}, {k: v for k, v in kwargs.items() if k in known})


def findings_for(ex: Any, filters: Dict[str, Any], only: Optional[Sequence[str]] = None,
                 runs: Optional[pa.Table] = None, **params: Any) -> pd.DataFrame:
    """``ex.flags()``: the findings over the runs the filters select."""
    from .frames import to_pandas

    runs = runs if runs is not None else ex._arrow("runs", filters, derive=False)
    if all(c in runs.column_names for c in HIDDEN):  # parsed with the runs: no second read
        # the finders read tool messages (which call each answers) and messages with a
        # finish_reason (cut-off answers): the others are left out before they become rows
        tools, messages = _items(runs, "_tools"), _items(runs, "_messages", keep=lambda t: pc.or_kleene(
            pc.equal(t["role"], "tool"), pc.is_valid(t["provider_data.finish_reason"])))
        messages = messages.rename(columns={"provider_data.finish_reason": "finish_reason",
                                            "metrics.output_tokens": "output_tokens"})
        runs = runs.drop_columns(list(HIDDEN))
    else:  # a Parquet export: its tables as written
        tools, messages = to_pandas(_load(ex, "tool_calls", filters)), to_pandas(_load(ex, "messages", filters))
    wanted = [c for c in RUN_FIELDS if c in runs.column_names]  # not the long text columns
    return find_flags(to_pandas(runs.select(wanted)), tools, messages, only=only, **params)


def _items(runs: pa.Table, column: str, keep: Optional[Callable[[pa.Table], Any]] = None) -> pd.DataFrame:
    """A hidden list column as rows: session_id, run_id, message_index (position in the list),
    then the items' fields, nested ones as ``parent.child``; ``keep``: a row mask over those."""
    from .frames import to_pandas

    lists = runs[column].combine_chunks()
    parents = pc.list_parent_indices(lists)
    flat = pc.list_flatten(lists)
    offsets = lists.offsets.to_numpy()
    index = pa.array(np.arange(len(flat)) + offsets[0] - offsets[parents.to_numpy()], pa.int64())
    fields = pa.table(_leaves(flat))
    if keep is not None and len(flat):
        # the mask first, so the run ids are copied only to the rows kept
        mask = keep(fields)
        fields, parents, index = fields.filter(mask), parents.filter(mask), index.filter(mask)
    columns = {"session_id": pc.take(runs["session_id"], parents), "run_id": pc.take(runs["run_id"], parents),
               "message_index": index, **{name: fields[name] for name in fields.column_names}}
    return to_pandas(pa.table(columns))


def _leaves(struct: pa.StructArray, prefix: str = "") -> Dict[str, pa.Array]:
    out: Dict[str, pa.Array] = {}
    for field, arr in zip(struct.type, struct.flatten()):
        if pa.types.is_struct(field.type):
            out.update(_leaves(arr, f"{prefix}{field.name}."))
        else:
            out[prefix + field.name] = arr
    return out
