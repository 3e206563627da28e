"""MySQL and MariaDB storage, through PyMySQL."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any, Dict, Iterator, Optional

from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.engine import make_url

from ..errors import DatabaseUnreachableError, MissingDependencyError
from . import codec
from .base import BaseDb
from .schema import MYSQL_DIALECTS

# Writes read what other transactions committed after this one took the session row's
# lock; InnoDB's default REPEATABLE READ would read an older snapshot.
ISOLATION = "READ COMMITTED"
DDL_LOCK_TIMEOUT_S = 60
_DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}
_CLIENT_FOUND_ROWS = 2  # the MySQL protocol's capability flag (pymysql.constants.CLIENT.FOUND_ROWS)


class MySQLDb(BaseDb):
    """Sessions in MySQL or MariaDB, in the tables agno 3.1's ``MySQLDb`` writes.

    >>> db = MySQLDb(db_url="mysql+pymysql://user:pw@localhost:3306/mydb")  # doctest: +SKIP

    As in Agno, the tables live in the database (MySQL's schema) ``db_schema``, ``ai`` by
    default, created if missing unless ``create_schema=False``; the URL's own database is
    only where the connection starts. A ``mysql://`` (or ``mariadb://``) URL is taken to
    mean the PyMySQL driver (the ``mysql`` extra: ``pip install "agno_nb[mysql]"``;
    without it, :class:`MissingDependencyError`). ``db_engine`` takes an existing
    SQLAlchemy engine instead. The arguments are Agno's, in Agno's order (see docs/compat.md).

    JSON is stored as on PostgreSQL: NaN and ±Infinity as ``null``, NUL and lone surrogates
    as U+FFFD. Writes run at READ COMMITTED and lock the session row, so concurrent
    writers of one session all keep their runs. Ids are VARCHAR(128), as in Agno, and
    compared as MySQL's collation does (by default case-insensitively).
    """

    dialect = "mysql"

    def __init__(
        self,
        id: Optional[str] = None,
        db_engine: Optional[Engine] = None,
        db_schema: Optional[str] = None,
        db_url: Optional[str] = None,
        session_table: Optional[str] = None,
        runs_table: Optional[str] = None,
        # Agno's other tables: accepted so Agno code constructs; agno_nb stores sessions only.
        memory_table: Optional[str] = None,
        metrics_table: Optional[str] = None,
        eval_table: Optional[str] = None,
        knowledge_table: Optional[str] = None,
        traces_table: Optional[str] = None,
        spans_table: Optional[str] = None,
        versions_table: Optional[str] = None,
        create_schema: bool = True,
    ):
        other_tables = {k: v for k, v in locals().items() if k.endswith("_table") and k not in ("session_table", "runs_table")}
        if db_url is not None and db_engine is not None:
            raise ValueError("give db_url or db_engine, not both")
        # Agno's default database is `ai`, also when db_schema=None is passed explicitly.
        schema = db_schema if db_schema is not None else "ai"
        self._schema_name = schema  # _describe() names it before the base class is set up
        if db_engine is not None:
            if db_engine.url.get_backend_name() not in MYSQL_DIALECTS:
                raise ValueError(f"MySQLDb needs a MySQL engine; got {db_engine.url.render_as_string(hide_password=True)!r}")
            engine = db_engine
            dialect = engine.dialect
            # Keep the caller's JSON functions if set; ours make NUL and lone surrogates storable.
            if getattr(dialect, "_json_serializer", None) is None:
                dialect._json_serializer = codec.dumps_pg  # type: ignore[attr-defined]
            if getattr(dialect, "_json_deserializer", None) is None:
                dialect._json_deserializer = codec.lenient_loads  # type: ignore[attr-defined]
        elif db_url is not None:
            url = make_url(db_url)
            if url.get_backend_name() not in MYSQL_DIALECTS:
                raise ValueError(f"MySQLDb needs a mysql:// URL; got {url.render_as_string(hide_password=True)!r}")
            if url.drivername in _DRIVERS:
                url = url.set(drivername=_DRIVERS[url.drivername])
            self._url = url
            try:
                engine = create_engine(
                    url,
                    json_serializer=codec.dumps_pg,
                    json_deserializer=codec.lenient_loads,
                    isolation_level=ISOLATION,
                    pool_pre_ping=True,  # a connection the server dropped is replaced on the next checkout
                    pool_recycle=3600,  # before the server's wait_timeout closes an idle one
                    connect_args={"connect_timeout": 10},
                )
            except ImportError as exc:  # the driver module (pymysql) is not installed
                raise MissingDependencyError(
                    f"MySQLDb for {self._describe()} needs the MySQL driver "
                    f"{exc.name or url.get_driver_name()!r}, which cannot be imported ({exc}). "
                    'Install it with: pip install "agno_nb[mysql]"') from None
            _without_found_rows(engine)
        else:
            raise ValueError("MySQLDb needs db_url or db_engine")
        self.db_url: Optional[str] = db_url
        self.create_schema = create_schema
        super().__init__(engine, session_table=session_table, runs_table=runs_table, db_schema=schema, id=id,
                         seed=f"{db_url or engine.url}#{schema}", other_tables=other_tables,
                         own_engine=db_engine is None)

    # -- the dialect's part of the shared core ---------------------------------------------

    def _insert(self, table: Table):
        return mysql_dialect.insert(table)

    def _begin_write(self, conn: Connection) -> None:
        if not self.own_engine:
            # a caller's engine may run at REPEATABLE READ; agno_nb's own is set up at READ COMMITTED
            conn.execution_options(isolation_level=ISOLATION)
        conn.begin()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with super()._write() as conn:
                yield conn
        except sa_exc.DataError as exc:
            # strict mode refuses what does not fit (an id longer than Agno's VARCHAR(128)): say so
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            raise ValueError(f"cannot store this in {self._describe()}: {detail}. Agno's MySQL tables hold ids "
                             "of at most 128 characters (session_type 20, status 50)") from None

    def _transient(self, exc: sa_exc.DBAPIError) -> bool:
        # 1213: InnoDB chose this transaction as a deadlock victim; 1205: a lock wait timed out
        return bool(getattr(exc.orig, "args", None)) and exc.orig.args[0] in (1213, 1205)

    def _insert_missing(self, conn: Connection, table: Table, values: Dict[str, Any]) -> bool:
        # MySQL has no ON CONFLICT DO NOTHING. A no-op ON DUPLICATE KEY UPDATE stands in: unlike
        # INSERT IGNORE it turns no other error into a warning (a too long id stays an error), and
        # it locks an existing row exclusively (a plain duplicate takes a shared lock, and two
        # writers upgrading theirs deadlock). It reports 1 row for an insert and 0 for a
        # duplicate, except on a connection with CLIENT_FOUND_ROWS (SQLAlchemy sets it; agno_nb's
        # own engine clears it), where a duplicate reports 1 too: there the row is looked up first.
        key = list(table.primary_key.columns)[0]
        if _found_rows(conn):
            if conn.execute(select(key).where(key == values[key.name]).with_for_update()).first() is not None:
                return False
        stmt = self._insert(table).values(**values)
        return conn.execute(stmt.on_duplicate_key_update({key.name: key})).rowcount == 1

    def _next_run_index(self, conn: Connection, runs: Table, session_id: str) -> Any:
        # MySQL refuses a subquery on the table an INSERT writes (error 1093); the session row
        # is locked, so reading the highest index first is as safe.
        return conn.execute(select(func.coalesce(func.max(runs.c.run_index) + 1, 0))
                            .where(runs.c.session_id == session_id)).scalar_one()

    def _lock_ddl(self, conn: Connection) -> None:
        # Several processes creating the same tables at once would race. MySQL commits DDL at
        # once, so a transaction-scoped lock cannot cover it: a named lock of the connection
        # does, released by _unlock_ddl.
        got = conn.execute(text("SELECT GET_LOCK(:name, :timeout)"),
                           {"name": self._ddl_lock_name(), "timeout": DDL_LOCK_TIMEOUT_S}).scalar()
        if got != 1:
            raise DatabaseUnreachableError(
                f"waited {DDL_LOCK_TIMEOUT_S} s for another process creating the session tables in "
                f"{self._describe()}; retry, or check for a stuck connection (SELECT IS_USED_LOCK('{self._ddl_lock_name()}'))")
        if self.db_schema and self.create_schema:
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{self.db_schema}`"))

    def _unlock_ddl(self, conn: Connection) -> None:
        # a connection that is gone has released its named locks with it
        with contextlib.suppress(sa_exc.DBAPIError):
            conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": self._ddl_lock_name()})

    def _wait_for_ddl(self) -> bool:
        conn = self._open()
        try:
            name = self._ddl_lock_name()
            if conn.execute(text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": DDL_LOCK_TIMEOUT_S}).scalar() == 1:
                conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
        finally:
            conn.close()
        return True

    def _ddl_lock_name(self) -> str:
        # lock names are server-wide and at most 64 characters
        return "agno_nb:ddl:" + hashlib.sha1(str(self.db_schema).encode()).hexdigest()[:16]

    def _describe(self) -> str:
        u = self.engine.url if hasattr(self, "engine") else self._url
        return (f"MySQL database {self._schema_name!r} on {u.host or 'localhost'}:{u.port or 3306} "
                f"(user {u.username!r})")

    def _connect_hint(self) -> str:
        return "check the user and password, and that the server is running (e.g. `mysqladmin -h HOST -P PORT ping`)"


def _without_found_rows(engine: Engine) -> None:
    """Connect without CLIENT_FOUND_ROWS, so that a no-op upsert reports 0 rows (see _insert_missing).

    SQLAlchemy sets the flag for its ORM's row counts; agno_nb's engine runs Core only.
    """

    @event.listens_for(engine, "do_connect")
    def _on_connect(_dialect, _record, _cargs, cparams):
        cparams["client_flag"] = cparams.get("client_flag", 0) & ~_CLIENT_FOUND_ROWS


def _found_rows(conn: Connection) -> bool:
    """Whether the connection counts matched rather than changed rows (assumed, if unknown)."""
    flags = getattr(conn.connection.dbapi_connection, "client_flag", None)
    return not isinstance(flags, int) or bool(flags & _CLIENT_FOUND_ROWS)
