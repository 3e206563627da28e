"""Reading the stored rows, read-only, into Arrow tables.

The rows are fetched with filters pushed down into the source's SQL (bound, never
pasted), through Apache Arrow's ADBC drivers (SQLite in the default install,
PostgreSQL with the ``postgres`` extra) or, where a driver is missing, through
SQLAlchemy. Both paths are tested. MySQL and MariaDB are read through SQLAlchemy
(PyMySQL, the ``mysql`` extra). Nothing here writes: SQLite is opened with
``mode=ro``, PostgreSQL and MySQL in a ``READ ONLY`` transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import urllib.parse
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..db.schema import DEFAULT_SESSION_TABLE, check_identifier, default_runs_table
from ..errors import DatabaseUnreachableError

SESSION_ROW = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
               "session_data", "summary", "created_at", "updated_at")
RUN_ROW = ("run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id",
           "parent_run_id", "status", "run_index", "run_data", "created_at")
_JSON_ROW = ("session_data", "summary", "runs", "run_data")
_MYSQL = ("mysql", "mariadb")  # backend names of MySQL and MariaDB URLs
_MYSQL_DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}
RUN_SCHEMA = pa.schema([(c, pa.int64() if c in ("run_index", "created_at") else pa.string()) for c in RUN_ROW])
COUNT_SCHEMA = pa.schema([("session_id", pa.string()), ("n", pa.int64())])
SESSION_SCHEMA = pa.schema(
    [(c, pa.int64() if c in ("created_at", "updated_at") else pa.string()) for c in SESSION_ROW] + [("runs", pa.string())])


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

    @classmethod
    def build(cls, session_ids=None, user_id=None, agent_id=None, team_id=None, workflow_id=None,
              session_type=None, since=None, until=None, status=None) -> "Filters":
        if isinstance(session_ids, str):
            session_ids = [session_ids]
        return cls(
            session_ids=list(session_ids) if session_ids is not None else None,
            user_id=user_id, agent_id=agent_id, team_id=team_id, workflow_id=workflow_id,
            session_type=session_type, since=to_unix(since, "since"), until=to_unix(until, "until"),
            status=status.upper() if isinstance(status, str) else status,
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


class RawRows:
    """What a load fetched: session rows, run rows (3.x table), and the layout.

    The run rows may still be streaming from the database (``pending_stream``): the parser
    takes them with :meth:`take_runs_stream` for one pass, so the whole runs table is never
    held in memory; reading ``runs`` instead reads the stream whole. Session rows a load does
    not need may be left unread (``sessions_pending``) until ``sessions`` is read.
    :meth:`close` ends the database read (the parser calls it; it is safe to call twice).
    """

    def __init__(self, sessions: Optional[pa.Table] = None, runs: Optional[pa.Table] = None, legacy: bool = False,
                 *, runs_stream: Optional[pa.RecordBatchReader] = None, load_sessions=None, closer=None,
                 has_workflows: Optional[bool] = None, run_counts: Optional[pa.Table] = None):
        self._sessions = sessions
        self.run_counts = run_counts  # COUNT_SCHEMA: top-level runs per session, when only counted
        self._runs = runs
        self.legacy = legacy  # sessions carry Agno 2.x's runs column
        self.has_workflows = has_workflows  # None: not known without reading the runs
        self._stream = runs_stream
        self._load_sessions = load_sessions
        self._closer = closer

    @property
    def sessions(self) -> pa.Table:
        if self._sessions is None:
            self._sessions = self._load_sessions() if self._load_sessions is not None else SESSION_SCHEMA.empty_table()
        return self._sessions

    @property
    def sessions_pending(self) -> bool:
        return self._sessions is None

    @property
    def runs(self) -> pa.Table:
        if self._runs is None:
            stream = self.take_runs_stream()
            try:
                self._runs = stream.read_all() if stream is not None else RUN_SCHEMA.empty_table()
            finally:
                self.close()
        return self._runs

    @property
    def pending_stream(self) -> bool:
        return self._stream is not None

    def take_runs_stream(self) -> Optional[pa.RecordBatchReader]:
        """The run rows as a one-pass stream of RUN_SCHEMA batches (None once taken or when read whole)."""
        stream, self._stream = self._stream, None
        return stream

    def close(self) -> None:
        closer, self._closer = self._closer, None
        self._stream = None
        if closer is not None:
            closer()

    def __del__(self):  # a stream left unread still holds a database connection
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to report to at interpreter exit
            pass


class SqlSource:
    """A SQLite file or a PostgreSQL database holding Agno's session tables."""

    def __init__(self, url: sa.URL, *, session_table: Optional[str] = None, runs_table: Optional[str] = None,
                 db_schema: Optional[str] = None, engine: str = "auto"):
        self.url = url
        self.backend = url.get_backend_name()
        self.session_table = check_identifier(session_table or DEFAULT_SESSION_TABLE, "session_table")
        self.runs_table = check_identifier(runs_table or default_runs_table(self.session_table), "runs_table")
        self.db_schema = check_identifier(db_schema, "db_schema")
        if self.backend in ("postgresql", *_MYSQL) and self.db_schema is None:
            self.db_schema = "ai"  # Agno's default schema (on MySQL: database)
        if engine not in ("auto", "adbc", "sqlalchemy"):
            raise ValueError(f"engine must be 'auto', 'adbc' or 'sqlalchemy'; got {engine!r}")
        if engine == "adbc" and self.backend in _MYSQL:
            raise ValueError("engine='adbc' reads SQLite and PostgreSQL; MySQL is read with engine='sqlalchemy'")
        self.engine = "adbc" if engine == "auto" and _adbc_available(self.backend) else (
            "sqlalchemy" if engine == "auto" else engine)
        self._layout: Optional[Tuple[bool, bool, bool]] = None

    # -- where -----------------------------------------------------------------------------

    @property
    def path(self) -> Optional[str]:
        return self.url.database if self.backend == "sqlite" else None

    def _ro_uri(self) -> str:
        """A read-only SQLite URI for the file (a path may hold '?', '#' or '%')."""
        return f"file:{urllib.parse.quote(self.path)}?mode=ro"

    def describe(self) -> str:
        if self.backend == "sqlite":
            return f"SQLite file {self.path!r}"
        u = self.url
        if self.backend in _MYSQL:
            return f"MySQL database {self.db_schema!r} on {u.host or 'localhost'}:{u.port or 3306} (user {u.username!r})"
        return f"PostgreSQL database {u.database!r} on {u.host or 'localhost'}:{u.port or 5432}"

    def __repr__(self) -> str:
        return f"{self.describe()}, session_table={self.session_table!r}"

    # -- layout ----------------------------------------------------------------------------

    def _sa_engine(self) -> sa.Engine:
        if self.backend == "sqlite":
            # read-only, and never creating the file
            return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(self._ro_uri(), uri=True,
                                                                                  check_same_thread=False))
        if self.backend in _MYSQL:
            url = self.url.set(drivername=_MYSQL_DRIVERS.get(self.url.drivername, self.url.drivername))
            return sa.create_engine(url, connect_args={"connect_timeout": 10})
        url = self.url.set(drivername="postgresql+psycopg") if self.url.drivername in ("postgresql", "postgres") else self.url
        return sa.create_engine(url, connect_args={"connect_timeout": 10})

    def layout(self) -> Tuple[bool, bool, bool]:
        """(has sessions table, has runs table, sessions table has a legacy runs column)."""
        if self._layout is None:
            engine = self._sa_engine()
            try:
                with engine.connect() as conn:
                    insp = sa.inspect(conn)
                    has_s = insp.has_table(self.session_table, schema=self.db_schema)
                    has_r = insp.has_table(self.runs_table, schema=self.db_schema)
                    legacy = has_s and any(c["name"] == "runs" for c in insp.get_columns(self.session_table, schema=self.db_schema))
                    databases = insp.get_schema_names() if not has_s and self.backend in _MYSQL else None
                    if databases is not None and self.db_schema not in databases:
                        raise LookupError(
                            f"{self.describe()} does not exist; databases there: {sorted(databases)}. "
                            "Pass db_schema= to name the one holding the session tables (Agno's default: 'ai').")
                    tables = insp.get_table_names(schema=self.db_schema) if not has_s else []
            except sa.exc.DBAPIError as exc:
                raise self._unreachable(exc) from None
            finally:
                engine.dispose()
            if not has_s:
                raise LookupError(
                    f"no table {self.session_table!r} in {self.describe()}"
                    + (f" schema {self.db_schema!r}" if self.db_schema else "")
                    + f"; tables there: {sorted(tables) or 'none'}. Pass session_table= to name another.")
            self._layout = (has_s, has_r, legacy)
        return self._layout

    def _unreachable(self, exc: Exception) -> DatabaseUnreachableError:
        orig = getattr(exc, "orig", None) or exc
        detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        if self.url.password:
            detail = detail.replace(str(self.url.password), "***")
        hint = ("check the path" if self.backend == "sqlite"
                else "check the user and password, and that the server is running (`mysqladmin -h HOST -P PORT ping`)"
                if self.backend in _MYSQL
                else "is the server running and does the database exist? (`pg_isready -h HOST -p PORT`)")
        return DatabaseUnreachableError(f"cannot read {self.describe()}: {detail}. {hint}")

    # -- queries ---------------------------------------------------------------------------

    def _tables(self) -> Tuple[sa.Table, Optional[sa.Table]]:
        # one pair of Table objects per layout: queries built from several parts must name
        # the same table, not two tables of the same name
        layout = self.layout()
        if getattr(self, "_tables_for", (None,))[0] != layout:
            self._tables_for = (layout, self._make_tables())
        return self._tables_for[1]

    def _make_tables(self) -> Tuple[sa.Table, Optional[sa.Table]]:
        _, has_r, legacy = self.layout()
        md = sa.MetaData(schema=self.db_schema)
        s_cols = [sa.Column(c, sa.BigInteger if c in ("created_at", "updated_at") else sa.String) for c in SESSION_ROW]
        if legacy:
            s_cols.append(sa.Column("runs", sa.String))
        s = sa.Table(self.session_table, md, *s_cols)
        r = sa.Table(self.runs_table, md, *[sa.Column(c, sa.BigInteger if c in ("run_index", "created_at") else sa.String)
                                            for c in RUN_ROW]) if has_r else None
        return s, r

    def _text(self, col: sa.ColumnElement) -> sa.ColumnElement:
        if col.name in _JSON_ROW:
            return sa.cast(col, sa.Text).label(col.name)
        if self.backend == "sqlite":
            # SQLite types are per value: a stray integer id or a text timestamp would change a
            # column's Arrow type mid-read (ADBC fails with "Type mismatch"); cast to the declared type
            return sa.cast(col, col.type).label(col.name)
        return col

    def session_query(self, f: Filters) -> sa.Select:
        s, r = self._tables()
        query = sa.select(*[self._text(c) for c in s.columns])
        conds = _column_conds(s, f, ("user_id", "agent_id", "team_id", "workflow_id", "session_type"))
        conds += _time_conds(s, f)
        if f.status is not None and r is not None:
            conds.append(s.c.session_id.in_(sa.select(r.c.session_id).where(r.c.status == f.status)))
        return query.where(*conds)

    def _run_conds(self, f: Filters, *, in_index_order: bool = False, raw: bool = False) -> List[sa.ColumnElement]:
        s, r = self._tables()
        conds = _column_conds(r, f, ("user_id", "agent_id", "team_id", "workflow_id", "status"))
        if f.session_type is not None:
            conds.append(r.c.session_id.in_(sa.select(s.c.session_id).where(s.c.session_type == f.session_type)))
        times = _time_conds(r, f)
        if times:
            # one condition, so one index range scan when row ids are intersected below
            conds.append(sa.and_(*times))
        if raw:
            return conds
        if self._by_rowid(f, conds) and (len(conds) > 1 or in_index_order):
            # Agno indexes each filter column on its own, and SQLite uses one index per table:
            # it would read every run of the agent to test the dates. The row ids matching
            # every condition come from the indexes alone (covering scans, intersected); only
            # those rows are read. ``in_index_order``: through the (session_id, run_index)
            # index, in the order asked for, rather than by row id and then sorted (a sort
            # copies every row, run_data included). The unary + keeps SQLite from looking the
            # row ids up one by one.
            column = f"+{r.name}.rowid" if in_index_order else f"{r.name}.rowid"
            conds = [sa.literal_column(column).in_(self._rowids(conds))]
        return conds

    def _by_rowid(self, f: Filters, conds: Sequence[sa.ColumnElement]) -> bool:
        # a session_ids filter is served by the session index, already in order
        return self.backend == "sqlite" and f.session_ids is None and len(conds) > 0

    def _rowids(self, conds: Sequence[sa.ColumnElement]) -> sa.SelectBase:
        _, r = self._tables()
        selects = [sa.select(sa.literal_column("rowid")).select_from(r).where(c) for c in conds]
        return sa.intersect(*selects) if len(selects) > 1 else selects[0]

    def _few_runs(self, cur, f: Filters) -> Optional[bool]:
        """On SQLite, whether at most _FEW_RUNS runs match ``f`` (counted on the indexes alone).

        Few rows are looked up by row id and sorted; more are read in index order (_run_conds).
        """
        conds = self._run_conds(f, raw=True)
        if not self._by_rowid(f, conds):
            return None
        inner = sa.select(sa.literal(1)).select_from(self._rowids(conds).subquery()).limit(_FEW_RUNS + 1)
        sql, params = self._compiled(sa.select(sa.func.count()).select_from(inner.subquery()))
        cur.execute(sql, parameters=params or None)
        return cur.fetchone()[0] <= _FEW_RUNS

    def count_query(self, f: Filters) -> Optional[sa.Select]:
        """Top-level runs (member and step runs not counted) per session, of the runs matching ``f``."""
        _, r = self._tables()
        if r is None:
            return None
        return (sa.select(self._text(r.c.session_id), sa.func.count().label("n"))
                .where(*self._run_conds(f), r.c.parent_run_id.is_(None)).group_by(r.c.session_id))

    def run_query(self, f: Filters, run_data: bool = True, few: Optional[bool] = None) -> Optional[sa.Select]:
        """The run rows matching ``f``; ``few``: see :meth:`_few_runs` (None: not known)."""
        s, r = self._tables()
        if r is None:
            return None
        query = sa.select(*[self._text(c) if run_data or c.name != "run_data"
                            else sa.cast(sa.null(), sa.Text).label("run_data") for c in r.columns])
        conds = self._run_conds(f, in_index_order=run_data and not few)
        query = query.where(*conds)
        if not run_data:
            # the rows only count runs: their order does not show (and would cost a lookup per
            # row through the session index)
            return query
        # Within a session runs come by run_index (unique per session as agno writes it). On
        # SQLite the tie-breaker is the row id, which the (session_id, run_index) index holds:
        # created_at there would sort every row again (a copy of each run_data).
        last = sa.literal_column(f"{r.name}.rowid") if self.backend == "sqlite" else r.c.created_at
        return query.order_by(r.c.session_id, r.c.run_index, last)

    def fetch(self, f: Filters, *, run_data: bool = True) -> RawRows:
        """Session rows and run rows matching ``f``, as Arrow tables (see :class:`RawRows`).

        Without ``run_data`` the runs stay in the database: only their number per session is
        read (``run_counts``; in the Agno 2.x layout, the run rows without their JSON). With
        it, through ADBC, the run rows come as a stream, and session rows are read only if the
        load needs them (the Agno 2.x layout, a ``session_type`` filter).
        """
        _, _, legacy = self.layout()
        count_query = self.count_query(f) if not run_data and not legacy else None
        run_query = self.run_query(f, run_data=run_data) if count_query is None else None
        session_query = self.session_query(f)
        try:
            if self.engine == "adbc":
                lazy = run_data and run_query is not None and not legacy and f.session_type is None
                return self._fetch_adbc(session_query, run_query, legacy, sessions_now=not lazy,
                                        stream=run_data and not legacy, count_query=count_query, f=f)
            tables = self._fetch_sqlalchemy([session_query] + [q for q in (run_query, count_query) if q is not None])
        except DatabaseUnreachableError:
            raise
        except Exception as exc:
            if _is_connect_error(exc):
                raise self._unreachable(exc) from None
            raise
        sessions = _conform(tables[0], SESSION_SCHEMA)
        run_rows = _conform(tables[1], RUN_SCHEMA) if run_query is not None else RUN_SCHEMA.empty_table()
        counts = _conform(tables[1], COUNT_SCHEMA) if count_query is not None else None
        return RawRows(sessions=sessions, runs=run_rows, legacy=legacy, run_counts=counts)

    def _compiled(self, query: sa.Select) -> Tuple[str, Tuple[Any, ...]]:
        dialect = (sqlite.dialect(paramstyle="qmark") if self.backend == "sqlite"
                   else postgresql.dialect(paramstyle="numeric_dollar"))
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.params
        return str(compiled), tuple(params[name] for name in (compiled.positiontup or []))

    def _adbc_sql(self, query: sa.Select, schema: pa.Schema) -> Tuple[str, Tuple[Any, ...]]:
        sql, params = self._compiled(query)
        if self.backend == "sqlite":
            # ADBC's SQLite driver takes each column's type from the first batch of rows: a
            # column NULL there (team_id, parent_run_id, ...) would become int64 and the first
            # text in a later batch would fail the read. A first row of the declared types
            # (dropped again by _drop_type_row) fixes the types; the query's order follows it.
            names = [c.name for c in query.selected_columns]
            lits = ", ".join(f"{_type_literal(schema.field(n).type if n in schema.names else pa.string())} AS \"{n}\""
                             for n in names)
            sql = f"SELECT {lits} UNION ALL SELECT * FROM ({sql})"
        return sql, params

    def _adbc_connect(self):
        if self.backend == "sqlite":
            import adbc_driver_sqlite.dbapi as adbc

            if not Path(self.path).is_file():
                raise DatabaseUnreachableError(f"cannot read {self.describe()}: no such file")
            return adbc.connect(uri=self._ro_uri())
        import adbc_driver_postgresql.dbapi as adbc

        return adbc.connect(_libpq_uri(self.url))

    def _fetch_adbc(self, session_query: sa.Select, run_query: Optional[sa.Select], legacy: bool, *,
                    sessions_now: bool, stream: bool, count_query: Optional[sa.Select] = None,
                    f: Optional[Filters] = None) -> RawRows:
        conn = self._adbc_connect()
        cur = reader = ahead = None

        def close():
            try:
                if ahead is not None:
                    ahead.stop()
                if reader is not None:
                    reader.close()
                if cur is not None:
                    cur.close()
                conn.rollback()
            finally:
                conn.close()

        try:
            cur = conn.cursor()
            if self.backend == "postgresql":
                cur.execute("SET TRANSACTION READ ONLY")
            sessions = self._adbc_table(cur, session_query, SESSION_SCHEMA) if sessions_now else None
            has_workflows = None
            if stream and run_query is not None:
                # workflow runs carry their step runs inside: the parser reads those in a second pass
                _, r = self._tables()
                has_workflows = self._adbc_exists(cur, sa.select(sa.literal(1)).select_from(r)
                                                  .where(r.c.run_type == "workflow").limit(1))
                stream = not has_workflows
                if f is not None and self._few_runs(cur, f):
                    run_query = self.run_query(f, run_data=True, few=True)
            counts = self._adbc_table(cur, count_query, COUNT_SCHEMA) if count_query is not None else None
            if run_query is None:
                runs = RUN_SCHEMA.empty_table()
            elif not stream:
                runs = self._adbc_table(cur, run_query, RUN_SCHEMA)
            else:
                sql, params = self._adbc_sql(run_query, RUN_SCHEMA)
                # Batches small enough to stay in the CPU's caches between the read and the
                # parse, and to keep little in flight (the defaults: 1024 rows; ~16 MB on PostgreSQL)
                if self.backend == "postgresql":
                    cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(_PG_BATCH_BYTES)})
                else:
                    cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_SQLITE_BATCH_ROWS)})
                cur.execute(sql, parameters=params or None)
                reader = cur.fetch_record_batch()
                ahead = _ReadAhead(reader, RUN_SCHEMA, typed_row=self.backend == "sqlite")
                return RawRows(sessions=sessions, legacy=legacy, has_workflows=False, closer=close,
                               runs_stream=ahead.stream(),
                               load_sessions=lambda: self._fetch_adbc(
                                   session_query, None, legacy, sessions_now=True, stream=False).sessions)
        except BaseException:
            close()
            raise
        close()
        return RawRows(sessions=sessions, runs=runs, legacy=legacy, has_workflows=has_workflows, run_counts=counts)

    def _adbc_table(self, cur, query: sa.Select, schema: pa.Schema) -> pa.Table:
        sql, params = self._adbc_sql(query, schema)
        cur.execute(sql, parameters=params or None)
        table = cur.fetch_arrow_table()
        if self.backend == "sqlite":
            table = _drop_type_row(table)
        return _conform(table, schema)

    def _adbc_exists(self, cur, query: sa.Select) -> bool:
        sql, params = self._compiled(query)
        cur.execute(sql, parameters=params or None)
        return cur.fetchone() is not None

    def _fetch_sqlalchemy(self, queries: Sequence[sa.Select]) -> List[pa.Table]:
        engine = self._sa_engine()
        try:
            with engine.connect() as conn:
                if self.backend == "postgresql":
                    conn.execute(sa.text("SET TRANSACTION READ ONLY"))
                elif self.backend in _MYSQL:
                    # before the transaction's first statement; REPEATABLE READ: one snapshot for every query
                    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                out = []
                for query in queries:
                    result = conn.execute(query)
                    names = list(result.keys())
                    rows = result.fetchall()
                    out.append(pa.table({n: pa.array([r[i] for r in rows]) if rows else pa.array([], pa.string())
                                         for i, n in enumerate(names)}))
                conn.rollback()
                return out
        finally:
            engine.dispose()


