"""What a tool can ask the runtime for: Agno 3.1's ``RunContext`` and the other injected parameters.

Agno 3.1 fills some tool parameters itself, by NAME (``agno.tools.function.FunctionCall.
_build_entrypoint_args``): ``agent``, ``team``, ``run_context``, the run's media ``images``,
``videos``, ``audios``, ``files``, and the ``_agno_``-prefixed twins of the first three. They
are left out of the schema the model sees, and a value the model supplies for one of them is
dropped. agno_nb does the same, so a tool written for Agno runs unchanged, and keeps Agno 2's
``session_state`` parameter, which its own tools and notebooks use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

__all__ = ["RunContext", "INJECTED_NAMES", "injected_values"]

# Name a tool parameter has -> the key of the value it receives (see ``injected_values``).
INJECTED_NAMES: Dict[str, str] = {
    "agent": "agent", "team": "team", "run_context": "run_context",
    "_agno_agent": "agent", "_agno_team": "team", "_agno_run_context": "run_context",
    "images": "images", "videos": "videos", "audios": "audios", "files": "files",
    "session_state": "session_state",
}


@dataclass
class RunContext:
    """The run a tool is called in, shaped as ``agno.run.RunContext`` (agno 3.1.10).

    ``session_state`` is the live state of the session: what a tool changes in it is
    stored with the run, as in Agno. ``messages`` is the run's message list so far (read it,
    do not change it). The fields for features agno_nb does not implement (knowledge,
    dependencies, output schemas, client tools) exist so that code reading them works; they
    hold what the run was given, which is ``None``.
    """

    run_id: str
    session_id: str
    user_id: Optional[str] = None
    workflow_id: Optional[str] = None
    workflow_name: Optional[str] = None
    dependencies: Optional[Dict[str, Any]] = None
    knowledge_filters: Optional[Any] = None
    metadata: Optional[Dict[str, Any]] = None
    session_state: Optional[Dict[str, Any]] = None
    output_schema: Optional[Any] = None
    authorization: Any = None
    messages: Optional[List[Any]] = None
    tools: Optional[List[Any]] = None
    knowledge: Optional[Any] = None
    members: Optional[List[Any]] = None
    client_tools: Optional[List[Any]] = None


def injected_values(run_context: Optional[RunContext], *, agent: Any = None, team: Any = None) -> Dict[str, Any]:
    """The values behind ``INJECTED_NAMES`` for one run. Media is ``None``: agno_nb's runs
    take no media (``run(images=...)`` is refused), which is what Agno passes then too."""
    state = run_context.session_state if run_context is not None else None
    return {"agent": agent, "team": team, "run_context": run_context, "images": None, "videos": None,
            "audios": None, "files": None, "session_state": state if state is not None else {}}
