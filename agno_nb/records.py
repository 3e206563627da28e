"""Session and run records, in the shape Agno stores them.

Every record is a dataclass over the keys Agno writes. Keys this version does not know
land in ``extra`` and are written back untouched, as are the nulls a record was read
with, so a database written by Agno (or a newer Agno) survives a round trip through
agno_nb. The session records have Agno 3.1's methods (``get_messages``,
``get_chat_history``, ``get_team_history``, ``get_workflow_history``, ...) with its
parameters and results; ``tests/test_compat_runtime.py`` compares them with agno's.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Tuple, Type, TypeVar

from .session_values import RunInput, SessionSummary

R = TypeVar("R", bound="Record")

RUN_STATUSES = ("PENDING", "RUNNING", "COMPLETED", "PAUSED", "CANCELLED", "ERROR", "REGENERATED")
# Agno's HISTORY_SKIP_STATUSES: runs left out of history and of get_messages by default.
HISTORY_SKIP_STATUSES = ("PAUSED", "CANCELLED", "ERROR", "REGENERATED")


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
    # Known keys the stored JSON held as null: written back as null, so a record read and
    # written again is the same JSON (Agno writes some None values, e.g. a tool's child_run_id).
    nulls: frozenset = field(default=frozenset(), repr=False, compare=False)

    # key -> (record class, is_list)
    _nested: ClassVar[Dict[str, tuple]] = {}

    @classmethod
    def _field_names(cls) -> List[str]:
        return [f.name for f in dataclasses.fields(cls) if f.name not in ("extra", "nulls")]

    @classmethod
    def from_dict(cls: Type[R], data: Optional[Mapping[str, Any]]) -> R:
        if isinstance(data, cls):
            return data
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
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
                    value = [klass.from_dict(v) if isinstance(v, Mapping) else v for v in value]
                elif not is_list and isinstance(value, Mapping):
                    value = klass.from_dict(value)
            kwargs[key] = value
        nulls = frozenset(k for k, v in kwargs.items() if v is None)
        return cls(extra=extra, nulls=nulls, **kwargs)

    def _keep(self, key: str, value: Any) -> bool:
        return value is not None

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for name in self._field_names():
            value = _plain(getattr(self, name))
            if self._keep(name, value) or (value is None and name in self.nulls):
                out[name] = value
        out.update(self.extra)
        return out


def _plain(value: Any) -> Any:
    """A record (or a list of them) as the JSON Agno stores; other values as they are."""
    if isinstance(value, (Record, SessionSummary, RunInput)):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class Metrics(Record):
    """Token and timing metrics of a message, a run or a whole session.

    Agno 3.1 splits these into ``MessageMetrics``, ``RunMetrics`` and ``SessionMetrics``
    with the same attribute names; zero counters are left out of the stored JSON.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    audio_total_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost: Optional[float] = None
    duration: Optional[float] = None
    time_to_first_token: Optional[float] = None
    details: Optional[Dict[str, Any]] = None
    additional_metrics: Optional[Dict[str, Any]] = None

    _SUMMED: ClassVar[tuple] = (
        "input_tokens", "output_tokens", "total_tokens", "audio_input_tokens", "audio_output_tokens",
        "audio_total_tokens", "cache_read_tokens",
        "cache_write_tokens", "reasoning_tokens", "cost", "duration",
    )

    def _keep(self, key: str, value: Any) -> bool:
        # Agno leaves zero counters out.
        return value is not None and value != 0 and value != {}

    def __add__(self, other: "Metrics") -> "Metrics":
        out = type(self)()
        for key in self._SUMMED:
            a, b = getattr(self, key), getattr(other, key)
            setattr(out, key, None if a is None and b is None else (a or 0) + (b or 0))
        out.time_to_first_token = self.time_to_first_token if self.time_to_first_token is not None else other.time_to_first_token
        out.details = _merge_details(self.details, other.details, 1)
        return out

    def __sub__(self, other: "Metrics") -> "Metrics":
        out = type(self)()
        for key in self._SUMMED:
            a, b = getattr(self, key), getattr(other, key)
            setattr(out, key, None if a is None and b is None else (a or 0) - (b or 0))
        out.details = _merge_details(self.details, other.details, -1)
        return out


