"""agno_nb: session storage for AI agents, and the Jupyter toolkit to study those sessions.

Storage: :class:`Agent`, :class:`Team`, :class:`Workflow` with ``db=SqliteDb(...)``,
``PostgresDb(...)`` or ``MySQLDb(...)``. Analysis: :func:`connect` and the DataFrame shortcuts
(``sessions_df``, ``runs_df``, ``messages_df``, ``tool_calls_df``). Widgets:
:func:`replay`, :func:`compare`, :func:`browse`. In IPython: ``%load_ext agno_nb``.
"""

from .agent import Agent, RunContext, Step, Team, Workflow
from .db.enums import RunStatus, SessionType
from .errors import (
    AgnoNbError,
    AnnotationError,
    ConnectionLostError,
    CorruptRowError,
    DatabaseCorruptError,
    DatabaseUnreachableError,
    HotJournalError,
    MissingDependencyError,
    ReadOnlyError,
    RunNotFoundError,
    SessionNotFoundError,
    SessionOwnershipError,
    UnstorableValueError,
)
from .records import (
    AgentSession,
    Message,
    Metrics,
    RunOutput,
    Session,
    SessionMetrics,
    TeamSession,
    ToolExecution,
    WorkflowChatInteraction,
    WorkflowSession,
)
from .session_values import RunInput, SessionSummary

from ._version import __version__  # noqa: E402

# Analysis and widgets pull in DuckDB, pandas and ipywidgets: loaded on first use, so an
# agent process that only writes sessions starts fast.
_LAZY = {
    "connect": "analysis", "SessionExplorer": "analysis", "sessions_df": "analysis", "runs_df": "analysis",
    "messages_df": "analysis", "tool_calls_df": "analysis", "describe": "analysis", "Column": "analysis",
    "replay": "widgets", "compare": "widgets", "browse": "widgets",
}

__all__ = [
    "Agent", "Team", "Workflow", "Step", "RunContext",
    "Session", "AgentSession", "TeamSession", "WorkflowSession", "RunOutput", "Message", "Metrics", "ToolExecution",
    "SessionType", "RunStatus",
    "AgnoNbError", "ConnectionLostError", "CorruptRowError", "DatabaseCorruptError", "DatabaseUnreachableError",
    "HotJournalError", "MissingDependencyError", "ReadOnlyError", "SessionNotFoundError", "SessionOwnershipError", "UnstorableValueError",
    "SessionSummary", "SessionMetrics", "RunInput", "WorkflowChatInteraction",
    "AnnotationError", "RunNotFoundError",
    *_LAZY,
]


# Submodules reachable as attributes without an import: ``agno_nb.prices.set(...)``.
_SUBMODULES = ("prices", "stats")


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'agno_nb' has no attribute {name!r}")


def __dir__():
    # tab completion (``agno_nb.con<TAB>``) lists the lazily imported names too
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython) -> None:
    """``%load_ext agno_nb``."""
    from .magics import load_ipython_extension as load

    load(ipython)
