"""Database URLs as Agno users write them, turned into the synchronous drivers agno_nb uses.

Agno's ``AsyncPostgresDb`` and ``AsyncSqliteDb`` take SQLAlchemy URLs with asyncio drivers
(``postgresql+psycopg_async://``, ``postgresql+asyncpg://``, ``sqlite+aiosqlite://``). agno_nb
reads and writes synchronously, so those URLs are used through the matching synchronous
driver: psycopg 3 for PostgreSQL (also for asyncpg URLs: agno_nb's ``postgres`` extra installs
psycopg, not asyncpg) and Python's own sqlite3 for SQLite. An async engine run from sync code
fails with SQLAlchemy's ``MissingGreenlet``; this module is why that cannot happen here.

It also reads the location out of a db object — agno's ``SqliteDb``, ``PostgresDb``,
``AsyncSqliteDb``, ``AsyncPostgresDb`` or agno_nb's own — by duck typing, so agno need not be
installed: its engine's URL, its schema and its table names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import sqlalchemy as sa

__all__ = ["sync_url", "install_hint", "is_async_engine", "DbLocation", "db_location"]

# drivername -> the synchronous one agno_nb uses
_SYNC_DRIVERS = {
    "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg", "postgresql+asyncpg": "postgresql+psycopg",
    "sqlite+aiosqlite": "sqlite", "sqlite+pysqlite": "sqlite",
    "mysql+aiomysql": "mysql+pymysql", "mysql+asyncmy": "mysql+pymysql",
}
# asyncpg spells libpq's sslmode ``ssl`` in the URL's query
_ASYNCPG_QUERY = {"ssl": "sslmode"}


def sync_url(url: sa.URL) -> sa.URL:
    """``url`` with the synchronous driver agno_nb reads and writes through (see the module doc).

    >>> sync_url(sa.make_url("postgresql+asyncpg://u@h/db?ssl=require")).render_as_string()
    'postgresql+psycopg://u@h/db?sslmode=require'
    """
    if url.drivername not in _SYNC_DRIVERS:
        return url
    out = url.set(drivername=_SYNC_DRIVERS[url.drivername])
    if url.drivername == "postgresql+asyncpg" and any(k in url.query for k in _ASYNCPG_QUERY):
        out = out.set(query={_ASYNCPG_QUERY.get(k, k): v for k, v in url.query.items()})
    return out


def is_async_engine(engine: Any) -> bool:
    """True for SQLAlchemy's ``AsyncEngine`` (what agno's async dbs hold), without importing asyncio
    support: only it has a ``sync_engine``."""
    return hasattr(engine, "sync_engine")


def install_hint(url: sa.URL) -> str:
    """What to install to use ``url`` (after :func:`sync_url`), for a MissingDependencyError."""
    backend = url.get_backend_name()
    if backend == "postgresql":
        return 'pip install "agno_nb[postgres]" (psycopg 3, which agno_nb uses for every PostgreSQL URL)'
    if backend in ("mysql", "mariadb"):
        return 'pip install "agno_nb[mysql]"'
    return "Python's own sqlite3 reads SQLite: nothing to install"


@dataclass
class DbLocation:
    """Where a db object keeps its tables."""

    url: sa.URL
    db_schema: Optional[str]
    session_table: str
    runs_table: Optional[str]
    # Agno's other tables by short name ("memory", "trace", "span", "approvals", ...) -> table name
    other_tables: Dict[str, str] = field(default_factory=dict)


def db_location(db: Any) -> Optional[DbLocation]:
    """The location of ``db`` if it looks like an Agno (or agno_nb) SQL db object, else None.

    Agno's objects hold ``db_engine`` (an ``Engine`` or ``AsyncEngine``: both have ``.url``),
    ``db_schema`` on PostgreSQL, and ``session_table_name``, ``runs_table_name``,
    ``memory_table_name``, ... (``agno.db.base.BaseDb.__init__``).
    """
    engine = getattr(db, "db_engine", None)
    url = getattr(engine, "url", None)
    session_table = getattr(db, "session_table_name", None)
    if not isinstance(url, sa.URL) or not isinstance(session_table, str):
        return None
    others = {name[:-len("_table_name")]: value for name, value in vars(db).items()
              if name.endswith("_table_name") and isinstance(value, str)
              and name not in ("session_table_name", "runs_table_name")}
    runs_table = getattr(db, "runs_table_name", None)
    schema = getattr(db, "db_schema", None)
    return DbLocation(url=sync_url(url), db_schema=schema if isinstance(schema, str) else None,
                      session_table=session_table, runs_table=runs_table if isinstance(runs_table, str) else None,
                      other_tables=others)
