"""Reading the stored rows, read-only, into Arrow tables.

The rows are fetched with filters pushed down into the source's SQL (bound, never
pasted), as Arrow: a SQLite file through Python's own ``sqlite3`` module only (see
:mod:`.sqlite_read` for why no other SQLite library may open it in this process),
PostgreSQL through Apache Arrow's ADBC driver (the ``postgres`` extra). ``engine="sqlalchemy"``
reads both through SQLAlchemy instead; MySQL and MariaDB are always read through SQLAlchemy
(PyMySQL, the ``mysql`` extra). Both paths are tested. Nothing here writes: SQLite is
opened with ``mode=ro``, PostgreSQL and MySQL in a ``READ ONLY`` transaction.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..db.schema import DEFAULT_SESSION_TABLE, check_identifier, default_runs_table, detect_layout
from ..db.urls import install_hint, sync_url
from ..errors import AgnoNbError, ConnectionLostError, DatabaseUnreachableError, MissingDependencyError
from . import sqlite_read
from .columns import TABLES as _SESSION_TABLES
from .filters import RUN_ROW_FILTERS, SESSION_ROW_FILTERS, Filters, to_unix  # noqa: F401 - re-exported
from .raw import COUNT_SCHEMA, RUN_ROW, RUN_SCHEMA, SESSION_ROW, SESSION_SCHEMA, RawRows  # noqa: F401 - re-exported

_JSON_ROW = ("session_data", "summary", "runs", "run_data")
MYSQL_BACKENDS = _MYSQL = ("mysql", "mariadb")  # backend names of MySQL and MariaDB URLs
_MYSQL_DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}

ENGINES = ("auto", "adbc", "sqlalchemy")
TABLE_NAMES = tuple(_SESSION_TABLES)


class SqlSource:
    """A SQLite file or a PostgreSQL database holding Agno's session tables.

    A :class:`~agno_nb.analysis.protocol.Source` whose session tables are Agno's stored JSON
    (``parsed`` is False): the explorer streams them with :meth:`fetch` and parses them.

    ``engine``: ``"auto"`` (the default) reads as Arrow, a SQLite file through ``sqlite3``
    and PostgreSQL through ADBC when its driver is installed (else SQLAlchemy);
    ``"adbc"`` insists on ADBC (PostgreSQL only: ADBC's SQLite driver would be a second
    SQLite library in this process); ``"sqlalchemy"`` reads through SQLAlchemy.
    """

    def __init__(self, url: sa.URL, *, session_table: Optional[str] = None, runs_table: Optional[str] = None,
                 db_schema: Optional[str] = None, engine: str = "auto",
                 other_tables: Optional[Dict[str, str]] = None):
        self.url = sync_url(url)  # an asyncio driver's URL (AsyncPostgresDb's) is read through the sync one
        self.backend = self.url.get_backend_name()
        # Agno's other tables as the db object named them ("memory" -> "agno_memories", ...)
        self.other_tables: Dict[str, str] = dict(other_tables or {})
        self.session_table = check_identifier(session_table or DEFAULT_SESSION_TABLE, "session_table")
        self.runs_table = check_identifier(runs_table or default_runs_table(self.session_table), "runs_table")
        self.db_schema = check_identifier(db_schema, "db_schema")
        if self.backend in ("postgresql", *_MYSQL) and self.db_schema is None:
            self.db_schema = "ai"  # Agno's default schema (on MySQL: database)
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))}; got {engine!r}")
        if engine == "adbc" and self.backend == "sqlite":
            raise ValueError(
                "engine='adbc' reads PostgreSQL only. A SQLite file is read through Python's own sqlite3 "
                "(engine='auto', the default): ADBC's SQLite driver is a second SQLite library, and two "
                "in one process cannot see each other's file locks, so an agent writing in this process could "
                "lose runs or corrupt the file.")
        if engine == "adbc" and self.backend in _MYSQL:
            raise ValueError("engine='adbc' reads PostgreSQL only; MySQL is read with engine='sqlalchemy' (the default)")
        if engine == "adbc" and not _adbc_available(self.backend):
            raise MissingDependencyError(
                f"engine='adbc' needs the ADBC PostgreSQL driver: pip install \"agno_nb[postgres]\" "
                f"(reading {self.describe()})")
        if engine == "sqlalchemy":
            self.engine = "sqlalchemy"
        else:  # "arrow": sqlite3 -> Arrow on SQLite, ADBC on PostgreSQL
            self.engine = "arrow" if self.backend == "sqlite" or _adbc_available(self.backend) else "sqlalchemy"
        self._layout: Optional[Tuple[bool, bool, bool]] = None

    # -- the Source protocol (agno_nb.analysis.protocol) -------------------------------------

    tables = TABLE_NAMES
    parsed = False  # the session tables are the stored JSON: fetch() streams it, the explorer parses it
    results_resolved = False

    def version(self, extra_tables: Sequence[str] = ()) -> Any:
        """The cheap change check: a SQLite file's data version and stat, PostgreSQL's row counts and
        latest stamps (with ``extra_tables``); MySQL none (every query reloads)."""
        from .sql import PostgresVersion, SqliteVersion, _Always

        if self.backend == "sqlite" and self.path:
            return SqliteVersion(self.path)
        if self.backend == "postgresql":
            return PostgresVersion(self, extra_tables)
        return _Always()

    def read(self, table: str, filters: Filters, columns: Optional[Sequence[str]] = None, *,
             con: Any = None) -> pa.Table:
        """The rows of ``table`` that pass ``filters``, parsed from the stored JSON (rows that cannot be
        decoded are left out), or one of Agno's other tables. The explorer reads through :meth:`fetch`
        and its own parse instead, which also repairs and reports such rows and fills the derived columns."""
        from .stored import STORED, read_stored

        if table in STORED:
            return read_stored(self, table, filters, columns)
        if table not in TABLE_NAMES:
            raise KeyError(f"no table {table!r}; tables are {', '.join((*TABLE_NAMES, *STORED))}")
        import duckdb

        from .parse import Parser, row_columns

        wanted = _SESSION_TABLES[table] if columns is None else [c for c in _SESSION_TABLES[table] if c.name in columns]
        own = duckdb.connect()
        try:
            own.execute("SET TimeZone = 'UTC'")
            raw = self.fetch(filters, run_data=table != "sessions", row_columns=row_columns(table, wanted, filters))
            out, _ = Parser(own).build(raw, filters, table, wanted)
        finally:
            own.close()
        return out.select(list(columns)) if columns is not None else out

    # -- where -----------------------------------------------------------------------------

    @property
    def path(self) -> Optional[str]:
        return self.url.database if self.backend == "sqlite" else None

    def describe(self) -> str:
        if self.backend == "sqlite":
            return f"SQLite file {self.path!r}"
        u = self.url
        # the user too (never the password): a wrong role is a common reason to be refused
        user = f"user {u.username!r}" if u.username else "the login user (none in the URL)"
        if self.backend in _MYSQL:
            return f"MySQL database {self.db_schema!r} on {u.host or 'localhost'}:{u.port or 3306} as {user}"
        return f"PostgreSQL database {u.database!r} on {u.host or 'localhost'}:{u.port or 5432} as {user}"

    def __repr__(self) -> str:
        return f"{self.describe()}, session_table={self.session_table!r}"

    # -- layout ----------------------------------------------------------------------------

    def _sa_engine(self) -> sa.Engine:
        if self.backend == "sqlite":
            # read-only, never creating the file, through sqlite3 (see sqlite_read)
            return sa.create_engine("sqlite://", creator=lambda: sqlite_read.connect(self.path, raw_text=False))
        if self.backend in _MYSQL:
            url = self.url.set(drivername=_MYSQL_DRIVERS.get(self.url.drivername, self.url.drivername))
        else:
            url = self.url  # already psycopg's (sync_url)
        try:
            return sa.create_engine(url, connect_args={"connect_timeout": 10})
        except ImportError as exc:
            raise self._missing(exc) from None

    @contextlib.contextmanager
    def read_connection(self) -> Iterator[sa.Connection]:
        """A SQLAlchemy connection in a read-only transaction, rolled back and closed afterwards.

        SQLite through ``sqlite3`` opened ``mode=ro``; PostgreSQL and MySQL in a ``READ ONLY``
        transaction. Driver errors become agno_nb's own (unreachable, connection lost, ...).
        For reads outside the session tables (:mod:`agno_nb.analysis.stored`).
        """
        engine = self._sa_engine()
        try:
            with engine.connect() as conn:
                if self.backend == "postgresql":
                    conn.execute(sa.text("SET TRANSACTION READ ONLY"))
                elif self.backend in _MYSQL:
                    # before the transaction's first statement; REPEATABLE READ: one snapshot for every query
                    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                try:
                    yield conn
                finally:
                    conn.rollback()
        except ImportError as exc:
            raise self._missing(exc) from None
        except sa.exc.DBAPIError as exc:
            # a lost or refused connection is agno_nb's own error; anything else (a statement the
            # READ ONLY transaction refused, say) is the driver's, whose text says what happened
            failed = self._read_error(exc)
            if failed is None:
                raise
            raise failed from None
        finally:
            engine.dispose()

    def in_ids(self, col: sa.ColumnElement, ids: Sequence[str]) -> sa.ColumnElement:
        """``col IN ids`` for any number of ids (see :meth:`_in_ids`)."""
        return self._in_ids(col, ids)

    def _missing(self, exc: ImportError) -> MissingDependencyError:
        return MissingDependencyError(
            f"reading {self.describe()} needs {getattr(exc, 'name', None) or 'its database driver'}, which is not "
            f"installed: {install_hint(self.url)}")

    def layout(self) -> Tuple[bool, bool, bool]:
        """(has sessions table, has runs table, sessions table has a legacy runs column)."""
        if self._layout is None:
            engine = self._sa_engine()
            try:
                with engine.connect() as conn:
                    has_s, has_r, legacy = detect_layout(conn, self.session_table, self.runs_table, self.db_schema)
                    insp = sa.inspect(conn)
                    databases = insp.get_schema_names() if not has_s and self.backend in _MYSQL else None
                    if databases is not None and self.db_schema not in databases:
                        raise LookupError(
                            f"{self.describe()} does not exist; databases there: {sorted(databases)}. "
                            "Pass db_schema= to name the one holding the session tables (Agno's default: 'ai').")
                    tables = insp.get_table_names(schema=self.db_schema) if not has_s else []
            except AgnoNbError:
                raise
            except ImportError as exc:
                raise self._missing(exc) from None
            except sa.exc.DBAPIError as exc:
                raise (self._read_error(exc) or self._unreachable(exc)) from None
            finally:
                engine.dispose()
            if not has_s:
                raise LookupError(
                    f"no table {self.session_table!r} in {self.describe()}"
                    + (f" schema {self.db_schema!r}" if self.db_schema else "")
                    + f"; tables there: {sorted(tables) or 'none'}. Pass session_table= to name another.")
            self._layout = (has_s, has_r, legacy)
        return self._layout

    def _detail(self, exc: BaseException) -> str:
        """The first line of a driver's message, without the password."""
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).strip()
        detail = text.splitlines()[0] if text else type(orig).__name__
        if self.url.password:
            detail = detail.replace(str(self.url.password), "***")
        return detail

    def _unreachable(self, exc: Exception) -> DatabaseUnreachableError:
        hint = ("check the path" if self.backend == "sqlite"
                else "check the user and password, and that the server is running (`mysqladmin -h HOST -P PORT ping`)"
                if self.backend in _MYSQL
                else "is the server running, does the database exist, may this user log in? (`pg_isready -h HOST -p PORT`)")
        return DatabaseUnreachableError(f"cannot read {self.describe()}: {self._detail(exc)}. {hint}")

    def _read_error(self, exc: BaseException) -> Optional[AgnoNbError]:
        """agno_nb's error for a driver error met while reading, or None to let it through."""
        if isinstance(exc, AgnoNbError):
            return exc
        if self.backend == "sqlite":
            orig = getattr(exc, "orig", None) or exc
            return sqlite_read.error_for(orig, self.path)
        text = str(getattr(exc, "orig", None) or exc).lower()
        if any(s in text for s in _CONNECTION_LOST):
            return ConnectionLostError(
                f"lost the connection to {self.describe()} while reading: {self._detail(exc)}. The server closed it "
                "(restarted, or an administrator ended the session); nothing was changed. Load again once it is back.")
        if _is_connect_error(exc):
            return self._unreachable(exc)
        return None

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
        if self.backend == "sqlite":
            if col.name in ("created_at", "updated_at"):
                return _sqlite_seconds(col).label(col.name)
            if self.engine == "arrow" and not isinstance(col.type, sa.BigInteger):
                # Text as stored: sqlite_read turns a stray number (SQLite types are per value)
                # into its text. A CAST would copy every value inside SQLite first, which more
                # than doubled the read of the runs' JSON.
                return col
            # the SQLAlchemy path takes values as they come: cast to the declared type
            return sa.cast(col, sa.Text if col.name in _JSON_ROW else col.type).label(col.name)
        if col.name in _JSON_ROW:
            return sa.cast(col, sa.Text).label(col.name)
        return col

    def session_query(self, f: Filters) -> sa.Select:
        s, r = self._tables()
        query = sa.select(*[self._text(c) for c in s.columns])
        conds = self._column_conds(s, f, SESSION_ROW_FILTERS)
        conds += self._time_conds(s, f)
        if f.status is not None and r is not None:
            conds.append(s.c.session_id.in_(sa.select(r.c.session_id).where(r.c.status == f.status)))
        if f.model is not None and r is not None:
            conds.append(s.c.session_id.in_(sa.select(r.c.session_id).where(self._model_cond(r, f.model))))
        return query.where(*conds)

    def _model_cond(self, r: sa.Table, model: str, *, steps: bool = False) -> sa.ColumnElement:
        """The run's model id (in its JSON) is ``model``; ``steps``: workflow runs pass too, for
        their step runs (inside them) are filtered once parsed."""
        if self.backend == "sqlite":
            # json_extract raises on text that is not JSON: such a row is reported later, not here
            value = sa.case((sa.func.json_valid(r.c.run_data) == 1, sa.func.json_extract(r.c.run_data, "$.model")))
        elif self.backend in _MYSQL:
            # MariaDB's JSON is LONGTEXT: JSON_EXTRACT reads the text (NULL, with a warning, where it is not JSON)
            value = sa.func.json_unquote(sa.func.json_extract(r.c.run_data, "$.model"))
        else:
            value = sa.func.jsonb_extract_path_text(sa.cast(r.c.run_data, postgresql.JSONB), "model")
        cond = value == model
        return sa.or_(cond, r.c.run_type == "workflow") if steps else cond

    def _column_conds(self, table: sa.Table, f: Filters, keys: Sequence[str]) -> List[sa.ColumnElement]:
        """The filters on ``table``'s own columns: session_ids and the equality filters ``keys``."""
        conds = [self._in_ids(table.c.session_id, f.session_ids)] if f.session_ids is not None else []
        return conds + [table.c[k] == getattr(f, k) for k in keys if getattr(f, k) is not None]

    def _in_ids(self, col: sa.ColumnElement, ids: Sequence[str]) -> sa.ColumnElement:
        """``col IN ids`` with the ids bound as one JSON array, so any number of them fits.

        (SQLite takes at most 32,766 bound values, PostgreSQL 65,535.) PyMySQL binds on the
        client, into one statement text, so on MySQL a plain IN list has no such limit.
        """
        if self.backend in _MYSQL:
            return col.in_(list(ids))
        # An id holding NUL: SQLite's json_each cuts a "\u0000" string at the NUL (3.40: "a\u0000b"
        # comes out as "a"), and PostgreSQL's jsonb refuses \u0000. sqlite3 binds a str whole, so on
        # SQLite such ids are bound one by one; PostgreSQL text cannot hold NUL, so none matches there.
        plain = [i for i in ids if "\x00" not in i]
        with_nul = [i for i in ids if "\x00" in i] if self.backend == "sqlite" else []
        doc = sa.bindparam(None, json.dumps(plain), sa.Text)
        if self.backend == "sqlite":
            values = sa.func.json_each(doc).table_valued("value")
        else:
            values = sa.func.jsonb_array_elements_text(sa.cast(doc, postgresql.JSONB)).table_valued("value")
        cond = col.in_(sa.select(values.c.value))
        return sa.or_(cond, col.in_(with_nul)) if with_nul else cond

    def _time_conds(self, table: sa.Table, f: Filters) -> List[sa.ColumnElement]:
        """``since`` (inclusive) and ``until`` (exclusive) on ``created_at``.

        On SQLite a timestamp stored as ISO text sorts after every number: such rows are
        compared by their text's Unix seconds (each bound is then two index ranges).
        """
        col, conds = table.c.created_at, []
        for bound, op in ((f.since, "__ge__"), (f.until, "__lt__")):
            if bound is None:
                continue
            if self.backend != "sqlite":
                conds.append(getattr(col, op)(bound))
                continue
            conds.append(sa.or_(sa.and_(getattr(col, op)(bound), col <= _MAX_INT),
                                sa.and_(col > _MAX_INT, getattr(_sqlite_seconds(col), op)(bound))))
        return conds

    def _run_conds(self, f: Filters, *, in_index_order: bool = False, raw: bool = False,
                   steps: bool = True) -> List[sa.ColumnElement]:
        s, r = self._tables()
        conds = self._column_conds(r, f, ())
        if f.session_type is not None:
            conds.append(r.c.session_id.in_(sa.select(s.c.session_id).where(s.c.session_type == f.session_type)))
        own = [r.c[k] == getattr(f, k) for k in RUN_ROW_FILTERS if getattr(f, k) is not None]
        times = self._time_conds(r, f)
        if times:
            # one condition, so one index range scan when row ids are intersected below
            own.append(sa.and_(*times))
        # not among the index-only conditions below: the model is read from each run's JSON
        model = [self._model_cond(r, f.model, steps=steps)] if f.model is not None else []
        # A workflow run's step runs are inside its row, with their own agent, status and time:
        # workflow runs pass the run's own filters, and the parser filters their steps (and
        # them) again (parse._post_filter).
        workflows = r.c.run_type == "workflow" if steps and own else None
        if raw:
            return conds + own
        if self._by_rowid(f, conds + own) and (len(conds + own) > 1 or in_index_order):
            # Agno indexes each filter column on its own, and SQLite uses one index per table:
            # it would read every run of the agent to test the dates. The row ids matching
            # every condition come from the indexes alone (covering scans, intersected); only
            # those rows are read. ``in_index_order``: through the (session_id, run_index)
            # index, in the order asked for, rather than by row id and then sorted (a sort
            # copies every row, run_data included). The unary + keeps SQLite from looking the
            # row ids up one by one.
            column = f"+{r.name}.rowid" if in_index_order else f"{r.name}.rowid"
            rowids = self._rowids(conds + own)
            if workflows is not None:
                rowids = sa.union(sa.select(rowids.subquery().c.rid), self._rowids([workflows, *conds]))
            return [sa.literal_column(column).in_(rowids)] + model
        if workflows is not None:
            own = [sa.or_(sa.and_(*own), workflows)]
        return conds + own + model

    def _by_rowid(self, f: Filters, conds: Sequence[sa.ColumnElement]) -> bool:
        # a session_ids filter is served by the session index, already in order
        return self.backend == "sqlite" and f.session_ids is None and len(conds) > 0

    def _rowids(self, conds: Sequence[sa.ColumnElement]) -> sa.SelectBase:
        _, r = self._tables()
        selects = [sa.select(sa.literal_column("rowid").label("rid")).select_from(r).where(c) for c in conds]
        return sa.intersect(*selects) if len(selects) > 1 else selects[0]

    def _few_runs(self, cur, f: Filters) -> Optional[bool]:
        """On SQLite, whether at most _FEW_RUNS runs match ``f`` (counted on the indexes alone).

        Few rows are looked up by row id and sorted; more are read in index order (_run_conds).
        """
        conds = self._run_conds(f, raw=True)
        if not self._by_rowid(f, conds):
            return None
        inner = sa.select(sa.literal(1)).select_from(self._rowids(conds).subquery()).limit(_FEW_RUNS + 1)
        cur.execute(*self._compiled(sa.select(sa.func.count()).select_from(inner.subquery())))
        return cur.fetchone()[0] <= _FEW_RUNS

    def count_query(self, f: Filters) -> Optional[sa.Select]:
        """Top-level runs (member and step runs not counted) per session, of the runs matching ``f``."""
        _, r = self._tables()
        if r is None:
            return None
        return (sa.select(self._text(r.c.session_id), sa.func.count().label("n"))
                .where(*self._run_conds(f, steps=False), r.c.parent_run_id.is_(None)).group_by(r.c.session_id))

    def run_query(self, f: Filters, run_data: bool = True, few: Optional[bool] = None,
                  row_columns: Optional[Sequence[str]] = None) -> Optional[sa.Select]:
        """The run rows matching ``f``; ``few``: see :meth:`_few_runs` (None: not known).

        ``row_columns``: only these columns of the row (the others come as NULL; see
        :meth:`fetch`)."""
        s, r = self._tables()
        if r is None:
            return None
        cols = [c for c in r.columns if row_columns is None or c.name in row_columns]
        query = sa.select(*[self._text(c) if run_data or c.name != "run_data"
                            else sa.cast(sa.null(), sa.Text).label("run_data") for c in cols])
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

    def fetch(self, f: Filters, *, run_data: bool = True, row_columns: Optional[Sequence[str]] = None,
              run_counts: Optional[pa.Table] = None) -> RawRows:
        """Session rows and run rows matching ``f``, as Arrow tables (see :class:`RawRows`).

        ``row_columns``: the run row's columns the load needs. Where the rows stream (below),
        only those are read, the others come as NULL: each column costs a Python object per
        row in ``sqlite3``, and a load of messages needs half of them.

        Without ``run_data`` the runs stay in the database: only their number per session is
        read (``run_counts``, unless given: COUNT_SCHEMA; in the Agno 2.x layout, the run rows
        without their JSON). With
        it, as Arrow, the run rows come as a stream, and session rows are read only if the
        load needs them (the Agno 2.x layout, a ``session_type`` filter).
        """
        _, _, legacy = self.layout()
        counted = run_counts is not None and not run_data and not legacy
        count_query = self.count_query(f) if not run_data and not legacy and not counted else None
        run_query = self.run_query(f, run_data=run_data) if count_query is None and not counted else None
        session_query = self.session_query(f)
        try:
            if self.engine == "arrow":
                lazy = run_data and run_query is not None and not legacy and f.session_type is None
                raw = self._fetch_arrow(session_query, run_query, legacy, sessions_now=not lazy,
                                        stream=run_data and not legacy, count_query=count_query, f=f,
                                        row_columns=row_columns)
                if counted:
                    raw.run_counts = run_counts
                return raw
            tables = self._fetch_sqlalchemy([session_query] + [q for q in (run_query, count_query) if q is not None])
        except AgnoNbError:
            raise
        except ImportError as exc:
            raise self._missing(exc) from None
        except Exception as exc:
            failed = self._read_error(exc)
            if failed is not None:
                raise failed from None
            raise
        sessions = _conform(tables[0], SESSION_SCHEMA)
        run_rows = _conform(tables[1], RUN_SCHEMA) if run_query is not None else RUN_SCHEMA.empty_table()
        counts = _conform(tables[1], COUNT_SCHEMA) if count_query is not None else run_counts if counted else None
        return RawRows(sessions=sessions, runs=run_rows, legacy=legacy, run_counts=counts)

    def _compiled(self, query: sa.Select) -> Tuple[str, Tuple[Any, ...]]:
        dialect = (sqlite.dialect(paramstyle="qmark") if self.backend == "sqlite"
                   else postgresql.dialect(paramstyle="numeric_dollar"))
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.params
        return str(compiled), tuple(params[name] for name in (compiled.positiontup or []))

    def _arrow_cursor(self):
        """A cursor of the Arrow path, inside a read-only transaction (see _SqliteCursor, _PgCursor)."""
        return _SqliteCursor(self.path) if self.backend == "sqlite" else _PgCursor(self.url)

    def _fetch_arrow(self, session_query: sa.Select, run_query: Optional[sa.Select], legacy: bool, *,
                     sessions_now: bool, stream: bool, count_query: Optional[sa.Select] = None,
                     f: Optional[Filters] = None, row_columns: Optional[Sequence[str]] = None) -> RawRows:
        cur = self._arrow_cursor()
        ahead = None

        def close():
            if ahead is not None:
                ahead.stop()
            cur.close()

        try:
            sessions = cur.table(*self._compiled(session_query), SESSION_SCHEMA) if sessions_now else None
            has_workflows = None
            if stream and run_query is not None:
                # workflow runs carry their step runs inside: the parser reads those in a second pass
                _, r = self._tables()
                cur.execute(*self._compiled(sa.select(sa.literal(1)).select_from(r)
                                            .where(r.c.run_type == "workflow").limit(1)))
                has_workflows = cur.fetchone() is not None
                stream = not has_workflows
                few = f is not None and self._few_runs(cur, f)
                if f is not None and (few or (stream and row_columns is not None)):
                    # a workflow's step runs are read from its row whole: only streamed rows are cut
                    run_query = self.run_query(f, run_data=True, few=few, row_columns=row_columns if stream else None)
            counts = cur.table(*self._compiled(count_query), COUNT_SCHEMA) if count_query is not None else None
            if run_query is None:
                runs = RUN_SCHEMA.empty_table()
            elif not stream:
                runs = cur.table(*self._compiled(run_query), RUN_SCHEMA)
            else:
                ahead = _ReadAhead(cur.reader(*self._compiled(run_query), RUN_SCHEMA), RUN_SCHEMA, self._read_error)
                return RawRows(sessions=sessions, legacy=legacy, has_workflows=False, closer=close,
                               runs_stream=ahead.stream(), failure=lambda: ahead.error,
                               load_sessions=lambda: self._fetch_arrow(
                                   session_query, None, legacy, sessions_now=True, stream=False).sessions)
        except BaseException:
            close()
            raise
        close()
        return RawRows(sessions=sessions, runs=runs, legacy=legacy, has_workflows=has_workflows, run_counts=counts)

    def _fetch_sqlalchemy(self, queries: Sequence[sa.Select]) -> List[pa.Table]:
        out = []
        with self.read_connection() as conn:  # one transaction: one snapshot for every query
            for query in queries:
                result = conn.execute(query)
                names = list(result.keys())
                rows = result.fetchall()
                out.append(pa.table({n: pa.array([r[i] for r in rows]) if rows else pa.array([], pa.string())
                                     for i, n in enumerate(names)}))
        return out