def _merge_details(a: Optional[Dict[str, Any]], b: Optional[Dict[str, Any]], sign: int) -> Optional[Dict[str, Any]]:
    """Per-model metrics summed the way Agno's SessionMetrics sums them: one entry per
    model type and (provider, id), token counters and cost added."""
    if not a and not b:
        return None
    out: Dict[str, List[Dict[str, Any]]] = {}
    for source, factor in ((a or {}, 1), (b or {}, sign)):
        for kind, entries in source.items():
            bucket = out.setdefault(kind, [])
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, Mapping):
                    continue
                key = (entry.get("provider"), entry.get("id"))
                into = next((e for e in bucket if (e.get("provider"), e.get("id")) == key), None)
                if into is None:
                    into = {"id": entry.get("id"), "provider": entry.get("provider")}
                    bucket.append(into)
                for name, value in entry.items():
                    if name not in ("id", "provider") and isinstance(value, (int, float)) and not isinstance(value, bool):
                        into[name] = into.get(name, 0) + factor * value
    # Agno leaves zero counters out of each entry.
    return {kind: [{k: v for k, v in e.items() if v != 0} for e in entries] for kind, entries in out.items()}


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
    input: Optional[RunInput] = None
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

    _nested: ClassVar[Dict[str, tuple]] = {  # "input": by __post_init__, which knows the run type
        "metrics": (Metrics, False),
        "messages": (Message, True),
        "tools": (ToolExecution, True),
    }

    def __post_init__(self) -> None:
        # Agent and team runs hold a RunInput ({"input_content": ...}); a workflow run the raw
        # value, as Agno stores it (a dict input stays a dict). agno_nb once wrapped workflow
        # inputs too: that form still reads as a RunInput.
        if (isinstance(self.input, Mapping) and not isinstance(self.input, RunInput)
                and (self.run_type != "workflow" or "input_content" in self.input)):
            self.input = RunInput.from_dict(self.input)

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
        # Agno's workflow runs store the raw input, agent and team runs a RunInput.
        return self.input.input_content if isinstance(self.input, RunInput) else self.input

    def input_text(self) -> str:
        """The input as text (Agno's ``input_content_string``)."""
        if isinstance(self.input, RunInput):
            return self.input.input_content_string()
        return "" if self.input is None else str(self.input)

    def __str__(self) -> str:
        return "" if self.content is None else str(self.content)


RunOutput._nested["step_executor_runs"] = (RunOutput, True)

class SessionMetrics(Metrics):
    """A session's totals (``session_data["session_metrics"]``), Agno's ``SessionMetrics``."""


SESSION_TYPES = ("agent", "team", "workflow")


def _status(value: Any) -> str:
    """A run status as its stored text (accepts Agno's ``RunStatus`` members too)."""
    return str(getattr(value, "value", value))


def _select_messages(runs: List[RunOutput], last_n_runs: Optional[int], limit: Optional[int],
                     skip_roles: Optional[List[str]], skip_history_messages: bool) -> List[Message]:
    """Agno's message selection over already-filtered runs: the first system message once,
    then the others; ``limit`` keeps the last ones (the system message counts as one), and
    a selection never starts with a tool result."""
    if last_n_runs is not None:
        if last_n_runs <= 0:
            return []
        runs = runs[-last_n_runs:]
    system: Optional[Message] = None
    out: List[Message] = []
    for run in runs:
        for m in (run.messages if run is not None else None) or []:
            if (m.from_history and skip_history_messages) or (skip_roles and m.role in skip_roles):
                continue
            if m.role == "system":
                if system is None:
                    system = m
                    if limit is None:
                        out.append(m)
            else:
                out.append(m)
    if limit is None:
        return out
    if system is not None:
        out = [system] if limit <= 1 else [system] + out[-(limit - 1):]
    else:
        out = [] if limit <= 0 else out[-limit:]
    while out and out[0].role == "tool":
        out.pop(0)
    return out


def _skip(skip_statuses: Optional[List[Any]]) -> set:
    return {_status(s) for s in (HISTORY_SKIP_STATUSES if skip_statuses is None else skip_statuses)}


