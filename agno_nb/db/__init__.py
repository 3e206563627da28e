"""Session storage in Agno's own tables: :class:`SqliteDb`, :class:`PostgresDb` and :class:`MySQLDb`."""

from .base import BaseDb
from .enums import RunStatus, SessionType
from .sqlite import SqliteDb

__all__ = ["BaseDb", "SqliteDb", "PostgresDb", "MySQLDb", "SessionType", "RunStatus"]


def __getattr__(name):
    # psycopg and pymysql are optional extras: import them only when asked for.
    if name == "PostgresDb":
        from .postgres import PostgresDb

        return PostgresDb
    if name == "MySQLDb":
        from .mysql import MySQLDb

        return MySQLDb
    raise AttributeError(name)
