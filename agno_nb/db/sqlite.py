"""SQLite storage: an embedded file, in WAL mode, safe for several writer processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url

from . import codec
from .base import BaseDb

BUSY_TIMEOUT_MS = 60_000


class SqliteDb(BaseDb):
    """Sessions in a SQLite file, in Agno's tables.

    >>> db = SqliteDb(db_file="agent.db")                          # doctest: +SKIP
    >>> db = SqliteDb(db_file="agent.db", session_table="support")  # doctest: +SKIP

    ``db_file`` or ``db_url`` (``sqlite:///path``) names the file; with neither, the
    file is ``agno.db`` in the working directory. The file runs in WAL mode with a busy
    timeout, so notebooks can read while agents in other processes write.
    """

    dialect = "sqlite"

    def __init__(self, db_file: Optional[Union[str, os.PathLike]] = None, db_url: Optional[str] = None,
                 session_table: Optional[str] = None, runs_table: Optional[str] = None):
        if db_file is not None and db_url is not None:
            raise ValueError("give db_file or db_url, not both")
        if db_url is not None:
            url = make_url(db_url)
            if url.get_backend_name() != "sqlite":
                raise ValueError(f"SqliteDb needs a sqlite:/// URL; got {url.render_as_string(hide_password=True)!r}")
            self.db_file = url.database
        else:
            self.db_file = str(Path(db_file if db_file is not None else "agno.db"))
        super().__init__(_engine(self.db_file), session_table=session_table, runs_table=runs_table, db_schema=None)

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


def _engine(db_file: Optional[str]):
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

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite's own transaction handling is switched off so that BEGIN is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("agno_nb_write") else "BEGIN")

    return engine
