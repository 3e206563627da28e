"""Agents and teams: a model, tools, instructions, and a db that keeps every run."""

from __future__ import annotations

import sys
import time
import uuid
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..db.base import BaseDb
from ..errors import SessionOwnershipError
from ..records import (
    AgentSession,
    Message,
    Metrics,
    RunOutput,
    Session,
    TeamSession,
    ToolExecution,
    now,
)
from .models import EchoModel, Model
from .tools import Tool

MAX_TOOL_ROUNDS = 10
SUMMARY_PROMPT = (
    "Summarise the conversation so far in two or three sentences, "
    "then list its topics as a comma-separated line starting with 'Topics:'."
)


def _new_id() -> str:
    return str(uuid.uuid4())


class _Component:
    """What agents, teams and workflows share: identity, a db, sessions, printing."""

    session_type = "agent"
    _session_class = AgentSession

    def __init__(self, name: Optional[str], id: Optional[str], db: Optional[BaseDb],
                 session_state: Optional[Dict[str, Any]] = None):
        self.name = name
        self.id = id or (name.lower().replace(" ", "-") if name else _new_id())
        self.db = db
        self.session_state = dict(session_state or {})

    # -- sessions ------------------------------------------------------------------------

    def get_session(self, session_id: str, user_id: Optional[str] = None) -> Optional[Session]:
        """The stored session with all its runs, or None (no db: always None)."""
        return self.db.get_session(session_id, user_id=user_id) if self.db else None

    def rename_session(self, session_id: str, session_name: str) -> Optional[Session]:
        """Set the session's ``session_name``."""
        if self.db is None:
            raise ValueError(f"{type(self).__name__} {self.id!r} has no db to rename a session in")
        return self.db.rename_session(session_id, None, session_name)

    set_session_name = rename_session

    def _open_session(self, session_id: Optional[str], user_id: Optional[str]) -> Session:
        """The stored session row (no runs), or a new one; checks ownership."""
        session_id = session_id or _new_id()
        stored = self.db.session_header(session_id) if self.db else None
        if stored is not None:
            if stored.user_id is not None and user_id is not None and stored.user_id != user_id:
                raise SessionOwnershipError(
                    f"session {session_id!r} belongs to another user; user_id={user_id!r} cannot continue it")
            return stored
        return self._session_class(session_id=session_id, user_id=user_id, created_at=now())

    def _header(self, session: Session, state: Dict[str, Any], user_id: Optional[str]) -> Session:
        header = self._session_class(
            session_id=session.session_id,
            user_id=user_id if user_id is not None else session.user_id,
            session_data={"session_state": state},
            created_at=session.created_at,
        )
        setattr(header, f"{self.session_type}_id", self.id)
        setattr(header, f"{self.session_type}_data", self._component_data())
        return header

    def _component_data(self) -> Dict[str, Any]:
        return {"name": self.name, f"{self.session_type}_id": self.id}

    def _store(self, header: Session, runs: List[RunOutput]) -> None:
        """Write the runs; if the write fails, the error carries them (``err.runs``) so
        they can be written again (``db.append_runs(err.session, err.runs)``), not lost."""
        if self.db is None:
            return
        try:
            self.db.append_runs(header, runs)
        except Exception as exc:
            exc.session, exc.runs = header, runs  # type: ignore[attr-defined]
            raise

    # -- printing ------------------------------------------------------------------------

    def print_response(self, input: Any, session_id: Optional[str] = None, user_id: Optional[str] = None,
                       file=None, **kwargs: Any) -> None:
        """Run and print the exchange (input, tool calls, answer, metrics)."""
        out = self.run(input, session_id=session_id, user_id=user_id, **kwargs)
        print(format_run(out, title=self.name or self.id), file=file or sys.stdout)


def format_run(run: RunOutput, title: Optional[str] = None) -> str:
    lines = [f"▶ {run.input_content}"]
    for tool in run.tools or []:
        flag = " (error)" if tool.tool_call_error else ""
        lines.append(f"  ⚙ {tool.tool_name}({tool.tool_args}) → {tool.result}{flag}")
    lines.append(f"◀ {title or 'agent'}: {run.content}")
    m = run.metrics or Metrics()
    lines.append(f"  [{run.status} · {m.total_tokens} tokens · {m.duration or 0:.3f}s · session {run.session_id}]")
    return "\n".join(lines)


