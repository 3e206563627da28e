"""Agno db features outside session storage, and how agno_nb refuses them.

Agno's ``SqliteDb``/``PostgresDb`` also store memories, metrics, evals, knowledge,
traces, components and more. agno_nb accepts their table-name arguments (so Agno code
constructs unchanged) but stores sessions and runs only: calling one of those
features' methods raises :class:`NotImplementedError` naming the feature, instead of
an ``AttributeError`` that would read like a typo.
"""

from __future__ import annotations

import re
from typing import Optional

_VERBS = ("get", "upsert", "delete", "create", "update", "list", "search", "clear", "calculate", "rename",
          "restore", "set", "insert", "store", "consume", "mark", "claim", "release", "record", "read", "count",
          "assign", "unassign", "replace", "is", "append", "add", "start", "complete", "transition", "disable",
          "stamp", "load", "resolve", "cancel", "reassign", "migrate", "cleanup")

# (pattern in the method name, feature as a user knows it); first match wins.
_FEATURES = (
    (r"memor", "user memories"),
    (r"metric", "metrics"),
    (r"eval", "evals"),
    (r"knowledge", "knowledge contents"),
    (r"trace|span", "traces and spans"),
    (r"component|config|links?\b|dependents", "components and configs"),
    (r"learning", "learnings"),
    (r"schedule", "schedules"),
    (r"approval", "approvals"),
    (r"product|project|source|task|company", "company products, projects, sources and tasks"),
    (r"authz|auth_token|service_account", "authorization records"),
    (r"mcp_oauth", "MCP OAuth records"),
    (r"transcript", "external-agent transcripts"),
    (r"compaction", "compactions"),
    (r"tool_result", "offloaded tool results"),
    (r"schema_version|legacy_runs|migrate", "schema migrations"),
    (r"pending_run|session_owner", "run control (cancel, reassign owner)"),
)


def unsupported_feature(method: str) -> Optional[str]:
    """The Agno feature behind ``method`` if it is one agno_nb does not offer, else None."""
    if method.startswith("_") or method.split("_", 1)[0] not in _VERBS:
        return None
    for pattern, feature in _FEATURES:
        if re.search(pattern, method):
            return feature
    return None
