"""What agents, teams and workflows share: identity, a db, session handling, run plumbing
and printing. Agno's parameters that name features outside session storage are refused
clearly (``NotImplementedError``) rather than ignored."""

from __future__ import annotations

import asyncio
import copy
import sys
import uuid
from typing import Any, AsyncIterator, Dict, Iterable, Iterator, List, Optional

from ..errors import SessionOwnershipError
from ..records import AgentSession, Metrics, RunOutput, Session, now
from .events import BaseWorkflowRunEvent, RunContentEvent
from .session_api import SessionMethods

# Agno's run()/print_response() parameters for features agno_nb does not have (media,
# knowledge, dependencies, structured output, background runs, ...). Passing one with a
# value other than its default raises NotImplementedError; docs/compat.md lists them.
AGNO_ONLY_ARGS = frozenset({
    "audio", "images", "videos", "files", "knowledge_filters", "dependencies", "add_dependencies_to_context",
    "output_schema", "run_context", "debug_mode", "background", "background_tasks", "show_reasoning",
    "show_full_reasoning", "tags_to_include_in_markdown", "show_member_responses", "websocket",
    "enable_websocket", "additional_data", "show_step_details",
})


def new_id() -> str:
    return str(uuid.uuid4())


def refuse(where: str, **values: Any) -> None:
    """Raise for an Agno-only parameter given a value (its default passes: None/False/True/empty)."""
    for key, value in values.items():
        if key not in AGNO_ONLY_ARGS:
            raise TypeError(f"{where}() got an unexpected keyword argument {key!r}")
        if value is None or value is False or (key.startswith("show_") and value is True) or value in ((), [], {}):
            continue
        raise NotImplementedError(
            f"{where}({key}=...) is an Agno feature outside session storage that agno_nb does not have "
            "(see docs/compat.md)")


def deep_merge(into: Dict[str, Any], other: Dict[str, Any]) -> Dict[str, Any]:
    """Merge ``other`` into ``into`` recursively (Agno's ``merge_dictionaries``)."""
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        else:
            into[key] = value
    return into


def select_events(events: Iterable[Any], stream_events: Optional[bool], yield_run_output: Optional[bool]) -> Iterator[Any]:
    """What a streamed run shows, as in Agno: content deltas always, lifecycle events with
    ``stream_events``, the final run output with ``yield_run_output``."""
    for item in events:
        if isinstance(item, RunOutput):
            if yield_run_output:
                yield item
        elif isinstance(item, RunContentEvent) or isinstance(item, BaseWorkflowRunEvent) or stream_events:
            yield item


async def to_async_iter(items: Iterator[Any]) -> AsyncIterator[Any]:
    """A sync iterator as an async one; each step runs in a worker thread."""
    done = object()
    while True:
        item = await asyncio.to_thread(next, items, done)
        if item is done:
            return
        yield item


def in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def format_duration(seconds: Optional[float]) -> str:
    """A duration a reader can use: milliseconds below a minute (``412.3 ms``, ``1,204.0 ms``)."""
    if seconds is None:
        return "– ms"
    if seconds >= 60:
        return f"{seconds:,.1f} s"
    return f"{seconds * 1000:,.1f} ms"


def format_run(run: RunOutput, title: Optional[str] = None, *, show_message: bool = True,
               show_content: bool = True) -> str:
    """The exchange of one run as text: input, tool calls, answer, status line."""
    lines = [f"▶ {run.input_text()}"] if show_message else []
    for tool in run.tools or []:
        flag = " (error)" if tool.tool_call_error else ""
        lines.append(f"  ⚙ {tool.tool_name}({tool.tool_args}) → {tool.result}{flag}")
    if show_content:
        lines.append(f"◀ {title or 'agent'}: {run.content}")
    m = run.metrics or Metrics()
    lines.append(f"  [{run.status} · {m.total_tokens} tokens · {format_duration(m.duration)} · session {run.session_id}]")
    return "\n".join(lines)