class Agent(_Component):
    """An agent: a model with instructions and tools, storing each run in ``db``.

    >>> agent = Agent(name="Echo", model=EchoModel(), db=SqliteDb(db_file="a.db"))  # doctest: +SKIP
    >>> agent.print_response("Hello", session_id="s1")                             # doctest: +SKIP

    ``add_history_to_context`` sends the last ``num_history_runs`` runs of the session
    to the model (stored in the run with ``from_history=True``). ``session_state`` is
    the default state; stored state wins and tools that take a ``session_state``
    parameter can change it. With ``enable_session_summaries`` the model writes the
    session's summary after each run.
    """

    def __init__(self, name: Optional[str] = None, id: Optional[str] = None, model: Optional[Model] = None,
                 db: Optional[BaseDb] = None, instructions: Optional[Any] = None,
                 tools: Optional[Sequence[Callable[..., Any]]] = None, add_history_to_context: bool = False,
                 num_history_runs: int = 3, session_state: Optional[Dict[str, Any]] = None,
                 enable_session_summaries: bool = False, description: Optional[str] = None):
        super().__init__(name, id, db, session_state)
        self.model = model or EchoModel()
        self.instructions = instructions
        self.description = description
        self.tools: List[Tool] = [Tool.from_function(t) for t in (tools or [])]
        self.add_history_to_context = add_history_to_context
        self.num_history_runs = num_history_runs
        self.enable_session_summaries = enable_session_summaries

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r}, id={self.id!r}, model={self.model!r})"

    def _component_data(self) -> Dict[str, Any]:
        return {"name": self.name, "agent_id": self.id, "model": self.model.to_dict()}

    def _system_message(self) -> Optional[Message]:
        parts = [self.description] if self.description else []
        if self.instructions:
            ins = self.instructions
            parts += [f"- {i}" for i in ins] if isinstance(ins, (list, tuple)) else [str(ins)]
        return Message(role="system", content="\n".join(parts), id=_new_id(), created_at=now()) if parts else None

    def _history(self, session_id: str) -> List[Message]:
        if not (self.add_history_to_context and self.db):
            return []
        out = []
        for run in self.db.recent_runs(session_id, self.num_history_runs):
            for m in run.messages or []:
                if m.role != "system" and not m.from_history:
                    copy = Message.from_dict(m.to_dict())
                    copy.from_history = True
                    # counted in the run that produced it; a copy must not count twice
                    copy.metrics = None
                    out.append(copy)
        return out

    def run(self, input: Any, session_id: Optional[str] = None, user_id: Optional[str] = None) -> RunOutput:
        """Answer ``input`` in a session (a new one when ``session_id`` is None) and store the run."""
        session = self._open_session(session_id, user_id)
        state = {**self.session_state, **session.session_state}
        run = self._execute(input, session.session_id, user_id or session.user_id, state=state,
                            history=self._history(session.session_id))
        header = self._header(session, state, user_id)
        if self.enable_session_summaries:
            header.summary = self._summarise(session.session_id, run)
        self._store(header, [run])
        return run

    def _execute(self, input: Any, session_id: str, user_id: Optional[str], *, state: Dict[str, Any],
                 history: Sequence[Message] = (), parent_run_id: Optional[str] = None,
                 extra_tools: Sequence[Tool] = (), run_id: Optional[str] = None) -> RunOutput:
        """One run, not stored: the model loop with tool calls."""
        started = time.perf_counter()
        run = RunOutput(
            run_id=run_id or _new_id(), session_id=session_id, user_id=user_id, parent_run_id=parent_run_id,
            input={"input_content": input}, model=self.model.id, model_provider=self.model.provider,
            status="RUNNING", created_at=now(), messages=[], tools=[], content_type="str",
        )
        self._stamp(run)
        system = self._system_message()
        messages: List[Message] = ([system] if system else []) + list(history)
        messages.append(Message(role="user", content=input, id=_new_id(), created_at=now()))
        tools = list(self.tools) + list(extra_tools)
        by_name = {t.name: t for t in tools}
        metrics = Metrics()
        first_token: Optional[float] = None
        try:
            for _ in range(MAX_TOOL_ROUNDS):
                resp = self.model.invoke(messages, [t.to_openai() for t in tools] or None)
                if first_token is None:
                    first_token = time.perf_counter() - started
                msg = Message(role="assistant", content=resp.content, id=_new_id(), created_at=now(),
                              tool_calls=resp.tool_calls or None, metrics=resp.metrics,
                              provider_data=resp.provider_data)
                messages.append(msg)
                metrics = metrics + resp.metrics
                if not resp.tool_calls:
                    run.content = resp.content
                    break
                for call in resp.tool_calls:
                    fn = call.get("function") or {}
                    tool = by_name.get(fn.get("name"))
                    if tool is None:
                        ex = ToolExecution(tool_call_id=call.get("id"), tool_name=fn.get("name"), tool_args={},
                                           tool_call_error=True, result=f"Error: no tool named {fn.get('name')!r}",
                                           created_at=now())
                    else:
                        ex = tool.execute(call.get("id"), fn.get("arguments"), state)
                    run.tools.append(ex)
                    messages.append(Message(
                        role="tool", content=ex.result, id=_new_id(), created_at=now(), tool_call_id=ex.tool_call_id,
                        tool_name=ex.tool_name, tool_args=ex.tool_args, tool_call_error=ex.tool_call_error))
            else:
                run.content = f"stopped after {MAX_TOOL_ROUNDS} rounds of tool calls"
            run.status = "COMPLETED"
        except Exception as exc:
            # The run is kept, marked ERROR, so a failed model call is not lost.
            run.status = "ERROR"
            run.content = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"run {run.run_id} of {self.id!r} failed: {run.content}", RuntimeWarning, stacklevel=3)
        metrics.duration = time.perf_counter() - started
        metrics.time_to_first_token = first_token
        tokens = {k: v for k, v in metrics.to_dict().items() if k.endswith("_tokens")}
        metrics.details = {"model": [{**tokens, "id": self.model.id, "provider": self.model.provider}]}
        run.metrics = metrics
        run.messages = messages
        run.session_state = dict(state)
        return run

    def _stamp(self, run: RunOutput) -> None:
        run.agent_id, run.agent_name = self.id, self.name

    def _summarise(self, session_id: str, run: RunOutput) -> Dict[str, Any]:
        previous = self.db.recent_runs(session_id, 1_000) if self.db else []
        transcript = "\n".join(
            f"{m.role}: {m.content}" for r in [*previous, run] for m in (r.messages or [])
            if m.role in ("user", "assistant") and m.content and not m.from_history)
        resp = self.model.invoke([Message(role="system", content=SUMMARY_PROMPT),
                                  Message(role="user", content=transcript)])
        text = resp.content or ""
        summary, _, topics = text.partition("Topics:")
        return {"summary": summary.strip(), "topics": [t.strip() for t in topics.split(",") if t.strip()],
                "updated_at": now()}


