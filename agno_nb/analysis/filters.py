"""The row filters every table method takes, declared and applied once for every source.

:class:`Filters` holds them (values only: every one is bound as a parameter, never pasted
into SQL). Which table each filter reads is declared here once: a table's own column when it
has one, else its run (messages, tool calls) or its session's runs (sessions), and
``session_type`` always through the session. The SQL databases push these declarations down
into their SQLAlchemy queries (:mod:`.source`); the file sources (a Parquet export, OTLP
trace files) apply :func:`duckdb_condition`, one DuckDB condition over their tables, and
:func:`filter_arrow` applies it to Arrow tables held in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import pyarrow as pa

# every filter, in the order the table methods document them
FILTER_NAMES = ("session_ids", "user_id", "agent_id", "team_id", "workflow_id", "session_type", "since", "until",
                "status", "model")
# the filters that test one value for equality
EQUALITY_FILTERS = ("user_id", "agent_id", "team_id", "workflow_id", "status", "session_type", "model")
# the equality filters on a session row's own columns (the others read its runs)
SESSION_ROW_FILTERS = ("user_id", "agent_id", "team_id", "workflow_id", "session_type")
# the equality filters on a run row's own columns (model is inside the run's JSON on the databases;
# session_type is its session's)
RUN_ROW_FILTERS = ("user_id", "agent_id", "team_id", "workflow_id", "status")


@dataclass
class Filters:
    """Row filters, pushed down to the source; every value is a bound parameter."""

    session_ids: Optional[Sequence[str]] = None
    user_id: Optional[str] = None
    agent_id: Optional[str] = None
    team_id: Optional[str] = None
    workflow_id: Optional[str] = None
    session_type: Optional[str] = None
    since: Optional[int] = None  # Unix seconds, inclusive
    until: Optional[int] = None  # Unix seconds, exclusive
    status: Optional[str] = None
    model: Optional[str] = None  # the run's model id (``model`` in its JSON)

    @classmethod
    def build(cls, session_ids=None, user_id=None, agent_id=None, team_id=None, workflow_id=None,
              session_type=None, since=None, until=None, status=None, model=None) -> "Filters":
        if isinstance(session_ids, str):
            session_ids = [session_ids]
        return cls(
            session_ids=list(session_ids) if session_ids is not None else None,
            user_id=user_id, agent_id=agent_id, team_id=team_id, workflow_id=workflow_id,
            session_type=session_type, since=to_unix(since, "since"), until=to_unix(until, "until"),
            status=status.upper() if isinstance(status, str) else status, model=model,
        )

    def any(self) -> bool:
        return any(v is not None for v in vars(self).values())


def to_unix(value: Any, what: str) -> Optional[int]:
    """A datetime, date, ISO string or number of seconds as Unix seconds (naive = UTC)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what}={value!r} is not an ISO date or datetime (e.g. '2026-11-01')") from None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return int(value.timestamp())
    raise TypeError(f"{what} must be a datetime, date, ISO string or Unix seconds; got {type(value).__name__}")


def filter_names() -> List[str]:
    """The keyword filters every table method takes (those of ``Filters.build``)."""
    return list(FILTER_NAMES)


def check_filters(method: str, filters: Mapping[str, Any]) -> None:
    """A TypeError naming ``method`` and the filters it takes, for any other keyword."""
    unknown = [k for k in filters if k not in FILTER_NAMES]
    if unknown:
        listed = ", ".join(repr(k) for k in unknown)
        raise TypeError(f"{method} got unexpected keyword argument{'s' if len(unknown) > 1 else ''} {listed}; "
                        f"its filters are: {', '.join(FILTER_NAMES)} (besides columns=, where= and params=)")


def duckdb_condition(name: str, columns: Sequence[str], f: Filters, scan: Callable[[str], str],
                     labels: Optional[Mapping[str, str]] = None) -> Tuple[str, List[Any]]:
    """The filters ``f`` on the table ``name`` (with ``columns``) as one DuckDB condition ("" if none).

    ``scan(table)`` is the SQL that reads ``sessions`` or ``runs`` (a registered name or a
    ``read_parquet``); ``labels``: column -> a partition label holding the same value, tested
    too so that DuckDB skips the other folders unopened. ``created_at`` is a timestamp.
    """
    conds: List[str] = []
    params: List[Any] = []
    if f.session_ids is not None:
        conds.append("list_contains(?::VARCHAR[], session_id)")
        params.append(list(f.session_ids))
    for key in EQUALITY_FILTERS:
        value = getattr(f, key)
        if value is None:
            continue
        params.append(value)
        if key in columns:
            conds.append(f'"{key}" = ?')
            if labels and key in labels:
                conds.append(f'"{labels[key]}" = ?')
                params.append(value)
        elif key == "session_type":  # a column of sessions only
            conds.append(f"session_id IN (SELECT session_id FROM {scan('sessions')} WHERE session_type = ?)")
        elif "run_id" in columns:  # messages, tool_calls: by their run
            conds.append(f"run_id IN (SELECT run_id FROM {scan('runs')} WHERE {key} = ?)")
        else:  # sessions: those with a run that matches
            conds.append(f"session_id IN (SELECT session_id FROM {scan('runs')} WHERE {key} = ?)")
    if f.since is not None:
        conds.append("created_at >= to_timestamp(?)")
        params.append(f.since)
    if f.until is not None:
        conds.append("created_at < to_timestamp(?)")
        params.append(f.until)
    return " AND ".join(conds), params


def filter_arrow(tables: Mapping[str, pa.Table], name: str, f: Filters) -> pa.Table:
    """``tables[name]`` with the rows that pass ``f`` (in their order); ``tables`` holds sessions and runs too."""
    table = tables[name]
    if not f.any():
        return table
    import duckdb

    scans: Dict[str, str] = {}
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for t in ("sessions", "runs"):
            scans[t] = f"_f_{t}"
            con.register(scans[t], tables[t])
        # the row's position goes with it: the kept rows are taken in their order
        con.register("_f_target", table.append_column("__i", pa.array(range(table.num_rows), pa.int64())))
        where, params = duckdb_condition(name, table.column_names, f, scans.__getitem__)
        rows = con.sql(f"SELECT __i FROM _f_target WHERE {where} ORDER BY __i", params=params).to_arrow_table()["__i"]
    return table.take(rows)