_PG_BATCH_BYTES = 2 << 20
_SQLITE_BATCH_ROWS = 512
_FEW_RUNS = 5000  # up to this many matching runs, SQLite looks them up by row id and sorts them
_TYPE_ROW = "agno_nb:type-row"  # values of the typing first row (see SqlSource._adbc_sql)
_TYPE_ROW_INT = -(2 ** 62) + 1


def _column_conds(table: sa.Table, f: Filters, keys: Sequence[str]) -> List[sa.ColumnElement]:
    """The filters on ``table``'s own columns: session_ids and the equality filters ``keys``."""
    conds = [table.c.session_id.in_(f.session_ids)] if f.session_ids is not None else []
    return conds + [table.c[k] == getattr(f, k) for k in keys if getattr(f, k) is not None]


def _time_conds(table: sa.Table, f: Filters) -> List[sa.ColumnElement]:
    """``since`` (inclusive) and ``until`` (exclusive) on ``created_at``."""
    return ([table.c.created_at >= f.since] if f.since is not None else []) + (
        [table.c.created_at < f.until] if f.until is not None else [])


def _type_literal(t: pa.DataType) -> str:
    return str(_TYPE_ROW_INT) if pa.types.is_integer(t) else f"'{_TYPE_ROW}'"


def _drop_type_row(batch):
    """``batch`` (a RecordBatch or Table) without the typing row."""
    mask = None
    for i, fld in enumerate(batch.schema):
        if pa.types.is_integer(fld.type):
            marker = _TYPE_ROW_INT
        elif pa.types.is_string(fld.type):
            marker = _TYPE_ROW
        else:
            continue
        eq = pc.fill_null(pc.equal(batch.column(i), pa.scalar(marker, fld.type)), False)
        mask = eq if mask is None else pc.and_(mask, eq)
    if mask is None or batch.num_rows == 0 or not pc.any(mask).as_py():
        return batch
    return batch.filter(pc.invert(mask))


