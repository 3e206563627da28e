"""Reading the stored rows, read-only, into Arrow tables.

The rows are fetched with filters pushed down into the source's SQL (bound, never
pasted), through Apache Arrow's ADBC drivers (SQLite in the default install,
PostgreSQL with the ``postgres`` extra) or, where a driver is missing, through
SQLAlchemy. Both paths are tested. Nothing here writes: SQLite is opened with
``mode=ro``, PostgreSQL in a ``READ ONLY`` transaction.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..db.schema import DEFAULT_SESSION_TABLE, check_identifier, default_runs_table
from ..errors import DatabaseUnreachableError

SESSION_ROW = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
               "session_data", "summary", "created_at", "updated_at")
RUN_ROW = ("run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id",
           "parent_run_id", "status", "run_index", "run_data", "created_at")
_JSON_ROW = ("session_data", "summary", "runs", "run_data")
RUN_SCHEMA = pa.schema([(c, pa.int64() if c in ("run_index", "created_at") else pa.string()) for c in RUN_ROW])
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


@dataclass
class RawRows:
    """What a load fetched: session rows, run rows (3.x table), and the layout."""

    sessions: pa.Table
    runs: pa.Table
    legacy: bool = False  # sessions carry Agno 2.x's runs column


class SqlSource:
    """A SQLite file or a PostgreSQL database holding Agno's session tables."""

    def __init__(self, url: sa.URL, *, session_table: Optional[str] = None, runs_table: Optional[str] = None,
                 db_schema: Optional[str] = None, engine: str = "auto"):
        self.url = url
        self.backend = url.get_backend_name()
        self.session_table = check_identifier(session_table or DEFAULT_SESSION_TABLE, "session_table")
        self.runs_table = check_identifier(runs_table or default_runs_table(self.session_table), "runs_table")
        self.db_schema = check_identifier(db_schema, "db_schema")
        if self.backend == "postgresql" and self.db_schema is None:
            self.db_schema = "ai"
        if engine not in ("auto", "adbc", "sqlalchemy"):
            raise ValueError(f"engine must be 'auto', 'adbc' or 'sqlalchemy'; got {engine!r}")
        self.engine = "adbc" if engine == "auto" and _adbc_available(self.backend) else (
            "sqlalchemy" if engine == "auto" else engine)
        self._layout: Optional[Tuple[bool, bool, bool]] = None

    # -- where -----------------------------------------------------------------------------

    @property
    def path(self) -> Optional[str]:
        return self.url.database if self.backend == "sqlite" else None

    def describe(self) -> str:
        if self.backend == "sqlite":
            return f"SQLite file {self.path!r}"
        u = self.url
        return f"PostgreSQL database {u.database!r} on {u.host or 'localhost'}:{u.port or 5432}"

    def __repr__(self) -> str:
        return f"{self.describe()}, session_table={self.session_table!r}"

    # -- layout ----------------------------------------------------------------------------

    def _sa_engine(self) -> sa.Engine:
        if self.backend == "sqlite":
            # read-only, and never creating the file
            return sa.create_engine(f"sqlite:///file:{self.path}?mode=ro&uri=true")
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
                else "is the server running and does the database exist? (`pg_isready -h HOST -p PORT`)")
        return DatabaseUnreachableError(f"cannot read {self.describe()}: {detail}. {hint}")

    # -- queries ---------------------------------------------------------------------------

    def _tables(self) -> Tuple[sa.Table, Optional[sa.Table]]:
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
        return sa.cast(col, sa.Text).label(col.name) if col.name in _JSON_ROW else col

    def session_query(self, f: Filters) -> sa.Select:
        s, r = self._tables()
        query = sa.select(*[self._text(c) for c in s.columns])
        conds = []
        if f.session_ids is not None:
            conds.append(s.c.session_id.in_(f.session_ids))
        for key in ("user_id", "agent_id", "team_id", "workflow_id", "session_type"):
            if getattr(f, key) is not None:
                conds.append(s.c[key] == getattr(f, key))
        if f.since is not None:
            conds.append(s.c.created_at >= f.since)
        if f.until is not None:
            conds.append(s.c.created_at < f.until)
        if f.status is not None and r is not None:
            conds.append(s.c.session_id.in_(sa.select(r.c.session_id).where(r.c.status == f.status)))
        return query.where(*conds)

    def run_query(self, f: Filters, run_data: bool = True) -> Optional[sa.Select]:
        s, r = self._tables()
        if r is None:
            return None
        query = sa.select(*[self._text(c) if run_data or c.name != "run_data"
                            else sa.cast(sa.null(), sa.Text).label("run_data") for c in r.columns])
        conds = []
        if f.session_ids is not None:
            conds.append(r.c.session_id.in_(f.session_ids))
        for key in ("user_id", "agent_id", "team_id", "workflow_id", "status"):
            if getattr(f, key) is not None:
                conds.append(r.c[key] == getattr(f, key))
        if f.session_type is not None:
            conds.append(r.c.session_id.in_(sa.select(s.c.session_id).where(s.c.session_type == f.session_type)))
        if f.since is not None:
            conds.append(r.c.created_at >= f.since)
        if f.until is not None:
            conds.append(r.c.created_at < f.until)
        return query.where(*conds).order_by(r.c.session_id, r.c.run_index, r.c.created_at)

    def fetch(self, f: Filters, *, run_data: bool = True) -> RawRows:
        """Session rows and run rows matching ``f``, as Arrow tables.

        Without ``run_data`` the runs' JSON is left in the database (enough to count runs).
        """
        _, _, legacy = self.layout()
        run_query = self.run_query(f, run_data=run_data)
        queries = [self.session_query(f)] + ([run_query] if run_query is not None else [])
        try:
            tables = self._fetch_adbc(queries) if self.engine == "adbc" else self._fetch_sqlalchemy(queries)
        except DatabaseUnreachableError:
            raise
        except Exception as exc:
            if _is_connect_error(exc):
                raise self._unreachable(exc) from None
            raise
        sessions = _conform(tables[0], SESSION_SCHEMA)
        run_rows = _conform(tables[1], RUN_SCHEMA) if run_query is not None else RUN_SCHEMA.empty_table()
        return RawRows(sessions=sessions, runs=run_rows, legacy=legacy)

    def _compiled(self, query: sa.Select) -> Tuple[str, Tuple[Any, ...]]:
        dialect = (sqlite.dialect(paramstyle="qmark") if self.backend == "sqlite"
                   else postgresql.dialect(paramstyle="numeric_dollar"))
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.params
        return str(compiled), tuple(params[name] for name in (compiled.positiontup or []))

    def _fetch_adbc(self, queries: Sequence[sa.Select]) -> List[pa.Table]:
        if self.backend == "sqlite":
            import adbc_driver_sqlite.dbapi as adbc

            if not Path(self.path).is_file():
                raise DatabaseUnreachableError(f"cannot read {self.describe()}: no such file")
            conn = adbc.connect(uri=f"file:{self.path}?mode=ro")
        else:
            import adbc_driver_postgresql.dbapi as adbc

            conn = adbc.connect(_libpq_uri(self.url))
        try:
            out = []
            with conn.cursor() as cur:
                if self.backend == "postgresql":
                    cur.execute("SET TRANSACTION READ ONLY")
                for query in queries:
                    sql, params = self._compiled(query)
                    cur.execute(sql, parameters=params or None)
                    out.append(cur.fetch_arrow_table())
            conn.rollback()
            return out
        finally:
            conn.close()

    def _fetch_sqlalchemy(self, queries: Sequence[sa.Select]) -> List[pa.Table]:
        engine = self._sa_engine()
        try:
            with engine.connect() as conn:
                if self.backend == "postgresql":
                    conn.execute(sa.text("SET TRANSACTION READ ONLY"))
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
                                   "io error", "timeout expired"))


def source_from(obj: Any, *, session_table=None, runs_table=None, db_schema=None, engine="auto"):
    """A source from a path, a SQLAlchemy URL or a SqliteDb/PostgresDb."""
    from ..db.base import BaseDb

    if isinstance(obj, BaseDb):
        return SqlSource(obj.engine.url if obj.dialect == "sqlite" else obj.db_url,
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
            if backend not in ("sqlite", "postgresql"):
                raise ValueError(f"unsupported database URL scheme {url.drivername!r}: use sqlite:///path.db, "
                                 "postgresql+psycopg://user@host/db, a SQLite file path or a Parquet export folder")
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
