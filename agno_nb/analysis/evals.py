"""Agno's own eval runs (``agno_eval_runs``), read-only, as a DataFrame.

Agno's evals (``AccuracyEval``, ``AgentAsJudgeEval``, ``PerformanceEval``,
``ReliabilityEval``) given a ``db`` write one row per eval run into its eval table
(``agno_eval_runs`` unless ``eval_table=`` named another), in the same database and
schema as the sessions. The columns are ``describe("evals")``. A source without that
table gives an empty DataFrame with the same columns: "no evals" is an answer, not an
error. The table is one of the registered stored tables (:mod:`agno_nb.analysis.stored`),
read by the same reader as traces, approvals and the others.
"""

from __future__ import annotations

from typing import Any, Optional

import pyarrow as pa

from .stored import STORED, empty as _empty_table, read_stored

DEFAULT_EVAL_TABLE = STORED["evals"].default_table  # agno.db.base.BaseDb's default eval_table


def empty() -> pa.Table:
    """No eval runs: the declared columns and types."""
    return _empty_table("evals")


def read_evals(source: Any, table: Optional[str] = None) -> pa.Table:
    """The eval runs of ``source``'s database (its sessions' schema), oldest first."""
    return read_stored(source, "evals", table=table)
