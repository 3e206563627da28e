"""Agno's rules for reading sessions and runs: merging, filtering, ordering, paging.

Pure functions over SQLAlchemy constructs and run dicts, shared by the read methods
of :class:`~agno_nb.db.base.BaseDb`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import Table, func

from .enums import HISTORY_SKIP_STATUSES, SessionType, plain


def merge_run_dicts(legacy: List[Dict[str, Any]], table: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Runs from a legacy ``runs`` column merged with runs-table rows; the table's copy wins on run_id."""
    by_id = {r.get("run_id"): r for r in table}
    merged = [by_id.pop(r.get("run_id"), r) for r in legacy]
    return merged + [r for r in table if r.get("run_id") in by_id]


def context_runs(runs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Runs that count for a conversation's context, as Agno's ``runs_limit`` counts them."""
    return [r for r in runs if r.get("parent_run_id") is None and plain(r.get("status")) not in HISTORY_SKIP_STATUSES]


def run_type_of(data: Mapping) -> str:
    """``agent``, ``team`` or ``workflow`` for a run dict (the runs table's ``run_type``)."""
    agent, team, workflow = data.get("agent_id"), data.get("team_id"), data.get("workflow_id")
    if workflow is not None and agent is None and team is None:
        return "workflow"
    if team is not None and agent is None:
        return "team"
    return "agent"


def session_type_value(session_type: Any) -> Optional[str]:
    """A ``SessionType`` (ours or Agno's) or string as ``agent``/``team``/``workflow``; None stays None."""
    value = plain(session_type)
    if value is None:
        return None
    try:
        return SessionType(value.lower()).value
    except ValueError:
        raise ValueError(f"session_type must be one of agent, team, workflow (or a SessionType); got {session_type!r}") from None


def check_pagination(limit: Optional[int], page: Optional[int]) -> None:
    """Agno's rule: ``page`` needs ``limit`` and counts from 1."""
    if page is not None and limit is None:
        raise ValueError("page was given without limit: pass both to paginate, or neither to fetch all rows")
    if page is not None and int(page) < 1:
        raise ValueError(f"page counts from 1; got {page!r}")
    if limit is not None and int(limit) < 0:
        raise ValueError(f"limit must be 0 or more; got {limit!r}")


def sort_desc(sort_order: Optional[str]) -> bool:
    order = (sort_order or "desc").lower()
    if order not in ("asc", "desc"):
        raise ValueError(f"sort_order must be 'asc' or 'desc'; got {sort_order!r}")
    return order == "desc"


def ordering(table: Table, sort_by: str, sort_order: Optional[str], allowed: Sequence[str]) -> List[Any]:
    """ORDER BY terms: ``sort_by`` (checked against ``allowed``), then the primary key for a stable order."""
    if sort_by not in allowed:
        raise ValueError(f"sort_by must be one of {', '.join(allowed)}; got {sort_by!r}")
    desc = sort_desc(sort_order)
    # As Agno: a row never updated sorts by its creation time.
    col = func.coalesce(table.c.updated_at, table.c.created_at) if sort_by == "updated_at" else table.c[sort_by]
    key = list(table.primary_key.columns)[0]
    return [col.desc() if desc else col.asc(), key.asc()]


def paged(query: Any, limit: Optional[int], page: Optional[int]) -> Any:
    if limit is None:
        return query
    query = query.limit(int(limit))
    return query.offset((int(page) - 1) * int(limit)) if page is not None else query
