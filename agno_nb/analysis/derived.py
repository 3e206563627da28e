"""The columns filled in after a load: ``cost_usd`` (runs, messages, sessions) and ``flags`` (runs).

They are declared with the others in :mod:`agno_nb.analysis.columns`; the load's SQL gives
them as typed NULLs, and :func:`derive` replaces them here, because prices can be set at
any time (:mod:`agno_nb.prices`) and flags compare a run with others and read its tool
calls and messages (:mod:`agno_nb.analysis.flags`).
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, Optional, Sequence

import pandas as pd
import pyarrow as pa

from .cost import add_cost, session_cost, unknown_note
from .flags import find_flags, flag_lists


def derive(ex: Any, name: str, table: pa.Table, filters: Dict[str, Any]) -> pa.Table:
    """``table`` (as just loaded by ``ex``) with its derived columns filled in."""
    unknown = []
    if name in ("runs", "messages"):
        table, unknown = add_cost(table)
    elif name == "sessions":
        ids = table["session_id"].to_pylist()
        runs = ex._arrow("runs", {"session_ids": ids} if filters else {}, derive=False) if ids else None
        if runs is not None:
            runs, unknown = add_cost(runs)
            table = session_cost(table, runs)
    if name == "runs":
        findings = findings_for(ex, filters, runs=table)
        lists = flag_lists(table["run_id"].to_pylist(), findings)
        table = table.set_column(table.column_names.index("flags"), "flags", pa.array(lists, pa.list_(pa.string())))
    if unknown:
        # one note per load, naming every model without a price
        warnings.warn(unknown_note(unknown), RuntimeWarning, stacklevel=5)
    return table


def findings_for(ex: Any, filters: Dict[str, Any], only: Optional[Sequence[str]] = None,
                 runs: Optional[pa.Table] = None, **params: Any) -> pd.DataFrame:
    """``ex.flags()``: the findings over the runs the filters select."""
    from .explorer import to_pandas

    run_df = to_pandas(runs if runs is not None else ex._arrow("runs", filters, derive=False))
    tools = to_pandas(ex._arrow("tool_calls", filters, derive=False))
    messages = to_pandas(ex._arrow("messages", filters, derive=False))
    return find_flags(run_df, tools, messages, only=only, **params)