class _SqliteCursor:
    """The Arrow path on SQLite: ``sqlite3`` only, one read transaction (one snapshot) per load."""

    def __init__(self, path: str):
        self.con = sqlite_read.connect(path)
        try:
            self.con.execute("BEGIN")
            self.cur = sqlite_read.ArrowCursor(self.con, path, batch_rows=_SQLITE_BATCH_ROWS)
        except BaseException:
            self.con.close()
            raise

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        self.cur.execute(sql, params)

    def fetchone(self):
        return self.cur.fetchone()

    def table(self, sql: str, params: Sequence[Any], schema: pa.Schema) -> pa.Table:
        self.cur.execute(sql, params)
        return _conform(self.cur.table(schema), schema)

    def reader(self, sql: str, params: Sequence[Any], schema: pa.Schema) -> pa.RecordBatchReader:
        self.cur.execute(sql, params)
        return self.cur.reader(schema)

    def close(self) -> None:
        try:
            self.cur.close()
            self.con.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - the read's own error, if any, is the one to report
            pass
        finally:
            self.con.close()


class _PgCursor:
    """The Arrow path on PostgreSQL: ADBC's driver (no SQLite involved), in a READ ONLY transaction."""

    def __init__(self, url: sa.URL):
        import adbc_driver_postgresql.dbapi as adbc

        self.conn = adbc.connect(_libpq_uri(url))
        try:
            self.cur = self.conn.cursor()
            # batches small enough to stay in the CPU's caches between the read and the parse
            # (the default is ~16 MB)
            self.cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(_PG_BATCH_BYTES)})
            self.cur.execute("SET TRANSACTION READ ONLY")
        except BaseException:
            self.conn.close()
            raise
        self.reading: Optional[pa.RecordBatchReader] = None

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        self.cur.execute(sql, parameters=tuple(params) or None)

    def fetchone(self):
        return self.cur.fetchone()

    def table(self, sql: str, params: Sequence[Any], schema: pa.Schema) -> pa.Table:
        self.execute(sql, params)
        return _conform(self.cur.fetch_arrow_table(), schema)

    def reader(self, sql: str, params: Sequence[Any], schema: pa.Schema) -> pa.RecordBatchReader:
        self.execute(sql, params)
        self.reading = self.cur.fetch_record_batch()
        return self.reading

    def close(self) -> None:
        # after a lost connection each step fails too ("Failed to rollback"): those errors
        # would hide the one that tells what happened
        for step in (getattr(self.reading, "close", None), self.cur.close, self.conn.rollback, self.conn.close):
            try:
                if step is not None:
                    step()
            except Exception:  # noqa: BLE001
                pass


