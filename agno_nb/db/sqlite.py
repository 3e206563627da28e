"""SQLite storage: an embedded file, in WAL mode, safe for several writer processes."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Optional, Union

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url

from . import codec
from .base import BaseDb
from .urls import is_async_engine

BUSY_TIMEOUT_MS = 60_000
# PRAGMA synchronous levels one may choose; OFF is not offered (an OS crash can corrupt the file).
SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")


class SqliteDb(BaseDb):
    """Sessions in a SQLite file, in Agno's tables.

    >>> db = SqliteDb(db_file="agent.db")                          # doctest: +SKIP
    >>> db = SqliteDb(db_file="agent.db", session_table="support")  # doctest: +SKIP

    ``db_file``, ``db_url`` (``sqlite:///path``) or ``db_engine`` (a SQLAlchemy engine)
    names the file; with none, the file is ``agno.db`` in the working directory. The
    arguments are Agno's, in Agno's order (see docs/compat.md). The file runs in WAL mode with a busy
    timeout, so notebooks can read while agents in other processes write.

    ``synchronous="FULL"`` (the default, as in Agno) syncs the WAL to disk at every commit,
    so a run reported stored survives a power loss. ``"NORMAL"`` syncs only at checkpoints:
    faster commits, still never a corrupt file, but the last runs before a power loss (not
    a process crash) can be lost. Foreign keys are enforced, so deleting a session row with
    plain SQL through ``db.engine`` deletes its runs too (ON DELETE CASCADE). NaN and
    ±Infinity are stored as JSON ``null``, as on PostgreSQL.
    """

    dialect = "sqlite"

    def __init__(
        self,
        db_file: Optional[Union[str, os.PathLike]] = None,
        db_engine: Optional[Engine] = None,
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
        components_table: Optional[str] = None,
        component_configs_table: Optional[str] = None,
        component_links_table: Optional[str] = None,
        learnings_table: Optional[str] = None,
        schedules_table: Optional[str] = None,
        products_table: Optional[str] = None,
        sources_table: Optional[str] = None,
        projects_table: Optional[str] = None,
        tasks_table: Optional[str] = None,
        schedule_runs_table: Optional[str] = None,
        approvals_table: Optional[str] = None,
        auth_tokens_table: Optional[str] = None,
        service_accounts_table: Optional[str] = None,
        mcp_oauth_clients_table: Optional[str] = None,
        mcp_oauth_transactions_table: Optional[str] = None,
        mcp_oauth_codes_table: Optional[str] = None,
        mcp_oauth_refresh_tokens_table: Optional[str] = None,
        mcp_oauth_keys_table: Optional[str] = None,
        id: Optional[str] = None,
        *,
        synchronous: str = "FULL",
    ):
        other_tables = {k: v for k, v in locals().items() if k.endswith("_table") and k not in ("session_table", "runs_table")}
        given = [name for name, value in (("db_file", db_file), ("db_engine", db_engine), ("db_url", db_url)) if value is not None]
        if len(given) > 1:
            raise ValueError(f"give one of db_file, db_url or db_engine, not {' and '.join(given)}")
        if db_engine is not None and is_async_engine(db_engine):
            # an AsyncEngine (AsyncSqliteDb's, aiosqlite) cannot run agno_nb's sync code: the same
            # file through sqlite3, and the caller's engine left alone
            db_url, db_engine = db_engine.url.render_as_string(hide_password=False), None
        if db_engine is not None:
            if db_engine.url.get_backend_name() != "sqlite":
                raise ValueError(f"SqliteDb needs a SQLite engine; got {db_engine.url.render_as_string(hide_password=True)!r}")
            self.db_file = db_engine.url.database
            engine = _configure(db_engine, own=False, synchronous=synchronous)
        else:
            if db_url is not None:
                url = make_url(db_url)
                if url.get_backend_name() != "sqlite":
                    raise ValueError(f"SqliteDb needs a sqlite:/// URL; got {url.render_as_string(hide_password=True)!r}")
                self.db_file = url.database
            else:
                self.db_file = str(Path(db_file if db_file is not None else "agno.db"))
            engine = _engine(self.db_file, synchronous)
        self.db_url: Optional[str] = db_url
        super().__init__(engine, session_table=session_table, runs_table=runs_table, db_schema=None, id=id,
                         seed=db_url or (str(db_file) if db_file is not None else None) or str(engine.url),
                         other_tables=other_tables, own_engine=db_engine is None)

    def _insert(self, table):
        return sqlite_dialect.insert(table)

    def _begin_write(self, conn: Connection) -> None:
        # Take the write lock up front: a deferred transaction that reads, then writes,
        # fails with SQLITE_BUSY instead of waiting when another writer got there first.
        conn.execution_options(agno_nb_write=True)
        conn.begin()

    def _describe(self) -> str:
        return f"SQLite file {self.db_file!r}"

    def _connect_hint(self) -> str:
        return "check that the directory exists and is writable"


def _sync_level(synchronous: str) -> str:
    level = str(synchronous).upper()
    if level not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}; got {synchronous!r}")
    return level


def _engine(db_file: Optional[str], synchronous: str = "FULL"):
    _sync_level(synchronous)
    if db_file and db_file != ":memory:":
        parent = Path(db_file).expanduser().resolve().parent
        if not parent.is_dir():
            raise FileNotFoundError(f"cannot create SQLite file {db_file!r}: directory {str(parent)!r} does not exist")
    engine = create_engine(
        URL.create("sqlite", database=db_file or None),  # built, not parsed: a path may hold '?' or '#' 
        json_serializer=codec.dumps,
        json_deserializer=codec.lenient_loads,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )
    return _configure(engine, own=True, synchronous=synchronous)


def _configure(engine: Engine, own: bool, synchronous: str = "FULL") -> Engine:
    """Set up an engine for agno_nb's writes: pragmas, our own BEGIN, lenient JSON.

    A caller's engine (``db_engine=``) keeps its pool and JSON functions if it set
    them; its existing connections are left alone and new ones are set up.
    """
    level = _sync_level(synchronous)
    if not own:
        dialect = engine.dialect
        if getattr(dialect, "_json_serializer", None) is None:
            dialect._json_serializer = codec.dumps  # type: ignore[attr-defined]
        if getattr(dialect, "_json_deserializer", None) is None:
            dialect._json_deserializer = codec.lenient_loads  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite's own transaction handling is switched off so that BEGIN is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")  # SQLite's default is OFF, per connection
        _enable_wal(cur)
        cur.execute(f"PRAGMA synchronous = {level}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("agno_nb_write") else "BEGIN")

    if not own:
        # Connections pooled before the listeners existed lack the pragmas: start a fresh pool.
        engine.dispose(close=False)
    return engine


def _enable_wal(cur: sqlite3.Cursor) -> None:
    """``PRAGMA journal_mode = WAL``, waiting like any other statement for a busy file.

    Switching a new file to WAL upgrades a read lock to a write lock, and SQLite answers
    "database is locked" at once, without its busy handler, when another connection holds
    the write lock (several processes opening a new file at the same moment). So the
    switch is tried again until the busy timeout has passed.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
