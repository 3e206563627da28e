"""``connect(source)`` → a :class:`SessionExplorer`: the four tables as DataFrames, and SQL."""

from __future__ import annotations

import json
import re
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import CorruptRowError
from .columns import TABLES
from .finite import finite_table
from ..db.codec import storable
from .parse import NOT_JSON, Parser
from .source import Filters, RawRows, SqlSource, source_from

TABLE_NAMES = tuple(TABLES)
# A bar appears only on loads slower than this (seconds): quick loads stay quiet.
PROGRESS_DELAY = 1.0
_ERRORS = ("warn", "raise", "ignore")


def _types_mapper(t: pa.DataType):
    # Arrow-backed strings avoid a Python object per cell; nullable ints and bools keep NULL as NA.
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype("pyarrow")
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    return None


class _Progress:
    """A tqdm bar (notebook-aware) that exists only once a load has run for PROGRESS_DELAY.

    Creating the bar up front, even with tqdm's own ``delay``, would put a widget into
    every notebook output; here quick loads create nothing at all.
    """

    def __init__(self, desc: str, total: int, enabled: bool):
        self.desc, self.total, self.enabled = desc, total, enabled
        self.start = time.perf_counter()
        self.done = 0
        self.bar = None

    def step(self, label: str) -> None:
        self.done += 1
        if self.bar is None and self.enabled and time.perf_counter() - self.start >= PROGRESS_DELAY:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, initial=self.done, desc=self.desc, leave=False)
        if self.bar is not None:
            self.bar.n = self.done
            self.bar.set_postfix_str(label)

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()


def to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_types_mapper)