class Component(SessionMethods):
    """Identity, db, session defaults and the session-opening rules shared by every runner."""

    session_type = "agent"
    _session_class = AgentSession

    def __init__(self, *, name: Optional[str], id: Optional[str], db: Any, session_id: Optional[str] = None,
                 user_id: Optional[str] = None, session_state: Optional[Dict[str, Any]] = None,
                 add_session_state_to_context: bool = False, overwrite_db_session_state: bool = False,
                 cache_session: bool = False, markdown: bool = False, description: Optional[str] = None):
        self.name = name
        self.id = id or (name.lower().replace(" ", "-") if name else new_id())
        self.db = db
        self.session_id = session_id
        self.user_id = user_id
        self.session_state = copy.deepcopy(session_state) if session_state else {}
        self.add_session_state_to_context = add_session_state_to_context
        self.overwrite_db_session_state = overwrite_db_session_state
        self.cache_session = cache_session
        self.markdown = markdown
        self.description = description
        self._cached_session: Optional[Session] = None

    # -- sessions ------------------------------------------------------------------------

    def rename_session(self, session_id: str, session_name: str) -> Session:
        """Set the session's name (agno_nb 0.1's spelling of ``set_session_name``)."""
        return self.set_session_name(session_id=session_id, session_name=session_name)

    def _ids(self, session_id: Optional[str], user_id: Optional[str]):
        """Agno's rule: the run's session_id, else the component's, else a new one that
        sticks to the component; the run's user_id, else the component's."""
        if session_id is None:
            if self.session_id is None:
                self.session_id = new_id()
            session_id = self.session_id
        return session_id, (user_id or self.user_id)

    def _open_session(self, session_id: str, user_id: Optional[str]):
        """The stored session row (no runs) or a new one, and whether it was stored; checks ownership."""
        stored = None
        if self.db is not None:
            header = getattr(self.db, "session_header", None)
            stored = header(session_id) if header else self.db.get_session(session_id=session_id)
        if stored is not None:
            if stored.user_id is not None and user_id is not None and stored.user_id != user_id:
                raise SessionOwnershipError(
                    f"session {session_id!r} belongs to another user; user_id={user_id!r} cannot continue it")
            return stored, True
        return self._session_class(session_id=session_id, user_id=user_id, created_at=now()), False

    def _run_state(self, session: Session, stored: bool, session_state: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """Agno's precedence: the run's ``session_state`` over the stored one (a new session
        starts from the component's default); ``overwrite_db_session_state`` ignores the stored one."""
        base = session.session_state if stored else self.session_state
        state = copy.deepcopy(session_state) if session_state else {}
        if base and not self.overwrite_db_session_state:
            state = deep_merge(copy.deepcopy(base), state)
        return state

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
        self._cached_session = None  # the next read sees this write
        if self.db is None:
            return
        try:
            self.db.append_runs(header, runs)
        except Exception as exc:
            exc.session, exc.runs = header, runs  # type: ignore[attr-defined]
            raise

    # -- printing ------------------------------------------------------------------------

    def _print(self, input: Any, events: Iterable[Any], *, stream: bool, markdown: bool, show_message: bool,
               file=None) -> None:
        """Print a run: streamed deltas as they come, or the whole exchange at the end."""
        printer = RunPrinter(self.name or self.id, input, stream=stream, markdown=markdown,
                             show_message=show_message, file=file)
        for item in events:
            printer.feed(item)
        printer.finish()


class RunPrinter:
    """Prints one run from its events: deltas as they arrive (``stream``), then the
    tool calls, answer and status line."""

    def __init__(self, title: str, input: Any, *, stream: bool, markdown: bool, show_message: bool, file=None):
        self.title, self.input, self.stream, self.markdown = title, input, stream, markdown
        self.show_message, self.file = show_message, file
        self.out = file or sys.stdout
        self.run: Optional[RunOutput] = None
        self.streamed = False

    def feed(self, item: Any) -> None:
        if isinstance(item, RunOutput):
            self.run = item
        elif self.stream and isinstance(item, RunContentEvent) and item.content:
            if not self.streamed:
                if self.show_message:
                    print(f"▶ {self.input}", file=self.out)
                print(f"◀ {self.title}: ", end="", file=self.out)
                self.streamed = True
            print(item.content, end="", file=self.out, flush=True)

    def finish(self) -> None:
        run, out = self.run, self.out
        if run is None:
            return
        if self.streamed:
            print(file=out)
        if self.markdown and not self.streamed and in_notebook() and self.file is None:
            from IPython.display import Markdown, display

            if self.show_message:
                print(f"▶ {run.input_text()}", file=out)
            display(Markdown(str(run.content or "")))
            print(format_run(run, self.title, show_message=False, show_content=False), file=out)
            return
        print(format_run(run, self.title, show_message=self.show_message and not self.streamed,
                         show_content=not self.streamed), file=out)
