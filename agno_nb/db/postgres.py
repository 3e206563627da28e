"""PostgreSQL storage, through psycopg 3."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.engine import make_url

from ..errors import MissingDependencyError
from . import codec
from .base import BaseDb
from .urls import install_hint, is_async_engine, sync_url


class PostgresDb(BaseDb):
    """Sessions in PostgreSQL, in Agno's tables (schema ``ai`` by default).

    >>> db = PostgresDb("postgresql+psycopg://user:pw@localhost:5432/mydb")  # doctest: +SKIP

    A ``postgresql://`` URL is taken to mean the psycopg 3 driver (the ``postgres`` extra:
    ``pip install "agno_nb[postgres]"``; without it, :class:`MissingDependencyError`), and so
    are the asyncio drivers' URLs Agno's ``AsyncPostgresDb`` takes (``postgresql+psycopg_async``,
    ``postgresql+asyncpg``): agno_nb writes synchronously (see :mod:`agno_nb.db.urls`).
    ``db_engine`` takes an existing SQLAlchemy engine instead. The arguments are Agno's, in
    Agno's order (see docs/compat.md); ``create_schema=False`` leaves creating ``db_schema`` to you.
    JSONB cannot hold NaN, ±Infinity, NUL or a lone surrogate: NaN and ±Infinity are
    stored as ``null`` (as on SQLite), the characters as U+FFFD, so no run is refused. A
    text column (an id, a status) cannot hold NUL either: such a value is refused with
    :class:`~agno_nb.errors.UnstorableValueError` before anything is written. Pooled connections are closed when the object is garbage-collected or at exit.
    """

    _text_refuses = "\x00"  # "PostgreSQL text fields cannot contain NUL (0x00) bytes"

    dialect = "postgresql"

    def __init__(
        self,
        db_url: Optional[str] = None,
        db_engine: Optional[Engine] = None,
        db_schema: Optional[str] = None,
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
        job_table: Optional[str] = None,
        approvals_table: Optional[str] = None,
        auth_tokens_table: Optional[str] = None,
        service_accounts_table: Optional[str] = None,
        mcp_oauth_clients_table: Optional[str] = None,
        mcp_oauth_transactions_table: Optional[str] = None,
        mcp_oauth_codes_table: Optional[str] = None,
        mcp_oauth_refresh_tokens_table: Optional[str] = None,
        mcp_oauth_keys_table: Optional[str] = None,
        id: Optional[str] = None,
        create_schema: bool = True,
        sandbox_table: Optional[str] = None,
    ):
        other_tables = {k: v for k, v in locals().items() if k.endswith("_table") and k not in ("session_table", "runs_table")}
        if db_url is not None and db_engine is not None:
            raise ValueError("give db_url or db_engine, not both")
        if db_engine is not None and is_async_engine(db_engine):
            # an AsyncEngine (AsyncPostgresDb's) cannot run agno_nb's sync code: open an engine of
            # our own on its URL, through psycopg, and leave the caller's alone
            db_url, db_engine = db_engine.url.render_as_string(hide_password=False), None
        if db_engine is not None:
            if db_engine.url.get_backend_name() != "postgresql":
                raise ValueError(f"PostgresDb needs a PostgreSQL engine; got {db_engine.url.render_as_string(hide_password=True)!r}")
            engine = db_engine
            dialect = engine.dialect
            # Keep the caller's JSON functions if set; ours make NUL and lone surrogates storable.
            if getattr(dialect, "_json_serializer", None) is None:
                dialect._json_serializer = codec.dumps_pg  # type: ignore[attr-defined]
            if getattr(dialect, "_json_deserializer", None) is None:
                dialect._json_deserializer = codec.lenient_loads  # type: ignore[attr-defined]
        elif db_url is not None:
            url = make_url(db_url)
            if url.get_backend_name() != "postgresql":
                raise ValueError(f"PostgresDb needs a postgresql:// URL; got {url.render_as_string(hide_password=True)!r}")
            url = sync_url(url)  # psycopg 3, also for AsyncPostgresDb's psycopg_async/asyncpg URLs
            self._url = url  # _describe() names it in the errors below
            try:
                engine = create_engine(
                    url,
                    json_serializer=codec.dumps_pg,
                    json_deserializer=codec.lenient_loads,
                    # A connection the server dropped is replaced on the next checkout.
                    pool_pre_ping=True,
                    connect_args={"connect_timeout": 10},
                )
            except ImportError as exc:  # the driver module (psycopg) is not installed
                raise MissingDependencyError(
                    f"PostgresDb for {self._describe()} needs the PostgreSQL driver "
                    f"{exc.name or url.get_driver_name()!r}, which cannot be imported ({exc}). "
                    f"Install it with: {install_hint(url)}") from None
        else:
            raise ValueError("PostgresDb needs db_url or db_engine")
        self.db_url: Optional[str] = db_url
        self.create_schema = create_schema
        # Agno's default schema is `ai`, also when db_schema=None is passed explicitly.
        schema = db_schema if db_schema is not None else "ai"
        super().__init__(engine, session_table=session_table, runs_table=runs_table, db_schema=schema, id=id,
                         seed=f"{db_url or engine.url}#{schema}", other_tables=other_tables,
                         own_engine=db_engine is None)

    def _insert(self, table):
        return pg_dialect.insert(table)

    def _lock_ddl(self, conn: Connection) -> None:
        # Several processes creating the same schema and tables at once would race on the
        # catalog (even CREATE ... IF NOT EXISTS can fail with a unique violation).
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('agno_nb:ddl'))"))
        if self.db_schema and self.create_schema:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.db_schema}"'))

    def _describe(self) -> str:
        u = self.engine.url if hasattr(self, "engine") else self._url
        return f"PostgreSQL database {u.database!r} on {u.host or 'localhost'}:{u.port or 5432} (user {u.username!r})"

    def _connect_hint(self) -> str:
        return "is the server running and does the database exist? (e.g. `pg_isready -h HOST -p PORT`)"
