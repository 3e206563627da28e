"""Events a streamed run yields, with Agno's class names, ``event`` values and attributes.

``agent.run(..., stream=True)`` yields :class:`RunContentEvent` deltas (their ``content``
joined is the answer); ``stream_events=True`` adds the lifecycle events
(:class:`RunStartedEvent`, tool calls, :class:`RunCompletedEvent`);
``yield_run_output=True`` ends the stream with the stored run itself. A team's events
carry ``team_id``/``team_name`` and ``Team``-prefixed ``event`` values, as in Agno.
A workflow yields :class:`WorkflowStartedEvent`, :class:`StepStartedEvent`,
:class:`StepCompletedEvent` and :class:`WorkflowCompletedEvent`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..records import Metrics, ToolExecution


@dataclass
class BaseRunEvent:
    """What every run event carries."""

    created_at: int = field(default_factory=lambda: int(time.time()))
    event: str = ""
    agent_id: str = ""
    agent_name: str = ""
    team_id: str = ""
    team_name: str = ""
    run_id: Optional[str] = None
    parent_run_id: Optional[str] = None
    session_id: Optional[str] = None
    content: Optional[Any] = None

    # Agno's event value without the team prefix ("RunContent" for "TeamRunContent").
    kind: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        self.kind = type(self)._kind
        if not self.event:
            self.event = ("Team" if self.team_id else "") + self.kind

    _kind = ""

    def to_dict(self) -> Dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "kind" and v not in (None, "")}
        if isinstance(out.get("metrics"), Metrics):
            out["metrics"] = out["metrics"].to_dict()
        if isinstance(out.get("tool"), ToolExecution):
            out["tool"] = out["tool"].to_dict()
        return out


@dataclass
class RunStartedEvent(BaseRunEvent):
    _kind = "RunStarted"
    model: str = ""
    model_provider: str = ""


@dataclass
class RunContentEvent(BaseRunEvent):
    """One delta of the answer's text."""

    _kind = "RunContent"
    content_type: str = "str"


@dataclass
class ToolCallStartedEvent(BaseRunEvent):
    _kind = "ToolCallStarted"
    tool: Optional[ToolExecution] = None


@dataclass
class ToolCallCompletedEvent(BaseRunEvent):
    _kind = "ToolCallCompleted"
    tool: Optional[ToolExecution] = None


@dataclass
class RunContentCompletedEvent(BaseRunEvent):
    _kind = "RunContentCompleted"


@dataclass
class RunCompletedEvent(BaseRunEvent):
    _kind = "RunCompleted"
    content_type: str = "str"
    metadata: Optional[Dict[str, Any]] = None
    metrics: Optional[Metrics] = None
    session_state: Optional[Dict[str, Any]] = None


@dataclass
class RunErrorEvent(BaseRunEvent):
    _kind = "RunError"
    error_type: Optional[str] = None


@dataclass
class BaseWorkflowRunEvent:
    """What every workflow event carries."""

    created_at: int = field(default_factory=lambda: int(time.time()))
    event: str = ""
    workflow_id: Optional[str] = None
    workflow_name: Optional[str] = None
    session_id: Optional[str] = None
    run_id: Optional[str] = None
    step_id: Optional[str] = None

    _kind = ""

    def __post_init__(self) -> None:
        if not self.event:
            self.event = type(self)._kind


@dataclass
class WorkflowStartedEvent(BaseWorkflowRunEvent):
    _kind = "WorkflowStarted"


@dataclass
class StepStartedEvent(BaseWorkflowRunEvent):
    _kind = "StepStarted"
    step_name: Optional[str] = None
    step_index: Optional[int] = None


@dataclass
class StepCompletedEvent(BaseWorkflowRunEvent):
    _kind = "StepCompleted"
    step_name: Optional[str] = None
    step_index: Optional[int] = None
    content: Optional[Any] = None
    step_response: Optional[Dict[str, Any]] = None


@dataclass
class WorkflowCompletedEvent(BaseWorkflowRunEvent):
    _kind = "WorkflowCompleted"
    content: Optional[Any] = None
    metadata: Optional[Dict[str, Any]] = None
    step_results: List[Dict[str, Any]] = field(default_factory=list)


__all__ = ["BaseRunEvent", "RunStartedEvent", "RunContentEvent", "ToolCallStartedEvent", "ToolCallCompletedEvent",
           "RunContentCompletedEvent", "RunCompletedEvent", "RunErrorEvent", "BaseWorkflowRunEvent",
           "WorkflowStartedEvent", "StepStartedEvent", "StepCompletedEvent", "WorkflowCompletedEvent"]