class Team(Agent):
    """A team: a leader model that delegates tasks to member agents.

    The leader gets a ``delegate_task_to_member(member_id, task)`` tool. Member runs are
    stored in the team's session, each with ``parent_run_id`` set to the team run.
    """

    session_type = "team"
    _session_class = TeamSession

    def __init__(self, name: Optional[str] = None, id: Optional[str] = None, model: Optional[Model] = None,
                 members: Sequence[Agent] = (), db: Optional[BaseDb] = None, instructions: Optional[Any] = None,
                 **kwargs: Any):
        super().__init__(name=name, id=id, model=model, db=db, instructions=instructions, **kwargs)
        self.members = list(members)
        ids = [m.id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError(f"team members need distinct ids; got {ids}")

    def __repr__(self) -> str:
        return f"Team(name={self.name!r}, id={self.id!r}, members={[m.id for m in self.members]!r})"

    def _component_data(self) -> Dict[str, Any]:
        return {"name": self.name, "team_id": self.id, "model": self.model.to_dict(),
                "members": [{"agent_id": m.id, "name": m.name} for m in self.members]}

    def _system_message(self) -> Optional[Message]:
        base = super()._system_message()
        roster = "\n".join(f"- {m.id}: {m.name or ''} {m.description or ''}".rstrip() for m in self.members)
        text = (base.content + "\n\n" if base else "") + f"You lead a team. Delegate tasks to members:\n{roster}"
        return Message(role="system", content=text, id=_new_id(), created_at=now())

    def _stamp(self, run: RunOutput) -> None:
        run.team_id, run.team_name = self.id, self.name

    def run(self, input: Any, session_id: Optional[str] = None, user_id: Optional[str] = None) -> RunOutput:
        """Answer ``input`` as a team; stores the team run and its member runs together."""
        session = self._open_session(session_id, user_id)
        state = {**self.session_state, **session.session_state}
        user_id = user_id or session.user_id
        run, member_runs = self._execute_team(input, session.session_id, user_id, state,
                                              history=self._history(session.session_id))
        header = self._header(session, state, user_id)
        if self.enable_session_summaries:
            header.summary = self._summarise(session.session_id, run)
        self._store(header, [run, *member_runs])
        return run

    def _execute_team(self, input: Any, session_id: str, user_id: Optional[str], state: Dict[str, Any],
                      history: Sequence[Message] = (), parent_run_id: Optional[str] = None):
        member_runs: List[RunOutput] = []
        by_id = {m.id: m for m in self.members}
        run_id = _new_id()

        def delegate_task_to_member(member_id: str, task: str) -> str:
            """Give a task to one team member and return its answer."""
            member = by_id.get(member_id)
            if member is None:
                raise ValueError(f"no member {member_id!r}; members are {sorted(by_id)}")
            out = member._execute(task, session_id, user_id, state=state, parent_run_id=run_id)
            member_runs.append(out)
            return str(out.content)

        run = self._execute(input, session_id, user_id, state=state, history=history, run_id=run_id,
                            parent_run_id=parent_run_id, extra_tools=[Tool.from_function(delegate_task_to_member)])
        for ex in run.tools or []:
            child = next((r for r in member_runs if r.input_content == (ex.tool_args or {}).get("task")
                          and r.agent_id == (ex.tool_args or {}).get("member_id")), None)
            if child is not None:
                ex.child_run_id = child.run_id
        return run, member_runs
