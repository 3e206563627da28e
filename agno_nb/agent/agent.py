"""Agents and teams: a model, tools, instructions, and a db that keeps every run."""

from __future__ import annotations

import datetime
import json
import time
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from ..records import (
    HISTORY_SKIP_STATUSES,
    Message,
    Metrics,
    RunInput,
    RunOutput,
    SessionSummary,
    TeamSession,
    ToolExecution,
    _select_messages,
    now,
)
from .events import (
    RunCompletedEvent,
    RunContentCompletedEvent,
    RunContentEvent,
    RunErrorEvent,
    RunStartedEvent,
    ToolCallCompletedEvent,
    ToolCallStartedEvent,
)
from .models import EchoModel, Model, ModelResponse
from .runs import Component, RunPrinter, format_run, new_id, refuse, select_events, to_async_iter
from .session_api import async_twin
from .agno_flags import AGENT_FLAGS, TEAM_FLAGS, accept_agno_flags
from .context import RunContext, injected_values
from .tools import Tool

# Kept for code that imported them from here.
_new_id = new_id
__all__ = ["Agent", "Team", "format_run"]

MAX_TOOL_ROUNDS = 10
DEFAULT_HISTORY_RUNS = 3  # Agno's default when neither num_history_runs nor num_history_messages is set
SUMMARY_PROMPT = (
    "Summarise the conversation so far in two or three sentences, "
    "then list its topics as a comma-separated line starting with 'Topics:'."
)