@dataclass
class Session(Record):
    """A session: a conversation (or a pipeline's history) under one ``session_id``.

    The methods are Agno 3.1's session-record methods, with the same parameters.
    """

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
    summary: Optional[SessionSummary] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None

    _nested: ClassVar[Dict[str, tuple]] = {"runs": (RunOutput, True), "summary": (SessionSummary, False)}
    # The keys Agno's own to_dict() writes for this kind of session, None values included.
    _agno_keys: ClassVar[tuple] = ("session_id", "agent_id", "team_id", "user_id", "workflow_id", "session_data",
                                   "metadata", "agent_data", "team_data", "workflow_data", "created_at", "updated_at")

    def __post_init__(self) -> None:
        if isinstance(self.summary, Mapping) and not isinstance(self.summary, SessionSummary):
            self.summary = SessionSummary.from_dict(self.summary)
        if self.runs is None:
            self.runs = []

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]):  # type: ignore[override]
        """The session stored as ``data`` (any mapping), or None without a ``session_id`` (as Agno)."""
        if isinstance(data, cls):
            return data
        if data is None or (isinstance(data, Mapping) and data.get("session_id") is None):
            return None
        return super().from_dict(data)

    def to_dict(self, include_runs: bool = True) -> Dict[str, Any]:
        """The session as Agno's ``to_dict``: its keys with None values kept, ``runs`` as
        dicts (None when empty; left out with ``include_runs=False``), ``summary`` as a
        dict; plus ``session_type`` and any keys this version does not know."""
        out: Dict[str, Any] = {"session_type": self.session_type}
        for name in self._agno_keys:
            out[name] = _plain(getattr(self, name))
        if include_runs:
            out["runs"] = [r.to_dict() for r in self.runs] if self.runs else None
        out["summary"] = self.summary.to_dict() if self.summary else None
        for name in self._field_names():  # non-Agno fields that are set (agent_id on a team session, ...)
            if name not in out and name != "runs" and getattr(self, name) is not None:
                out[name] = _plain(getattr(self, name))
        out.update(self.extra)
        return out

    # -- Agno's session-record API ---------------------------------------------------------

    @property
    def session_name(self) -> Optional[str]:
        return (self.session_data or {}).get("session_name")

    @property
    def session_state(self) -> Dict[str, Any]:
        return (self.session_data or {}).get("session_state") or {}

    @property
    def session_metrics(self) -> SessionMetrics:
        return SessionMetrics.from_dict((self.session_data or {}).get("session_metrics") or {})

    @property
    def component_id(self) -> Optional[str]:
        return {"agent": self.agent_id, "team": self.team_id, "workflow": self.workflow_id}.get(self.session_type)

    def get_run(self, run_id: str) -> Optional[RunOutput]:
        """The run with this ``run_id`` (a copy: changing it does not change the session), or None."""
        for run in self.runs or []:
            if run.run_id == run_id:
                return RunOutput.from_dict(run.to_dict())
        return None

    def upsert_run(self, run: RunOutput) -> None:
        """Replace the run with the same ``run_id``, or append it (in memory; save to store)."""
        run = RunOutput.from_dict(run) if isinstance(run, Mapping) else run
        for i, existing in enumerate(self.runs):
            if existing.run_id == run.run_id:
                self.runs[i] = run
                return
        self.runs.append(run)

    def get_messages(self, agent_id: Optional[str] = None, team_id: Optional[str] = None,
                     last_n_runs: Optional[int] = None, limit: Optional[int] = None,
                     skip_roles: Optional[List[str]] = None, skip_statuses: Optional[List[Any]] = None,
                     skip_history_messages: bool = True) -> List[Message]:
        """Messages of the session's top-level runs that fit the criteria, oldest first.

        Runs of ``agent_id``/``team_id`` only; runs whose status is in ``skip_statuses``
        (default: paused, cancelled, error, regenerated) are left out; ``last_n_runs``
        keeps the latest runs, ``limit`` the latest messages (the system message, kept
        once, counts as one); ``skip_roles`` and history copies are left out.
        """
        skip = _skip(skip_statuses)
        runs = [r for r in self.runs or [] if r.parent_run_id is None and _status(r.status) not in skip
                and (not agent_id or r.agent_id == agent_id) and (not team_id or r.team_id == team_id)]
        return _select_messages(runs, last_n_runs, limit, skip_roles, skip_history_messages)

    def get_chat_history(self, last_n_runs: Optional[int] = None) -> List[Message]:
        """User and assistant messages of every top-level run (any status)."""
        return self.get_messages(skip_roles=["system", "tool"], skip_statuses=[], last_n_runs=last_n_runs)

    def get_tool_calls(self, num_calls: Optional[int] = None) -> List[Dict[str, Any]]:
        """Tool calls the model made (OpenAI style), latest run first, at most ``num_calls``."""
        out: List[Dict[str, Any]] = []
        for run in reversed(self.runs or []):
            for m in run.messages or []:
                for call in m.tool_calls or []:
                    out.append(call)
                    if num_calls and len(out) >= num_calls:
                        return out
        return out

    def get_session_summary(self) -> Optional[SessionSummary]:
        """The session's summary, or None."""
        return self.summary or None


@dataclass
class AgentSession(Session):
    session_type: str = "agent"

    _agno_keys: ClassVar[tuple] = ("session_id", "agent_id", "team_id", "user_id", "workflow_id", "session_data",
                                   "metadata", "agent_data", "created_at", "updated_at")


