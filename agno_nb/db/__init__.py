"""Session storage in Agno's own tables: :class:`SqliteDb` and :class:`PostgresDb`."""

from .base import BaseDb
from .enums import RunStatus, SessionType
from .sqlite import SqliteDb

__all__ = ["BaseDb", "SqliteDb", "PostgresDb", "SessionType", "RunStatus"]


def __getattr__(name):
    # psycopg is an optional extra: import it only when asked for.
    if name == "PostgresDb":
        from .postgres import PostgresDb

        return PostgresDb
    raise AttributeError(name)
