"""PostgreSQL storage, through psycopg 3."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.engine import make_url

from ..errors import MissingDependencyError
from . import codec
from .base import BaseDb


class PostgresDb(BaseDb):
    """Sessions in PostgreSQL, in Agno's tables (schema ``ai`` by default).

    >>> db = PostgresDb("postgresql+psycopg://user:pw@localhost:5432/mydb")  # doctest: +SKIP

    A ``postgresql://`` URL is taken to mean the psycopg 3 driver (the ``postgres`` extra:
    ``pip install "agno_nb[postgres]"``; without it, :class:`MissingDependencyError`).
    JSONB cannot hold NaN, ±Infinity, NUL or a lone surrogate: NaN and ±Infinity are
    stored as ``null`` (as on SQLite), the characters as U+FFFD, so no run is refused.
    Pooled connections are closed when the object is garbage-collected or at exit.
    """

    dialect = "postgresql"

    def __init__(self, db_url: str, session_table: Optional[str] = None, runs_table: Optional[str] = None,
                 db_schema: Optional[str] = "ai"):
        url = make_url(db_url)
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"PostgresDb needs a postgresql:// URL; got {url.render_as_string(hide_password=True)!r}")
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        self.db_url = url
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
                'Install it with: pip install "agno_nb[postgres]"') from None
        super().__init__(engine, session_table=session_table, runs_table=runs_table, db_schema=db_schema)

    def _insert(self, table):
        return pg_dialect.insert(table)

    def _lock_ddl(self, conn: Connection) -> None:
        # Several processes creating the same schema and tables at once would race on the
        # catalog (even CREATE ... IF NOT EXISTS can fail with a unique violation).
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('agno_nb:ddl'))"))
        if self.db_schema:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.db_schema}"'))

    def _describe(self) -> str:
        u = self.db_url
        return f"PostgreSQL database {u.database!r} on {u.host or 'localhost'}:{u.port or 5432} (user {u.username!r})"

    def _connect_hint(self) -> str:
        return "is the server running and does the database exist? (e.g. `pg_isready -h HOST -p PORT`)"
