"""agno_nb: session storage for AI agents, and the Jupyter toolkit to study those sessions.

Storage: :class:`Agent`, :class:`Team`, :class:`Workflow` with ``db=SqliteDb(...)`` or
``PostgresDb(...)``. Analysis: :func:`connect` and the DataFrame shortcuts.
"""

from .agent import Agent, Step, Team, Workflow
from .errors import AgnoNbError, CorruptRowError, DatabaseUnreachableError, SessionOwnershipError
from .records import AgentSession, Message, Metrics, RunOutput, Session, TeamSession, ToolExecution, WorkflowSession

__version__ = "0.1.0"

__all__ = [
    "Agent", "Team", "Workflow", "Step",
    "Session", "AgentSession", "TeamSession", "WorkflowSession", "RunOutput", "Message", "Metrics", "ToolExecution",
    "AgnoNbError", "CorruptRowError", "DatabaseUnreachableError", "SessionOwnershipError",
]