@dataclass
class TeamSession(Session):
    session_type: str = "team"

    _agno_keys: ClassVar[tuple] = ("session_id", "team_id", "user_id", "workflow_id", "team_data", "session_data",
                                   "metadata", "created_at", "updated_at")

    def get_messages(self, team_id: Optional[str] = None, member_ids: Optional[List[str]] = None,  # type: ignore[override]
                     last_n_runs: Optional[int] = None, limit: Optional[int] = None,
                     skip_roles: Optional[List[str]] = None, skip_statuses: Optional[List[Any]] = None,
                     skip_history_messages: bool = True, skip_member_messages: bool = True) -> List[Message]:
        """As Agno's ``TeamSession.get_messages``: the team's top-level runs by default;
        ``member_ids`` selects member runs, and with ``team_id`` or ``member_ids`` member
        messages are not skipped."""
        if member_ids is not None or team_id is not None:
            skip_member_messages = False
        runs = list(self.runs or [])
        if team_id:
            runs = [r for r in runs if r.team_id == team_id]
        if member_ids:
            seen: set = set()
            runs = [r for r in runs if r.agent_id in member_ids and not (r.run_id in seen or seen.add(r.run_id))]
        if skip_member_messages:
            runs = [r for r in runs if r.parent_run_id is None]
        skip = _skip(skip_statuses)
        runs = [r for r in runs if _status(r.status) not in skip]
        return _select_messages(runs, last_n_runs, limit, skip_roles, skip_history_messages)

    def get_chat_history(self, last_n_runs: Optional[int] = None) -> List[Message]:
        return self.get_messages(skip_roles=["system", "tool"], skip_member_messages=True, skip_statuses=[],
                                 last_n_runs=last_n_runs)

    def upsert_run(self, run_response: RunOutput) -> None:  # type: ignore[override]
        """Replace the run with the same ``run_id``, or append it (Agno names the argument ``run_response``)."""
        super().upsert_run(run_response)

    def get_team_history(self, team_id: Optional[str] = None, num_runs: Optional[int] = None) -> List[tuple]:
        """``(input, response)`` text pairs of completed runs: the top-level team runs, or
        with ``team_id`` that team's runs at any depth; the last ``num_runs`` of them."""
        runs = [r for r in self.runs or [] if _status(r.status) == "COMPLETED"
                and (r.team_id == team_id if team_id is not None else r.parent_run_id is None)]
        if num_runs is not None:
            if num_runs <= 0:
                return []
            runs = runs[-num_runs:]
        return [(r.input_text() if r.input else "", str(r.content) if r.content else "") for r in runs]

    def get_team_history_context(self, team_id: Optional[str] = None, num_runs: Optional[int] = None) -> Optional[str]:
        """The team history as the ``<team_history_context>`` text Agno gives its steps."""
        return _history_context(self.get_team_history(team_id=team_id, num_runs=num_runs),
                                "team_history_context", "run-{}", "input", "response")


@dataclass
class WorkflowChatInteraction:
    """One workflow run's ``input`` and ``output``, as Agno's ``get_chat_history`` returns them."""

    input: Any
    output: Any