class SessionExplorer:
    """Read-only access to stored sessions as pandas DataFrames and DuckDB SQL.

    Every call reads the source afresh (agents may be writing to it), with the filters
    pushed down into the source's SQL. Filters, on every table method:
    ``session_ids``, ``user_id``, ``agent_id``, ``team_id``, ``workflow_id``,
    ``session_type``, ``since`` / ``until`` (datetime, date, ISO string or Unix
    seconds; ``until`` exclusive) and ``status``.

    Rows that cannot be decoded are skipped with one warning naming their session_id
    and run_id (``errors="warn"``, the default), or raise :class:`CorruptRowError`
    (``errors="raise"``). A progress bar appears on loads that take over a second
    (``progress=False`` turns it off).
    """

    def __init__(self, source: Any, *, session_table: Optional[str] = None, runs_table: Optional[str] = None,
                 db_schema: Optional[str] = None, engine: str = "auto", progress: bool = True,
                 errors: str = "warn"):
        if errors not in _ERRORS:
            raise ValueError(f"errors must be one of {_ERRORS}; got {errors!r}")
        self.source = source_from(source, session_table=session_table, runs_table=runs_table,
                                  db_schema=db_schema, engine=engine)
        if isinstance(self.source, SqlSource):
            self.source.layout()  # fail now, with a clear message, on a wrong path or table
        self.progress = progress
        self.errors = errors
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SessionExplorer({self.source!r})"

    # -- loading ---------------------------------------------------------------------------

    def _arrow(self, name: str, filters: Dict[str, Any], errors: Optional[str] = None,
               progress: Optional[bool] = None, derive: bool = True) -> pa.Table:
        if name not in TABLES:
            raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}")
        f = Filters.build(**filters)
        errors = errors or self.errors
        show = self.progress if progress is None else progress
        with self._lock, _Progress(f"agno_nb: {name}", 2, show) as bar:
            if isinstance(self.source, SqlSource):
                raw = self.source.fetch(f, run_data=name != "sessions")
                bar.step("parsing")
                table, problems = Parser(self.con).build(raw, f, name)
                table, problems = self._repair(table, problems, f, name)
            else:
                table, problems = self.source.load(self.con, name, f), []
            table = finite_table(table, TABLES[name])
            bar.step("done")
        self._report(problems, errors)
        if derive:  # cost_usd and flags (agno_nb.analysis.derived)
            from .derived import derive as fill

            table = fill(self, name, table, filters)
        return table

    def _repair(self, table: pa.Table, problems: List[Dict[str, Any]], f: Filters,
                name: str) -> Tuple[pa.Table, List[Dict[str, Any]]]:
        """Load again the rows DuckDB refused that are valid JSON after all.

        DuckDB's JSON reader rejects a lone UTF-16 surrogate escape (``"\\ud800"``), which
        Python reads and Agno writes. Such rows are decoded in Python, their lone
        surrogates become U+FFFD, and their sessions go through the same parse again
        (whole sessions, so the order of runs and messages within them is kept).
        """
        suspects = {p["run_id"] for p in problems if p["run_id"] and p["error"] == NOT_JSON}
        if not suspects or name == "sessions":
            return table, problems
        sessions = sorted({p["session_id"] for p in problems if p["run_id"] in suspects})
        raw = self.source.fetch(Filters(**{**vars(f), "session_ids": sessions}))
        runs, fixed = raw.runs, set()
        texts = runs["run_data"].to_pylist()
        for i, (run_id, text) in enumerate(zip(runs["run_id"].to_pylist(), texts)):
            if run_id in suspects:
                try:
                    texts[i] = json.dumps(storable(json.loads(text), nul=False))
                    fixed.add(run_id)
                except (TypeError, ValueError):
                    pass  # really broken: stays reported
        if not fixed:
            return table, problems
        runs = runs.set_column(runs.schema.get_field_index("run_data"), "run_data", pa.array(texts, pa.string()))
        extra, more = Parser(self.con).build(RawRows(sessions=raw.sessions, runs=runs, legacy=False), f, name)
        others = table.filter(pc.invert(pc.is_in(table["session_id"], pa.array(sessions, pa.string()))))
        rest = [p for p in problems if p["session_id"] not in sessions]
        return pa.concat_tables([others, extra.cast(table.schema)]), rest + more

    def _report(self, problems: List[Dict[str, Any]], errors: str) -> None:
        if not problems or errors == "ignore":
            return
        where = self.source.describe() if hasattr(self.source, "describe") else str(self.source)
        if errors == "raise":
            p = problems[0]
            raise CorruptRowError(p["error"], table=where, session_id=p["session_id"], run_id=p["run_id"])
        listed = "; ".join(f"session_id={p['session_id']!r} run_id={p['run_id']!r}: {p['error']}" for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        warnings.warn(f"skipped {len(problems)} bad row(s) in {where}: {listed}{more}. "
                      "Pass errors='raise' to stop at the first one.", RuntimeWarning, stacklevel=4)

    # -- the four tables -------------------------------------------------------------------

    def sessions(self, **filters: Any) -> pd.DataFrame:
        """One row per session (see ``agno_nb.describe('sessions')`` for the columns)."""
        return to_pandas(self._arrow("sessions", filters))

    def runs(self, **filters: Any) -> pd.DataFrame:
        """One row per run, member runs and workflow step runs included."""
        return to_pandas(self._arrow("runs", filters))

    def messages(self, **filters: Any) -> pd.DataFrame:
        """One row per message, in order within each run (``message_index``)."""
        return to_pandas(self._arrow("messages", filters))

    def tool_calls(self, **filters: Any) -> pd.DataFrame:
        """One row per tool execution, with its arguments, result and error state."""
        return to_pandas(self._arrow("tool_calls", filters))

    def table(self, name: str, **filters: Any) -> pd.DataFrame:
        """Any of the four tables by name."""
        return to_pandas(self._arrow(name, filters))

    def flags(self, flags: Optional[Sequence[str]] = None, **kwargs: Any) -> pd.DataFrame:
        """Pathology flags, one row per finding: session_id, run_id, flag, detail, message_index.

        ``flags=[...]`` picks some; thresholds (``loop_min_calls=3``, ``context_tokens=100_000``,
        ``latency_mads=3.0``, ``latency_min_runs=5``) go with the filters. See
        ``agno_nb.describe("flags")`` and :mod:`agno_nb.analysis.flags`.
        """
        from .derived import findings_for, split_flag_kwargs

        filters, params = split_flag_kwargs(kwargs)
        return findings_for(self, filters, only=flags, **params)

    # -- SQL -------------------------------------------------------------------------------

    def relation(self, name: str, **filters: Any) -> duckdb.DuckDBPyRelation:
        """The table as a DuckDB relation, for lazy work (``.filter``, ``.aggregate``, ``.df()``)."""
        table = self._arrow(name, filters)
        with self._lock:
            self.con.register(name, table)
            return self.con.table(name)

    def sql(self, query: str, params: Optional[Union[Sequence[Any], Dict[str, Any]]] = None) -> pd.DataFrame:
        """Run DuckDB SQL over the views ``sessions``, ``runs``, ``messages``, ``tool_calls``.

        Values go in ``params`` (``?`` or ``$name`` placeholders), never into the query text.
        Only the tables the query names are loaded.
        """
        with self._lock:
            for name in referenced_tables(query):
                self.con.register(name, self._arrow(name, {}))
            return to_pandas(self.con.sql(query, params=params).to_arrow_table())

    # -- export ----------------------------------------------------------------------------

    def to_parquet(self, path: Union[str, Path], partition_by: Sequence[str] = ("agent_id", "date"),
                   **filters: Any) -> Path:
        """Write the four tables as hive-partitioned Parquet under ``path/<table>/``.

        ``date`` is the UTC day of ``created_at``. Read it back with
        ``agno_nb.connect(path)``, or with DuckDB, Polars, Spark or Trino.
        """
        from .parquet import write_parquet

        return write_parquet(self, Path(path), partition_by, filters)


def referenced_tables(query: str) -> List[str]:
    words = set(re.findall(r"[A-Za-z_]+", query.lower()))
    return [name for name in TABLE_NAMES if name in words]


def connect(source: Any, session_table: Optional[str] = None, runs_table: Optional[str] = None,
            db_schema: Optional[str] = None, **kwargs: Any) -> SessionExplorer:
    """Open stored sessions for analysis: a SQLite path, a database URL
    (``sqlite:///…``, ``postgresql+psycopg://…``), a ``SqliteDb``/``PostgresDb``, a folder
    written by :meth:`SessionExplorer.to_parquet`, or a ``SessionExplorer`` (returned as is).
    """
    if isinstance(source, SessionExplorer):
        return source
    return SessionExplorer(source, session_table=session_table, runs_table=runs_table, db_schema=db_schema, **kwargs)


def _shortcut(name: str):
    def load(source: Any, **filters: Any) -> pd.DataFrame:
        opts = {k: filters.pop(k) for k in ("session_table", "runs_table", "db_schema", "engine", "progress", "errors")
                if k in filters}
        return connect(source, **opts).table(name, **filters)

    load.__name__ = f"{name}_df"
    load.__doc__ = f"``connect(source).{name}(**filters)`` in one call."
    return load


sessions_df = _shortcut("sessions")
runs_df = _shortcut("runs")
messages_df = _shortcut("messages")
tool_calls_df = _shortcut("tool_calls")
