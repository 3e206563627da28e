"""Session and run records, in the shape Agno stores them.

Every record is a dataclass over the keys Agno writes. Keys this version does not know
land in ``extra`` and are written back untouched, so a database written by a newer Agno
survives a round trip through agno_nb.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Optional, Type, TypeVar

R = TypeVar("R", bound="Record")

RUN_STATUSES = ("PENDING", "RUNNING", "COMPLETED", "PAUSED", "CANCELLED", "ERROR", "REGENERATED")


def now() -> int:
    """The current time as Unix seconds, the unit Agno stores."""
    return int(time.time())


@dataclass
class Record:
    """Base for records that round-trip a JSON object.

    ``from_dict`` maps known keys to fields (building nested records) and keeps the rest
    in ``extra``; ``to_dict`` leaves out None values, as Agno does.
    """

    extra: Dict[str, Any] = field(default_factory=dict, repr=False, compare=True)

    # key -> (record class, is_list)
    _nested: ClassVar[Dict[str, tuple]] = {}

    @classmethod
    def _field_names(cls) -> List[str]:
        return [f.name for f in dataclasses.fields(cls) if f.name != "extra"]

    @classmethod
    def from_dict(cls: Type[R], data: Optional[Dict[str, Any]]) -> R:
        if isinstance(data, cls):
            return data
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}")
        names = set(cls._field_names())
        kwargs: Dict[str, Any] = {}
        extra: Dict[str, Any] = {}
        for key, value in data.items():
            if key not in names:
                extra[key] = value
                continue
            nested = cls._nested.get(key)
            if nested is not None and value is not None:
                klass, is_list = nested
                if is_list and isinstance(value, list):
                    value = [klass.from_dict(v) if isinstance(v, dict) else v for v in value]
                elif not is_list and isinstance(value, dict):
                    value = klass.from_dict(value)
            kwargs[key] = value
        return cls(extra=extra, **kwargs)

    def _keep(self, key: str, value: Any) -> bool:
        return value is not None

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for name in self._field_names():
            value = getattr(self, name)
            if isinstance(value, Record):
                value = value.to_dict()
            elif isinstance(value, list):
                value = [v.to_dict() if isinstance(v, Record) else v for v in value]
            if self._keep(name, value):
                out[name] = value
        out.update(self.extra)
        return out


@dataclass
class Metrics(Record):
    """Token and timing metrics of a message, a run or a whole session."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost: Optional[float] = None
    duration: Optional[float] = None
    time_to_first_token: Optional[float] = None
    details: Optional[Dict[str, Any]] = None

    _SUMMED: ClassVar[tuple] = (
        "input_tokens", "output_tokens", "total_tokens", "cache_read_tokens",
        "cache_write_tokens", "reasoning_tokens", "cost", "duration",
    )

    def _keep(self, key: str, value: Any) -> bool:
        # Agno leaves zero counters out.
        return value is not None and value != 0 and value != {}

    def __add__(self, other: "Metrics") -> "Metrics":
        out = Metrics()
        for key in self._SUMMED:
            a, b = getattr(self, key), getattr(other, key)
            setattr(out, key, None if a is None and b is None else (a or 0) + (b or 0))
        out.time_to_first_token = self.time_to_first_token if self.time_to_first_token is not None else other.time_to_first_token
        return out

    def __sub__(self, other: "Metrics") -> "Metrics":
        out = Metrics()
        for key in self._SUMMED:
            a, b = getattr(self, key), getattr(other, key)
            setattr(out, key, None if a is None and b is None else (a or 0) - (b or 0))
        return out


@dataclass
class Message(Record):
    """One chat message: system, user, assistant or tool."""

    role: str = "user"
    content: Any = None
    id: Optional[str] = None
    from_history: bool = False
    stop_after_tool_call: Optional[bool] = None
    tool_calls: Optional[List[Dict[str, Any]]] = None
    tool_call_id: Optional[str] = None
    tool_name: Optional[str] = None
    tool_args: Optional[Dict[str, Any]] = None
    tool_call_error: Optional[bool] = None
    provider_data: Optional[Dict[str, Any]] = None
    metrics: Optional[Metrics] = None
    created_at: Optional[int] = None

    _nested: ClassVar[Dict[str, tuple]] = {"metrics": (Metrics, False)}

    def _keep(self, key: str, value: Any) -> bool:
        if key == "from_history":
            return value is not None
        return value is not None and value != [] and value != {}

    def to_chat(self) -> Dict[str, Any]:
        """This message as an OpenAI chat-completions message."""
        out: Dict[str, Any] = {"role": self.role}
        if self.role == "tool":
            out["tool_call_id"] = self.tool_call_id
            out["content"] = "" if self.content is None else str(self.content)
            return out
        out["content"] = self.content
        if self.tool_calls:
            out["tool_calls"] = self.tool_calls
        return out