@dataclass
class WorkflowSession(Session):
    session_type: str = "workflow"

    _agno_keys: ClassVar[tuple] = ("session_id", "user_id", "workflow_id", "session_data", "workflow_data",
                                   "metadata", "created_at", "updated_at")

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]):  # type: ignore[override]
        """As Agno: a step's agent or team run that shares the session id is carried by
        its workflow run, so only workflow runs are kept in ``runs``."""
        session = super().from_dict(data)
        if session is not None and not isinstance(data, cls):
            session.runs = [r for r in session.runs if not isinstance(r, RunOutput) or r.run_type == "workflow"]
        return session

    def get_workflow_history(self, num_runs: Optional[int] = None) -> List[tuple]:
        """``(input, output)`` text pairs of completed workflow runs, the last ``num_runs``."""
        runs = [r for r in self.runs or [] if _status(r.status) == "COMPLETED"]
        if num_runs is not None:
            if num_runs <= 0:
                return []
            runs = runs[-num_runs:]
        return [(r.input_text() if r.input else "", str(r.content) if r.content else "") for r in runs]

    def get_workflow_history_context(self, num_runs: Optional[int] = None) -> Optional[str]:
        """The history as the ``<workflow_history_context>`` text Agno gives its steps."""
        return _history_context(self.get_workflow_history(num_runs),
                                "workflow_history_context", "Workflow Run-{}", "User input", "Workflow output")

    def get_messages_from_agent_runs(self, runs: List[RunOutput], last_n_runs: Optional[int] = None,
                                     limit: Optional[int] = None, skip_roles: Optional[List[str]] = None,
                                     skip_statuses: Optional[List[Any]] = None,
                                     skip_history_messages: bool = True) -> List[Message]:
        """Messages of the given agent runs that fit the criteria (no status is skipped by default)."""
        if skip_statuses:
            skip = _skip(skip_statuses)
            runs = [r for r in runs if _status(r.status) not in skip]
        return _select_messages(list(runs), last_n_runs, limit, skip_roles, skip_history_messages)

    def get_messages_from_team_runs(self, team_id: str, runs: List[RunOutput], last_n_runs: Optional[int] = None,
                                    limit: Optional[int] = None, skip_roles: Optional[List[str]] = None,
                                    skip_statuses: Optional[List[Any]] = None, skip_history_messages: bool = True,
                                    skip_member_messages: bool = True) -> List[Message]:
        """Messages of the given team runs; with ``skip_member_messages`` only ``team_id``'s own runs."""
        if skip_member_messages:
            runs = [r for r in runs if r.team_id == team_id]
        if skip_statuses:
            skip = _skip(skip_statuses)
            runs = [r for r in runs if _status(r.status) not in skip]
        return _select_messages(list(runs), last_n_runs, limit, skip_roles, skip_history_messages)

    def get_messages(self, agent_id: Optional[str] = None, team_id: Optional[str] = None,  # type: ignore[override]
                     last_n_runs: Optional[int] = None, limit: Optional[int] = None,
                     skip_roles: Optional[List[str]] = None, skip_statuses: Optional[List[Any]] = None,
                     skip_history_messages: bool = True, skip_member_messages: bool = True) -> List[Message]:
        """Messages of one step agent's (``agent_id``) or step team's (``team_id``) runs
        across the workflow's runs; exactly one of the two is required."""
        if agent_id and team_id:
            raise ValueError("agent_id and team_id cannot be used together")
        if not self.runs:
            return []
        executor_runs = [e for r in self.runs for e in (r.step_executor_runs or [])]
        if agent_id:
            return self.get_messages_from_agent_runs(
                runs=[e for e in executor_runs if e.run_type == "agent" and e.agent_id == agent_id],
                last_n_runs=last_n_runs, limit=limit, skip_roles=skip_roles, skip_statuses=skip_statuses,
                skip_history_messages=skip_history_messages)
        if team_id:
            return self.get_messages_from_team_runs(
                team_id=team_id, runs=[e for e in executor_runs if e.run_type == "team" and e.team_id == team_id],
                last_n_runs=last_n_runs, limit=limit, skip_roles=skip_roles, skip_statuses=skip_statuses,
                skip_history_messages=skip_history_messages, skip_member_messages=skip_member_messages)
        raise ValueError("agent_id or team_id must be provided")

    def get_chat_history(self, last_n_runs: Optional[int] = None) -> List[WorkflowChatInteraction]:  # type: ignore[override]
        """One ``WorkflowChatInteraction(input, output)`` per run that has both."""
        runs = list(self.runs or [])
        if last_n_runs is not None:
            if last_n_runs <= 0:
                return []
            runs = runs[-last_n_runs:]
        return [WorkflowChatInteraction(input=r.input_content, output=r.content) for r in runs
                if r.input and r.content]


SESSION_CLASSES: Dict[str, Type[Session]] = {
    "agent": AgentSession,
    "team": TeamSession,
    "workflow": WorkflowSession,
}


def session_from_dict(data: Mapping[str, Any]) -> Session:
    """Build the session class that matches ``data["session_type"]``."""
    klass = SESSION_CLASSES.get(_status(data.get("session_type") or "agent"), Session)
    return Record.from_dict.__func__(klass, data)  # the full record, even without a session_id


def _history_context(history: List[Tuple[str, str]], tag: str, run_label: str, in_label: str,
                     out_label: str) -> Optional[str]:
    """(input, output) pairs as the tagged history text Agno gives a team's or a workflow's steps."""
    if not history:
        return None
    parts = [f"<{tag}>"]
    for i, (inp, out) in enumerate(history, 1):
        parts.append(f"[{run_label.format(i)}]")
        if inp:
            parts.append(f"{in_label}: {inp}")
        if out:
            parts.append(f"{out_label}: {out}")
        parts.append("")
    parts += [f"</{tag}>", ""]
    return "\n".join(parts)