class _ReadAhead:
    """Reads ``reader`` in a background thread, a few batches ahead of whoever consumes it.

    The database read (SQLite or libpq, in C, without the GIL) then overlaps with DuckDB
    parsing the batches before, while only ``depth`` batches wait in memory. Batches come out
    with ``schema``'s column types (and without the typing row, see SqlSource._adbc_sql).
    """

    _END = object()

    def __init__(self, reader: pa.RecordBatchReader, schema: pa.Schema, typed_row: bool, depth: int = 2):
        self.reader, self.schema, self.typed_row = reader, schema, typed_row
        self.queue: "queue.Queue[Any]" = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="agno_nb-read", daemon=True)
        self.thread.start()

    def _put(self, item: Any) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            first = self.typed_row
            for batch in self.reader:
                if first:
                    batch, first = _drop_type_row(batch), False
                if batch.num_rows and not self._put(
                        batch if batch.schema.equals(self.schema) else _conform_batch(batch, self.schema)):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def batches(self):
        while True:
            item = self.queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def stream(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, self.batches())

    def stop(self) -> None:
        """Stop reading (waits for the read in progress); the reader can then be closed."""
        self.stopped.set()
        self.thread.join()


def _conform_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    cols = []
    for fld in schema:
        i = batch.schema.get_field_index(fld.name)
        col = batch.column(i) if i >= 0 else pa.nulls(batch.num_rows, fld.type)
        if col.type != fld.type:
            col = col.cast(fld.type) if not pa.types.is_null(col.type) else pa.nulls(batch.num_rows, fld.type)
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Same column types whatever the driver inferred (SQLite types are per value)."""
    cols = {}
    for fld in schema:
        if fld.name not in table.column_names:
            if fld.name == "runs":
                continue
            cols[fld.name] = pa.nulls(table.num_rows, fld.type)
            continue
        col = table[fld.name]
        if col.type != fld.type:
            col = col.cast(fld.type) if not pa.types.is_null(col.type) else pa.nulls(table.num_rows, fld.type)
        cols[fld.name] = col
    return pa.table(cols)


def _libpq_uri(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _adbc_available(backend: str) -> bool:
    if backend not in ("sqlite", "postgresql"):
        return False  # no ADBC driver for MySQL: read through SQLAlchemy
    module = "adbc_driver_sqlite" if backend == "sqlite" else "adbc_driver_postgresql"
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def _is_connect_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("could not connect", "connection refused", "connection to server",
                                   "unable to open database", "could not translate host", "database \"",
                                   "io error", "timeout expired", "can't connect to mysql", "access denied for user",
                                   "unknown database"))


def source_from(obj: Any, *, session_table=None, runs_table=None, db_schema=None, engine="auto"):
    """A source from a path, a SQLAlchemy URL or a SqliteDb/PostgresDb."""
    from ..db.base import BaseDb

    if isinstance(obj, BaseDb):
        return SqlSource(obj.db_engine.url,
                         session_table=session_table or obj.session_table_name,
                         runs_table=runs_table or (obj.runs_table_name if session_table is None else None),
                         db_schema=db_schema or obj.db_schema, engine=engine)
    if isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if "://" in text:
            try:
                url = sa.make_url(text)
            except sa.exc.ArgumentError:
                raise ValueError(f"{text!r} is not a database URL") from None
            backend = url.get_backend_name()
            if backend not in ("sqlite", "postgresql", *_MYSQL):
                raise ValueError(f"unsupported database URL scheme {url.drivername!r}: use sqlite:///path.db, "
                                 "postgresql+psycopg://user@host/db, mysql+pymysql://user@host/db, "
                                 "a SQLite file path or a Parquet export folder")
            if backend == "sqlite" and not url.database:
                raise ValueError("a sqlite:/// URL needs a file path (in-memory databases cannot be shared)")
            return SqlSource(url, session_table=session_table, runs_table=runs_table, db_schema=db_schema, engine=engine)
        path = Path(text).expanduser()
        if path.is_dir():
            from .parquet import ParquetSource

            return ParquetSource(path)
        if not path.is_file():
            raise FileNotFoundError(f"no SQLite file or Parquet folder at {text!r}")
        return SqlSource(sa.URL.create("sqlite", database=str(path.resolve())), session_table=session_table,
                         runs_table=runs_table, db_schema=db_schema, engine=engine)
    raise TypeError(f"cannot read sessions from a {type(obj).__name__}: pass a path, a database URL, "
                    "a SqliteDb/PostgresDb or a SessionExplorer")