@dataclass
class ToolExecution(Record):
    """One tool call the model asked for, and what the tool returned."""

    tool_call_id: Optional[str] = None
    tool_name: Optional[str] = None
    tool_args: Optional[Dict[str, Any]] = None
    tool_call_error: Optional[bool] = None
    result: Any = None
    metrics: Optional[Dict[str, Any]] = None
    child_run_id: Optional[str] = None
    created_at: Optional[int] = None


@dataclass
class RunOutput(Record):
    """A run: one turn of an agent, team or workflow, with everything it produced.

    ``messages`` are the messages the run sent and received (history ones carry
    ``from_history=True``), ``tools`` the tool executions, ``metrics`` the run totals.
    """

    run_id: Optional[str] = None
    agent_id: Optional[str] = None
    agent_name: Optional[str] = None
    team_id: Optional[str] = None
    team_name: Optional[str] = None
    workflow_id: Optional[str] = None
    workflow_name: Optional[str] = None
    session_id: Optional[str] = None
    parent_run_id: Optional[str] = None
    user_id: Optional[str] = None
    input: Optional[Dict[str, Any]] = None
    content: Any = None
    content_type: Optional[str] = None
    model: Optional[str] = None
    model_provider: Optional[str] = None
    status: Optional[str] = None
    created_at: Optional[int] = None
    metrics: Optional[Metrics] = None
    messages: Optional[List[Message]] = None
    tools: Optional[List[ToolExecution]] = None
    session_state: Optional[Dict[str, Any]] = None
    metadata: Optional[Dict[str, Any]] = None
    events: Optional[List[Any]] = None
    step_results: Optional[List[Dict[str, Any]]] = None
    step_executor_runs: Optional[List["RunOutput"]] = None

    _nested: ClassVar[Dict[str, tuple]] = {
        "metrics": (Metrics, False),
        "messages": (Message, True),
        "tools": (ToolExecution, True),
    }

    @property
    def run_type(self) -> str:
        """``workflow``, ``team`` or ``agent``, as the runs table's ``run_type`` column."""
        if self.workflow_id is not None and self.agent_id is None and self.team_id is None:
            return "workflow"
        if self.team_id is not None and self.agent_id is None:
            return "team"
        return "agent"

    @property
    def input_content(self) -> Any:
        return (self.input or {}).get("input_content")

    def __str__(self) -> str:
        return "" if self.content is None else str(self.content)


RunOutput._nested["step_executor_runs"] = (RunOutput, True)

SESSION_TYPES = ("agent", "team", "workflow")


@dataclass
class Session(Record):
    """A session: a conversation (or a pipeline's history) under one ``session_id``."""

    session_id: str = ""
    session_type: str = "agent"
    agent_id: Optional[str] = None
    team_id: Optional[str] = None
    workflow_id: Optional[str] = None
    user_id: Optional[str] = None
    session_data: Optional[Dict[str, Any]] = None
    agent_data: Optional[Dict[str, Any]] = None
    team_data: Optional[Dict[str, Any]] = None
    workflow_data: Optional[Dict[str, Any]] = None
    metadata: Optional[Dict[str, Any]] = None
    runs: List[RunOutput] = field(default_factory=list)
    summary: Optional[Dict[str, Any]] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None

    _nested: ClassVar[Dict[str, tuple]] = {"runs": (RunOutput, True)}

    @property
    def session_name(self) -> Optional[str]:
        return (self.session_data or {}).get("session_name")

    @property
    def session_state(self) -> Dict[str, Any]:
        return (self.session_data or {}).get("session_state") or {}

    @property
    def session_metrics(self) -> Metrics:
        return Metrics.from_dict((self.session_data or {}).get("session_metrics") or {})

    @property
    def component_id(self) -> Optional[str]:
        return {"agent": self.agent_id, "team": self.team_id, "workflow": self.workflow_id}.get(self.session_type)


@dataclass
class AgentSession(Session):
    session_type: str = "agent"


@dataclass
class TeamSession(Session):
    session_type: str = "team"


@dataclass
class WorkflowSession(Session):
    session_type: str = "workflow"


SESSION_CLASSES: Dict[str, Type[Session]] = {
    "agent": AgentSession,
    "team": TeamSession,
    "workflow": WorkflowSession,
}


def session_from_dict(data: Dict[str, Any]) -> Session:
    """Build the session class that matches ``data["session_type"]``."""
    klass = SESSION_CLASSES.get(data.get("session_type") or "agent", Session)
    return klass.from_dict(data)