_PG_BATCH_BYTES = 2 << 20
# 256 runs (about 1 MB of JSON) a batch: small enough to stay in the CPU's caches from the read
# to DuckDB's parse; 1024 took a fifth more CPU on bench/load.py's file
_SQLITE_BATCH_ROWS = 256
_FEW_RUNS = 5000  # up to this many matching runs, SQLite looks them up by row id and sorts them
_MAX_INT = 2 ** 63 - 1  # in SQLite every text value sorts after this
_CONNECTION_LOST = ("terminating connection", "server closed the connection", "no connection to the server",
                    "connection reset", "could not receive data", "ssl syscall", "eof detected",
                    "connection has been closed", "broken pipe", "connection is closed")


def _sqlite_seconds(col: sa.ColumnElement) -> sa.ColumnElement:
    """A SQLite timestamp as Unix seconds, whether stored as a number or as ISO text.

    ``CAST('2026-01-02 03:04:05' AS INTEGER)`` is 2026 (a date in 1970): ISO text goes
    through ``strftime('%s')`` instead (which honours a UTC offset; naive text is UTC).
    """
    iso = sa.and_(sa.func.typeof(col) == "text", col.op("GLOB")("[0-9][0-9][0-9][0-9]-[0-9]*"))
    return sa.case((iso, sa.cast(sa.func.strftime("%s", col), sa.BigInteger)), else_=sa.cast(col, sa.BigInteger))