class Agent(Component):
    """An agent: a model with instructions and tools, storing each run in ``db``.

    >>> agent = Agent(name="Echo", model=EchoModel(), db=SqliteDb(db_file="a.db"))  # doctest: +SKIP
    >>> agent.print_response("Hello", session_id="s1")                             # doctest: +SKIP

    Agno 3.1's constructor arguments for sessions work as in Agno: ``session_id`` and
    ``user_id`` are the defaults of every run; ``add_history_to_context`` sends the last
    ``num_history_runs`` runs (or the last ``num_history_messages`` messages) of the
    session to the model; ``session_state`` is the default state of a new session (the
    stored one wins unless ``overwrite_db_session_state``), shown to the model with
    ``add_session_state_to_context`` and changed by tools that take a ``session_state``
    parameter; ``read_chat_history`` gives the model a ``get_chat_history`` tool;
    ``enable_session_summaries`` has the model write the session's summary after each run;
    ``markdown`` asks the model for markdown and renders it in notebooks.

    One deliberate difference: ``store_history_messages`` defaults to True (Agno: False),
    so a stored run keeps the history it was sent, which the replay widget shows.

    Agno's other constructor flags (memory, knowledge, reasoning, hooks, ...) are accepted and
    have no effect; see :mod:`agno_nb.agent.agno_flags`.
    """

    _agno_flag_names = AGENT_FLAGS

    def __init__(self, *, model: Optional[Model] = None, name: Optional[str] = None, id: Optional[str] = None,
                 user_id: Optional[str] = None, session_id: Optional[str] = None,
                 session_state: Optional[Dict[str, Any]] = None, add_session_state_to_context: bool = False,
                 overwrite_db_session_state: bool = False, cache_session: bool = False, db: Any = None,
                 enable_session_summaries: bool = False, add_history_to_context: bool = False,
                 num_history_runs: Optional[int] = None, num_history_messages: Optional[int] = None,
                 store_history_messages: bool = True, tools: Optional[Sequence[Callable[..., Any]]] = None,
                 read_chat_history: bool = False, description: Optional[str] = None,
                 instructions: Optional[Any] = None, markdown: bool = False, **agno_flags: Any):
        super().__init__(name=name, id=id, db=db, session_id=session_id, user_id=user_id, session_state=session_state,
                         add_session_state_to_context=add_session_state_to_context,
                         overwrite_db_session_state=overwrite_db_session_state, cache_session=cache_session,
                         markdown=markdown, description=description)
        if num_history_runs is not None and num_history_messages is not None:
            raise ValueError("set num_history_runs or num_history_messages, not both (as in Agno)")
        accept_agno_flags(self, agno_flags, self._agno_flag_names)
        self.model = model or EchoModel()
        self.instructions = instructions
        self.tools: List[Tool] = [Tool.from_function(t) for t in (tools or [])]
        self.add_history_to_context = add_history_to_context
        self.num_history_runs = num_history_runs
        self.num_history_messages = num_history_messages
        self.store_history_messages = store_history_messages
        self.read_chat_history = read_chat_history
        self.enable_session_summaries = enable_session_summaries
        if read_chat_history and not self.model.calls_tools:
            warnings.warn(f"read_chat_history=True gives the model a get_chat_history tool, but {self.model!r} "
                          "never calls tools: the flag has no effect with this model", UserWarning, stacklevel=2)

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r}, id={self.id!r}, model={self.model!r})"

    def _component_data(self) -> Dict[str, Any]:
        return {"name": self.name, "agent_id": self.id, "model": self.model.to_dict()}

    # -- running -----------------------------------------------------------------------

    def run(self, input: Any, *, stream: Optional[bool] = None, stream_events: Optional[bool] = None,
            user_id: Optional[str] = None, session_id: Optional[str] = None,
            session_state: Optional[Dict[str, Any]] = None, run_id: Optional[str] = None,
            add_history_to_context: Optional[bool] = None, add_session_state_to_context: Optional[bool] = None,
            metadata: Optional[Dict[str, Any]] = None, yield_run_output: Optional[bool] = None,
            **kwargs: Any):
        """Answer ``input`` in a session and store the run; returns the :class:`RunOutput`.

        With ``stream=True`` returns an iterator of events instead (see
        :mod:`agno_nb.agent.events`); the run is stored when the iterator is exhausted.
        """
        refuse(f"{type(self).__name__}.run", **kwargs)
        events = self._run_events(input, session_id=session_id, user_id=user_id, session_state=session_state,
                                  run_id=run_id, add_history_to_context=add_history_to_context,
                                  add_session_state_to_context=add_session_state_to_context,
                                  metadata=metadata, stream=bool(stream))
        if stream:
            return select_events(events, stream_events, yield_run_output)
        return _last_run(events)

    def arun(self, input: Any, *, stream: Optional[bool] = None, stream_events: Optional[bool] = None,
             user_id: Optional[str] = None, session_id: Optional[str] = None,
             session_state: Optional[Dict[str, Any]] = None, run_id: Optional[str] = None,
             add_history_to_context: Optional[bool] = None, add_session_state_to_context: Optional[bool] = None,
             metadata: Optional[Dict[str, Any]] = None, yield_run_output: Optional[bool] = None, **kwargs: Any):
        """Async :meth:`run`: ``await agent.arun(...)``, or ``async for event in agent.arun(..., stream=True)``.

        The run executes in a worker thread, so a notebook's event loop stays free.
        """
        refuse(f"{type(self).__name__}.arun", **kwargs)
        options = dict(stream_events=stream_events, user_id=user_id, session_id=session_id,
                       session_state=session_state, run_id=run_id, add_history_to_context=add_history_to_context,
                       add_session_state_to_context=add_session_state_to_context, metadata=metadata,
                       yield_run_output=yield_run_output)
        if stream:
            return to_async_iter(iter(self.run(input, stream=True, **options)))
        return _in_thread(self.run, input, **options)

    def print_response(self, input: Any, *, session_id: Optional[str] = None,
                       session_state: Optional[Dict[str, Any]] = None, user_id: Optional[str] = None,
                       run_id: Optional[str] = None, stream: Optional[bool] = None, markdown: Optional[bool] = None,
                       add_history_to_context: Optional[bool] = None,
                       add_session_state_to_context: Optional[bool] = None, metadata: Optional[Dict[str, Any]] = None,
                       show_message: bool = True, console: Any = None, file: Any = None, **kwargs: Any) -> None:
        """Run and print the exchange: input, tool calls, answer (streamed as it comes with
        ``stream=True``; rendered as markdown in a notebook with ``markdown=True``) and a
        status line with tokens and the run's duration in milliseconds. ``console`` or
        ``file``: where to print (default stdout)."""
        refuse(f"{type(self).__name__}.print_response", **kwargs)
        events = self._run_events(input, session_id=session_id, user_id=user_id, session_state=session_state,
                                  run_id=run_id, add_history_to_context=add_history_to_context,
                                  add_session_state_to_context=add_session_state_to_context, metadata=metadata,
                                  stream=bool(stream))
        self._print(input, events, stream=bool(stream), markdown=self.markdown if markdown is None else markdown,
                    show_message=show_message, file=file or _console_file(console))

    async def aprint_response(self, input: Any, *, session_id: Optional[str] = None,
                              session_state: Optional[Dict[str, Any]] = None, user_id: Optional[str] = None,
                              run_id: Optional[str] = None, stream: Optional[bool] = None,
                              markdown: Optional[bool] = None, add_history_to_context: Optional[bool] = None,
                              add_session_state_to_context: Optional[bool] = None,
                              metadata: Optional[Dict[str, Any]] = None, show_message: bool = True,
                              console: Any = None, file: Any = None, **kwargs: Any) -> None:
        """Async :meth:`print_response`: the run executes in a worker thread, the printing
        happens here, so the output lands in the cell that awaited it."""
        refuse(f"{type(self).__name__}.aprint_response", **kwargs)
        events = self._run_events(input, session_id=session_id, user_id=user_id, session_state=session_state,
                                  run_id=run_id, add_history_to_context=add_history_to_context,
                                  add_session_state_to_context=add_session_state_to_context, metadata=metadata,
                                  stream=bool(stream))
        printer = RunPrinter(self.name or self.id, input, stream=bool(stream),
                             markdown=self.markdown if markdown is None else markdown, show_message=show_message,
                             file=file or _console_file(console))
        async for item in to_async_iter(events):
            printer.feed(item)  # here, in the awaiting task: deltas show as they come
        printer.finish()

    def _run_events(self, input: Any, *, session_id: Optional[str], user_id: Optional[str],
                    session_state: Optional[Dict[str, Any]], run_id: Optional[str],
                    add_history_to_context: Optional[bool], add_session_state_to_context: Optional[bool],
                    metadata: Optional[Dict[str, Any]], stream: bool) -> Iterator[Any]:
        """A whole run as a stream of events ending with the stored :class:`RunOutput`."""
        session_id, user_id = self._ids(session_id, user_id)
        session, stored = self._open_session(session_id, user_id)
        user_id = user_id or session.user_id
        state = self._run_state(session, stored, session_state)
        use_history = self.add_history_to_context if add_history_to_context is None else add_history_to_context
        show_state = (self.add_session_state_to_context if add_session_state_to_context is None
                      else add_session_state_to_context)
        run = self._new_run(input, session_id, user_id, run_id=run_id, metadata=metadata)
        collected: List[RunOutput] = []
        yield self._event(RunStartedEvent, run, model=self.model.id, model_provider=self.model.provider)
        yield from self._execute_iter(run, input, state=state, history=self._history(session_id, use_history),
                                      stream=stream, show_state=show_state, collected=collected)
        if not self.store_history_messages:
            run.messages = [m for m in run.messages or [] if not m.from_history]
        header = self._header(session, state, user_id)
        if self.enable_session_summaries:
            header.summary = self._summarise(session_id, run)
        self._store(header, [run, *collected])
        if run.status == "ERROR":
            yield self._event(RunErrorEvent, run, content=run.content)
        else:
            yield self._event(RunContentCompletedEvent, run)
            yield self._event(RunCompletedEvent, run, content=run.content, metrics=run.metrics,
                              session_state=run.session_state, metadata=run.metadata)
        yield run

    def _new_run(self, input: Any, session_id: str, user_id: Optional[str], *, run_id: Optional[str] = None,
                 parent_run_id: Optional[str] = None, metadata: Optional[Dict[str, Any]] = None) -> RunOutput:
        run = RunOutput(
            run_id=run_id or new_id(), session_id=session_id, user_id=user_id, parent_run_id=parent_run_id,
            input=RunInput(input_content=input), model=self.model.id, model_provider=self.model.provider,
            status="RUNNING", created_at=now(), messages=[], tools=[], content_type="str", metadata=metadata,
        )
        self._stamp(run)
        return run

    def _event(self, cls, run: RunOutput, **fields: Any):
        ids = ({"team_id": self.id, "team_name": self.name or ""} if self.session_type == "team"
               else {"agent_id": self.id, "agent_name": self.name or ""})
        return cls(run_id=run.run_id, parent_run_id=run.parent_run_id, session_id=run.session_id, **ids, **fields)

    def _system_message(self, state: Optional[Dict[str, Any]] = None, show_state: bool = False) -> Optional[Message]:
        parts = [self.description] if self.description else []
        if self.instructions:
            ins = self.instructions
            parts += [f"- {i}" for i in ins] if isinstance(ins, (list, tuple)) else [str(ins)]
        if self.markdown:
            parts.append("Use markdown to format your answers.")
        if show_state:
            parts.append(f"\n<session_state>\n{state or {}}\n</session_state>\n")
        return Message(role="system", content="\n".join(parts), id=new_id(), created_at=now()) if parts else None

    def _recent_runs(self, session_id: str, limit: int) -> List[RunOutput]:
        """The session's last ``limit`` top-level runs, oldest first."""
        if self.db is None or limit <= 0:
            return []
        recent = getattr(self.db, "recent_runs", None)
        if recent is not None:
            return recent(session_id, limit)
        session = self.db.get_session(session_id=session_id, runs_limit=limit)
        return [r for r in (session.runs if session else []) if r.parent_run_id is None][-limit:]

    def _history(self, session_id: str, use_history: bool) -> List[Message]:
        if not (use_history and self.db):
            return []
        by_messages = self.num_history_messages is not None
        n_runs = self.num_history_runs if self.num_history_runs is not None else DEFAULT_HISTORY_RUNS
        runs = self._recent_runs(session_id, 1_000_000 if by_messages else n_runs)
        runs = [r for r in runs if r.status not in HISTORY_SKIP_STATUSES]
        picked = _select_messages(runs, None, self.num_history_messages if by_messages else None,
                                  ["system"], True)
        out = []
        for m in picked:
            copy = Message.from_dict(m.to_dict())
            copy.from_history = True
            copy.metrics = None  # counted in the run that produced it; a copy must not count twice
            out.append(copy)
        return out

    def _chat_history_tool(self, session_id: str) -> Tool:
        def get_chat_history(num_chats: Optional[int] = None) -> str:
            """Use this function to get the chat history between the user and assistant.

            Args:
                num_chats: The number of chats to return; each chat is a user and an assistant message.
            """
            session = self.db.get_session(session_id=session_id) if self.db else None
            history = [{"role": m.role, "content": m.content}
                       for m in (session.get_chat_history() if session else [])]
            if num_chats is not None:
                history = history[-2 * int(num_chats):]
            return json.dumps(history, default=str)

        return Tool.from_function(get_chat_history)

    def _member_tools(self, run: RunOutput, state: Dict[str, Any], collected: List[RunOutput]) -> List[Tool]:
        """Tools a run gets besides the agent's own (a team's delegation tool)."""
        return []

    def _execute_iter(self, run: RunOutput, input: Any, *, state: Dict[str, Any], history: Sequence[Message] = (),
                      stream: bool = False, show_state: bool = False,
                      collected: Optional[List[RunOutput]] = None) -> Iterator[Any]:
        """The model loop with tool calls, filling ``run`` in place; yields content deltas
        and tool events. Not stored here."""
        started = time.perf_counter()
        collected = [] if collected is None else collected
        system = self._system_message(state, show_state)
        messages: List[Message] = ([system] if system else []) + list(history)
        messages.append(input if isinstance(input, Message)
                        else Message(role="user", content=input, id=new_id(), created_at=now()))
        tools = list(self.tools) + self._member_tools(run, state, collected)
        if self.read_chat_history:
            tools.append(self._chat_history_tool(run.session_id))
        by_name = {t.name: t for t in tools}
        schemas = [t.to_openai() for t in tools] or None
        injected = self._injected(run, state, messages)
        metrics = Metrics()
        first_token: Optional[float] = None
        try:
            for _ in range(MAX_TOOL_ROUNDS):
                if stream:
                    resp: Optional[ModelResponse] = None
                    for piece in self.model.invoke_stream(messages, schemas):
                        if isinstance(piece, ModelResponse):
                            resp = piece
                        else:
                            if first_token is None:
                                first_token = time.perf_counter() - started
                            yield self._event(RunContentEvent, run, content=piece)
                    assert resp is not None, "a model stream ends with its whole response"
                else:
                    resp = self.model.invoke(messages, schemas)
                if first_token is None:
                    first_token = time.perf_counter() - started
                msg = Message(role="assistant", content=resp.content, id=new_id(), created_at=now(),
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
                    yield self._event(ToolCallStartedEvent, run, tool=ToolExecution(
                        tool_call_id=call.get("id"), tool_name=fn.get("name"), tool_args=_args(fn.get("arguments"))))
                    if tool is None:
                        ex = ToolExecution(tool_call_id=call.get("id"), tool_name=fn.get("name"), tool_args={},
                                           tool_call_error=True, result=f"Error: no tool named {fn.get('name')!r}",
                                           created_at=now())
                    else:
                        ex = tool.execute(call.get("id"), fn.get("arguments"), state, injected)
                    run.tools.append(ex)
                    took = (ex.metrics or {}).get("duration") or 0.0
                    yield self._event(ToolCallCompletedEvent, run, tool=ex,
                                      content=f"{ex.tool_name}({_call_text(ex.tool_args)}) completed in {took:.4f}s. ")
                    messages.append(Message(
                        role="tool", content=ex.result, id=new_id(), created_at=now(), tool_call_id=ex.tool_call_id,
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
        self._link_members(run, collected)

    def _injected(self, run: RunOutput, state: Dict[str, Any], messages: List[Message]) -> Dict[str, Any]:
        """What tools taking ``run_context``, ``agent``, ``team``, ... get in this run."""
        context = RunContext(run_id=run.run_id, session_id=run.session_id, user_id=run.user_id,
                             workflow_id=run.workflow_id, workflow_name=run.workflow_name,
                             metadata=run.metadata, session_state=state, messages=messages)
        return injected_values(context, **{self.session_type: self})

    def _link_members(self, run: RunOutput, collected: List[RunOutput]) -> None:
        """Set ``child_run_id`` on the tool calls that produced member runs (teams)."""

    def _execute(self, input: Any, session_id: str, user_id: Optional[str], *, state: Dict[str, Any],
                 history: Sequence[Message] = (), parent_run_id: Optional[str] = None,
                 run_id: Optional[str] = None, collected: Optional[List[RunOutput]] = None) -> RunOutput:
        """One run, not stored (a team member's or a workflow step's)."""
        run = self._new_run(input, session_id, user_id, run_id=run_id, parent_run_id=parent_run_id)
        for _ in self._execute_iter(run, input, state=state, history=history, collected=collected):
            pass
        return run

    def _stamp(self, run: RunOutput) -> None:
        run.agent_id, run.agent_name = self.id, self.name

    def _summarise(self, session_id: str, run: RunOutput) -> SessionSummary:
        previous = self._recent_runs(session_id, 1_000)
        transcript = "\n".join(
            f"{m.role}: {m.content}" for r in [*previous, run] for m in (r.messages or [])
            if m.role in ("user", "assistant") and m.content and not m.from_history)
        resp = self.model.invoke([Message(role="system", content=SUMMARY_PROMPT),
                                  Message(role="user", content=transcript)])
        summary, _, topics = (resp.content or "").partition("Topics:")
        return SessionSummary(summary=summary.strip(), topics=[t.strip() for t in topics.split(",") if t.strip()],
                              updated_at=datetime.datetime.now())


class Team(Agent):
    """A team: a leader model that delegates tasks to member agents.

    The leader gets a ``delegate_task_to_member(member_id, task)`` tool. Member runs are
    stored in the team's session, each with ``parent_run_id`` set to the team run.
    ``members`` comes first, as in Agno (``Team([researcher, writer], model=...)``).
    """

    session_type = "team"
    _session_class = TeamSession
    _agno_flag_names = TEAM_FLAGS

    def __init__(self, members: Sequence[Agent], *, id: Optional[str] = None, model: Optional[Model] = None,
                 name: Optional[str] = None, user_id: Optional[str] = None, session_id: Optional[str] = None,
                 session_state: Optional[Dict[str, Any]] = None, add_session_state_to_context: bool = False,
                 overwrite_db_session_state: bool = False, cache_session: bool = False,
                 description: Optional[str] = None, instructions: Optional[Any] = None, markdown: bool = False,
                 read_chat_history: bool = False, store_history_messages: bool = True,
                 add_history_to_context: bool = False, num_history_runs: Optional[int] = None,
                 num_history_messages: Optional[int] = None, tools: Optional[Sequence[Callable[..., Any]]] = None,
                 db: Any = None, enable_session_summaries: bool = False, **agno_flags: Any):
        super().__init__(
            model=model, name=name, id=id, user_id=user_id, session_id=session_id, session_state=session_state,
            add_session_state_to_context=add_session_state_to_context,
            overwrite_db_session_state=overwrite_db_session_state, cache_session=cache_session, db=db,
            enable_session_summaries=enable_session_summaries, add_history_to_context=add_history_to_context,
            num_history_runs=num_history_runs, num_history_messages=num_history_messages,
            store_history_messages=store_history_messages, tools=tools, read_chat_history=read_chat_history,
            description=description, instructions=instructions, markdown=markdown, **agno_flags)
        self.members = list(members)
        ids = [m.id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError(f"team members need distinct ids; got {ids}")

    def __repr__(self) -> str:
        return f"Team(name={self.name!r}, id={self.id!r}, members={[m.id for m in self.members]!r})"

    def _component_data(self) -> Dict[str, Any]:
        return {"name": self.name, "team_id": self.id, "model": self.model.to_dict(),
                "members": [{"agent_id": m.id, "name": m.name} for m in self.members]}

    def _system_message(self, state: Optional[Dict[str, Any]] = None, show_state: bool = False) -> Optional[Message]:
        base = super()._system_message(state, show_state)
        roster = "\n".join(f"- {m.id}: {m.name or ''} {m.description or ''}".rstrip() for m in self.members)
        text = (base.content + "\n\n" if base else "") + f"You lead a team. Delegate tasks to members:\n{roster}"
        return Message(role="system", content=text, id=new_id(), created_at=now())

    def _stamp(self, run: RunOutput) -> None:
        run.team_id, run.team_name = self.id, self.name

    def _member_tools(self, run: RunOutput, state: Dict[str, Any], collected: List[RunOutput]) -> List[Tool]:
        by_id = {m.id: m for m in self.members}

        def delegate_task_to_member(member_id: str, task: str) -> str:
            """Give a task to one team member and return its answer."""
            member = by_id.get(member_id)
            if member is None:
                raise ValueError(f"no member {member_id!r}; members are {sorted(by_id)}")
            out = member._execute(task, run.session_id, run.user_id, state=state, parent_run_id=run.run_id)
            collected.append(out)
            return str(out.content)

        return [Tool.from_function(delegate_task_to_member)]

    def _link_members(self, run: RunOutput, collected: List[RunOutput]) -> None:
        for ex in run.tools or []:
            child = next((r for r in collected if r.input_content == (ex.tool_args or {}).get("task")
                          and r.agent_id == (ex.tool_args or {}).get("member_id")), None)
            if child is not None:
                ex.child_run_id = child.run_id

    def _execute_team(self, input: Any, session_id: str, user_id: Optional[str], state: Dict[str, Any],
                      history: Sequence[Message] = (), parent_run_id: Optional[str] = None):
        """A team run and its member runs, not stored (a workflow step's)."""
        collected: List[RunOutput] = []
        run = self._execute(input, session_id, user_id, state=state, history=history, parent_run_id=parent_run_id,
                            collected=collected)
        return run, collected

    def get_session_messages(self, session_id: Optional[str] = None,  # type: ignore[override]
                             member_ids: Optional[List[str]] = None, last_n_runs: Optional[int] = None,
                             limit: Optional[int] = None, skip_roles: Optional[List[str]] = None,
                             skip_statuses: Optional[List[Any]] = None, skip_history_messages: bool = True,
                             skip_member_messages: bool = True) -> List[Message]:
        """The session's messages (see ``TeamSession.get_messages``): the team's own by
        default, ``member_ids``' runs when given."""
        sid = session_id or self.session_id
        if sid is None:
            return []
        return self._require(sid).get_messages(
            member_ids=member_ids, last_n_runs=last_n_runs, limit=limit, skip_roles=skip_roles,
            skip_statuses=skip_statuses, skip_history_messages=skip_history_messages,
            skip_member_messages=skip_member_messages)

    aget_session_messages = async_twin(get_session_messages)


def _last_run(events: Iterator[Any]) -> Optional[RunOutput]:
    run = None
    for item in events:
        if isinstance(item, RunOutput):
            run = item
    return run


async def _in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(fn, *args, **kwargs)


def _console_file(console: Any):
    """Agno passes a rich Console; anything with ``write`` is used as a file."""
    if console is None:
        return None
    return getattr(console, "file", None) or (console if hasattr(console, "write") else None)


def _args(arguments: Any) -> Dict[str, Any]:
    try:
        value = json.loads(arguments) if isinstance(arguments, str) and arguments.strip() else (arguments or {})
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _call_text(args: Optional[Dict[str, Any]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in (args or {}).items())
