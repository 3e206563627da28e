"""Agno's ``SessionType`` and ``RunStatus``, as str enums with Agno's values.

Both compare, hash and print as their value, so a member works wherever agno_nb takes
a plain string (``"agent"``, ``"COMPLETED"``), as a dict key, and in SQL parameters.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional


class _StrValue(str, Enum):
    # Enum hashes members by name; hashing by value keeps `SessionType.AGENT` and
    # "agent" the same dict key, as they are equal.
    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return str(self.value)


class SessionType(_StrValue):
    """The kind of component a session belongs to (``agno.db.base.SessionType``)."""

    AGENT = "agent"
    TEAM = "team"
    WORKFLOW = "workflow"


class RunStatus(_StrValue):
    """The state of a run (``agno.run.base.RunStatus``); stored upper case."""

    pending = "PENDING"
    running = "RUNNING"
    completed = "COMPLETED"
    paused = "PAUSED"
    cancelled = "CANCELLED"
    error = "ERROR"
    regenerated = "REGENERATED"


# Runs left out of a conversation's context (agno.run.base.HISTORY_SKIP_STATUSES).
HISTORY_SKIP_STATUSES = (RunStatus.paused.value, RunStatus.cancelled.value, RunStatus.error.value,
                         RunStatus.regenerated.value)


def plain(value: Any) -> Optional[str]:
    """An enum member (ours, Agno's or any other) as its plain string value; None stays None."""
    if value is None:
        return None
    return str(getattr(value, "value", value))