class _ReadAhead:
    """Reads ``reader`` in a background thread, a few batches ahead of whoever consumes it.

    The database read (SQLite stepping in ``sqlite3`` or libpq, both without the GIL) then
    overlaps with DuckDB parsing the batches before, while only ``depth`` batches wait in
    memory. Batches come out with ``schema``'s column types. An error ends the stream; it is
    kept in ``error``, as agno_nb's own error where ``translate`` knows it.
    """

    _END = object()

    def __init__(self, reader: pa.RecordBatchReader, schema: pa.Schema, translate, depth: int = 8):
        self.reader, self.schema, self.translate = reader, schema, translate
        self.error: Optional[BaseException] = None
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
            for batch in self.reader:
                if batch.num_rows and not self._put(
                        batch if batch.schema.equals(self.schema) else _conform_batch(batch, self.schema)):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the consumer, raised there
            try:
                self.error = self.translate(exc) or exc
            except Exception:  # noqa: BLE001 - the original is still worth raising
                self.error = exc
            self._put(self.error)

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
    if backend != "postgresql":
        return False
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
        return True
    except ImportError:
        return False


def _is_connect_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("could not connect", "connection refused", "connection to server",
                                   "unable to open database", "could not translate host", "database \"",
                                   "io error", "timeout expired", "password authentication", "role \"",
                                   "can't connect to mysql", "access denied for user", "unknown database"))
