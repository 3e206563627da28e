"""A run's own figures and its subtree's: the ``self_*`` and ``cum_*`` columns of ``runs``.

The figures Agno stores with a run mean different things for different runs: an agent
run's are its model calls; a team run's are its leader's calls only (each member is a run
of its own, linked by ``parent_run_id``); a workflow run's add up its steps (agno_nb) or are
missing (Agno 3.1), while its steps are rows of their own. So summing ``total_tokens`` over
runs counts a workflow's calls twice and ranks a workflow that never calls a model.

Here every run gets

- ``self_*``: its own model calls, each counted once over any set of runs: the stored
  figure for agent and team runs; for a workflow run, what is left of its stored figure
  once its nested runs are taken out (0 where its steps are rows, the usual case);
- ``cum_*``: ``self_*`` summed over the run and everything nested under it, at any depth.

Everything is vectorized over the tree's levels (a few: workflow, step, team, member).
"""

from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TOKENS = ("input_tokens", "output_tokens", "total_tokens")
# tokens the price reads (cost.add_cost); the cache counts are part of the input tokens
PRICED = (*TOKENS, "cache_read_tokens")
# what the tree and the self figures are computed from
TREE_INPUTS = ("session_id", "run_id", "parent_run_id", "run_type", *PRICED)
_MAX_DEPTH = 64  # deeper than any real nesting; a parent cycle in bad data stops here


def parents(table: pa.Table) -> np.ndarray:
    """Each row's parent row (-1 for a top-level run, or a parent not in the table)."""
    idx = pc.index_in(table["parent_run_id"], value_set=table["run_id"].combine_chunks())
    out = pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    out[out == np.arange(len(out))] = -1  # a run that names itself as its parent is top-level
    return out


def depths(parent: np.ndarray) -> np.ndarray:
    """Each row's depth under its top-level run (0 for top-level runs)."""
    depth = np.zeros(len(parent), np.int64)
    up = parent.copy()
    for _ in range(_MAX_DEPTH):
        live = up >= 0
        if not live.any():
            break
        depth[live] += 1
        up[live] = parent[up[live]]
    return depth


def subtree_sums(parent: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (rows × k) summed over each row's subtree, deepest level first.

    NaN propagates: a subtree with one unknown value sums to NaN.
    """
    cum = values.astype(float).copy()
    depth = depths(parent)
    for d in range(int(depth.max(initial=0)), 0, -1):
        rows = np.nonzero((depth == d) & (parent >= 0))[0]
        np.add.at(cum, parent[rows], cum[rows])
    return cum


def numbers(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as floats, NULL as 0 (a figure Agno left out is a zero it did not write)."""
    if name not in table.column_names:
        return np.zeros(table.num_rows)
    return pc.fill_null(table[name].cast(pa.float64()), 0.0).to_numpy()


def own_figures(table: pa.Table, parent: np.ndarray, names: Sequence[str] = PRICED) -> Dict[str, np.ndarray]:
    """``self_<name>`` for each of ``names``: the stored figure; for a workflow run, what is left
    of it once the runs nested under it are taken out (never below 0)."""
    if not table.num_rows:
        return {n: np.zeros(0) for n in names}
    stored = np.column_stack([numbers(table, n) for n in names])
    workflow = _is_workflow(table)[:, None]
    # with the workflows' own figures at 0, a workflow's subtree sum is what its nested runs count
    nested = subtree_sums(parent, np.where(workflow, 0.0, stored))
    own = np.where(workflow, np.maximum(stored - nested, 0.0), stored)
    return {n: own[:, i] for i, n in enumerate(names)}


def _is_workflow(table: pa.Table) -> np.ndarray:
    if "run_type" not in table.column_names:
        return np.zeros(table.num_rows, bool)
    return pc.fill_null(pc.equal(table["run_type"], "workflow"), False).to_numpy(zero_copy_only=False)


def as_column(values: np.ndarray, valid: np.ndarray, dtype: pa.DataType) -> pa.Array:
    """A numpy column as Arrow, NULL where ``valid`` is False."""
    if pa.types.is_integer(dtype):
        return pa.array(np.rint(np.nan_to_num(values)).astype(np.int64), dtype, mask=~valid)
    return pa.array(values, dtype, mask=~valid | np.isnan(values))


def set_columns(table: pa.Table, columns: Dict[str, pa.Array]) -> pa.Table:
    """``table`` with these columns replaced (or appended)."""
    for name, values in columns.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, values)
        else:
            table = table.append_column(name, values)
    return table


def rollup_columns(tree: pa.Table, cost: np.ndarray) -> Dict[str, pa.Array]:
    """The self_ and cum_ columns of the runs in ``tree`` (whole sessions), in its row order.

    ``cost``: each run's own cost (NaN where unknown).
    """
    parent = parents(tree)
    own = own_figures(tree, parent, TOKENS)
    stacked = np.column_stack([own[n] for n in TOKENS] + [cost]) if tree.num_rows else np.zeros((0, len(TOKENS) + 1))
    cum = subtree_sums(parent, stacked)
    valid = np.ones(tree.num_rows, bool)
    out: Dict[str, pa.Array] = {}
    for i, n in enumerate(TOKENS):
        out[f"self_{n}"] = as_column(own[n], valid, pa.int64())
        out[f"cum_{n}"] = as_column(cum[:, i], valid, pa.int64())
    out["cum_cost_usd"] = as_column(cum[:, -1], valid, pa.float64())
    return out


def take_by_run(values: Dict[str, pa.Array], tree: pa.Table, table: pa.Table) -> Dict[str, pa.Array]:
    """Columns computed over ``tree``, placed on the rows of ``table`` (matched by run_id)."""
    idx = pc.index_in(table["run_id"], value_set=tree["run_id"].combine_chunks())
    return {name: pc.take(arr, idx) for name, arr in values.items()}


def session_sums(tree: pa.Table, names: List[str]) -> pa.Table:
    """Per session, the sum of each of ``names`` (columns of ``tree``)."""
    return tree.group_by("session_id").aggregate([(n, "sum") for n in names])
