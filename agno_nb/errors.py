"""Errors a user can cause, each naming what was wrong and where."""

from __future__ import annotations

from typing import Optional


class AgnoNbError(Exception):
    """Base class of agno_nb's own errors."""


class MissingDependencyError(AgnoNbError, ImportError):
    """An optional package a feature needs is not installed; the message says which extra."""


class CorruptRowError(AgnoNbError, ValueError):
    """A stored row whose JSON cannot be decoded or has the wrong shape."""

    def __init__(self, message: str, *, table: str, session_id: Optional[str] = None,
                 run_id: Optional[str] = None, column: Optional[str] = None):
        where = [f"table {table!r}"]
        if session_id is not None:
            where.append(f"session_id={session_id!r}")
        if run_id is not None:
            where.append(f"run_id={run_id!r}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{message} ({', '.join(where)})")
        self.table = table
        self.session_id = session_id
        self.run_id = run_id
        self.column = column


class DatabaseUnreachableError(AgnoNbError, ConnectionError):
    """The database server or file could not be opened."""


class SessionOwnershipError(AgnoNbError, PermissionError):
    """A user_id tried to write a session that belongs to another user."""


class SessionNotFoundError(AgnoNbError, LookupError):
    """A session method was asked for a session that is not stored (or is another user's)."""


class ReadOnlyError(AgnoNbError, PermissionError):
    """SQL that would write, delete, attach, load or change a setting: the explorer only reads."""


class DatabaseCorruptError(AgnoNbError, RuntimeError):
    """A database file whose pages SQLite cannot read (a damaged or foreign file)."""


class ConnectionLostError(DatabaseUnreachableError):
    """The database connection broke while rows were being read."""


class HotJournalError(AgnoNbError, RuntimeError):
    """A SQLite file left mid-transaction by a killed writer (a hot rollback journal) that could not be read."""


class RunNotFoundError(AgnoNbError, LookupError):
    """A run_id that the source does not hold (e.g. annotating a run that is not stored)."""


class AnnotationError(AgnoNbError, ValueError):
    """An annotation that cannot be stored: a wrong value, or a place agno_nb will not write to."""


class UnstorableValueError(AgnoNbError, ValueError):
    """A value the database cannot hold as it is (a NUL character in an id on PostgreSQL); nothing was written."""

