"""Workflows: a pipeline of steps (agents, teams, functions) stored as one run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

from ..records import Metrics, RunOutput, WorkflowChatInteraction, WorkflowSession, now
from .agent import Agent, Team, _in_thread
from .agno_flags import WORKFLOW_FLAGS, accept_agno_flags
from .events import StepCompletedEvent, StepStartedEvent, WorkflowCompletedEvent, WorkflowStartedEvent
from .runs import Component, new_id, refuse, to_async_iter

Executor = Union[Agent, Team, Callable[[Any], Any]]


@dataclass
class Step:
    """A named step; ``executor`` is an Agent, a Team or a function of the previous output."""

    name: str
    executor: Executor


class Workflow(Component):
    """Runs ``steps`` in order, each fed the previous step's output.

    The whole pipeline run is stored as one workflow run: its input, each step's
    result (``step_results``), the runs of the agents and teams it called
    (``step_executor_runs``, linked by ``parent_run_id``), and the final content.
    Constructor and session methods take Agno 3.1's arguments (those for features agno_nb
    lacks are accepted and have no effect: :mod:`agno_nb.agent.agno_flags`).
    """

    session_type = "workflow"
    _session_class = WorkflowSession

    def __init__(self, *, id: Optional[str] = None, name: Optional[str] = None, description: Optional[str] = None,
                 db: Any = None, steps: Optional[Sequence[Any]] = None, session_id: Optional[str] = None,
                 session_state: Optional[Dict[str, Any]] = None, overwrite_db_session_state: bool = False,
                 user_id: Optional[str] = None, add_session_state_to_context: Optional[bool] = None,
                 cache_session: bool = False, num_history_runs: int = 3, **agno_flags: Any):
        super().__init__(name=name, id=id, db=db, session_id=session_id, user_id=user_id, session_state=session_state,
                         add_session_state_to_context=bool(add_session_state_to_context),
                         overwrite_db_session_state=overwrite_db_session_state, cache_session=cache_session,
                         description=description)
        accept_agno_flags(self, agno_flags, WORKFLOW_FLAGS)  # Agno's others: no effect here, see agno_flags
        self.num_history_runs = num_history_runs
        self.steps: List[Step] = [s if isinstance(s, Step) else Step(_step_name(s, i), s) for i, s in enumerate(steps or [])]
        if not self.steps:
            raise ValueError("a Workflow needs at least one step")

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, id={self.id!r}, steps={[s.name for s in self.steps]!r})"

    def _component_data(self) -> Dict[str, Any]:
        return {"name": self.name, "workflow_id": self.id, "steps": [s.name for s in self.steps]}

    def run(self, input: Any = None, additional_data: Optional[Dict[str, Any]] = None, user_id: Optional[str] = None,
            run_id: Optional[str] = None, session_id: Optional[str] = None,
            session_state: Optional[Dict[str, Any]] = None, audio: Any = None, images: Any = None,
            videos: Any = None, files: Any = None, stream: Optional[bool] = None,
            stream_events: Optional[bool] = None, background: Optional[bool] = False, background_tasks: Any = None,
            dependencies: Any = None, metadata: Optional[Dict[str, Any]] = None,
            add_dependencies_to_context: Optional[bool] = None,
            add_session_state_to_context: Optional[bool] = None, **kwargs: Any):
        """Run every step and store the pipeline run; returns it (``stream=True``: an
        iterator of workflow and step events ending with :class:`WorkflowCompletedEvent`)."""
        refuse("Workflow.run", additional_data=additional_data, audio=audio, images=images, videos=videos,
               files=files, background=background, background_tasks=background_tasks, dependencies=dependencies,
               add_dependencies_to_context=add_dependencies_to_context, **kwargs)
        events = self._run_events(input, session_id=session_id, user_id=user_id, session_state=session_state,
                                  run_id=run_id, metadata=metadata)
        if stream:
            return (e for e in events if not isinstance(e, RunOutput))
        run = None
        for item in events:
            if isinstance(item, RunOutput):
                run = item
        return run

    def arun(self, input: Any = None, additional_data: Optional[Dict[str, Any]] = None,
             user_id: Optional[str] = None, run_id: Optional[str] = None, session_id: Optional[str] = None,
             session_state: Optional[Dict[str, Any]] = None, audio: Any = None, images: Any = None,
             videos: Any = None, files: Any = None, stream: Optional[bool] = None,
             stream_events: Optional[bool] = None, background: Optional[bool] = False, websocket: Any = None,
             enable_websocket: bool = False, background_tasks: Any = None, dependencies: Any = None,
             metadata: Optional[Dict[str, Any]] = None, add_dependencies_to_context: Optional[bool] = None,
             add_session_state_to_context: Optional[bool] = None, **kwargs: Any):
        """Async :meth:`run` (in a worker thread): ``await wf.arun(...)`` or ``async for`` with ``stream=True``."""
        refuse("Workflow.arun", websocket=websocket, enable_websocket=enable_websocket, **kwargs)
        options = dict(additional_data=additional_data, user_id=user_id, run_id=run_id, session_id=session_id,
                       session_state=session_state, audio=audio, images=images, videos=videos, files=files,
                       stream_events=stream_events, background=background, background_tasks=background_tasks,
                       dependencies=dependencies, metadata=metadata,
                       add_dependencies_to_context=add_dependencies_to_context,
                       add_session_state_to_context=add_session_state_to_context)
        if stream:
            return to_async_iter(iter(self.run(input, stream=True, **options)))
        return _in_thread(self.run, input, **options)

    def print_response(self, input: Any, additional_data: Optional[Dict[str, Any]] = None,
                       user_id: Optional[str] = None, session_id: Optional[str] = None, audio: Any = None,
                       images: Any = None, videos: Any = None, files: Any = None, stream: Optional[bool] = None,
                       markdown: bool = True, show_time: bool = True, show_step_details: bool = True,
                       console: Any = None, file: Any = None, **kwargs: Any) -> None:
        """Run and print each step's result and the workflow's output, with durations in ms."""
        refuse("Workflow.print_response", additional_data=additional_data, audio=audio, images=images,
               videos=videos, files=files, **kwargs)
        run = self.run(input, user_id=user_id, session_id=session_id)
        self._print_run(run, show_time=show_time, show_step_details=show_step_details, file=file)

    async def aprint_response(self, input: Any, additional_data: Optional[Dict[str, Any]] = None,
                              user_id: Optional[str] = None, session_id: Optional[str] = None, audio: Any = None,
                              images: Any = None, videos: Any = None, files: Any = None,
                              stream: Optional[bool] = None, markdown: bool = True, show_time: bool = True,
                              show_step_details: bool = True, console: Any = None, file: Any = None,
                              **kwargs: Any) -> None:
        """Async :meth:`print_response`: runs in a worker thread, prints in the awaiting cell."""
        refuse("Workflow.aprint_response", additional_data=additional_data, audio=audio, images=images,
               videos=videos, files=files, **kwargs)
        run = await _in_thread(self.run, input, user_id=user_id, session_id=session_id)
        self._print_run(run, show_time=show_time, show_step_details=show_step_details, file=file)

    def _print_run(self, run: RunOutput, *, show_time: bool, show_step_details: bool, file=None) -> None:
        import sys

        from .runs import format_duration

        out = file or sys.stdout
        print(f"▶ {run.input_text()}", file=out)
        if show_step_details:
            for step in run.step_results or []:
                took = f" · {format_duration(step.get('duration'))}" if show_time else ""
                print(f"  ◇ {step.get('step_name')} [{step.get('status')}{took}]: {step.get('content')}", file=out)
        print(f"◀ {self.name or self.id}: {run.content}", file=out)
        m = run.metrics or Metrics()
        took = f" · {format_duration(m.duration)}" if show_time else ""
        print(f"  [{run.status} · {m.total_tokens} tokens{took} · session {run.session_id}]", file=out)

    def get_chat_history(self, session_id: Optional[str] = None,  # type: ignore[override]
                         last_n_runs: Optional[int] = None) -> List[WorkflowChatInteraction]:
        """One ``WorkflowChatInteraction(input, output)`` per run of the session (Agno's shape)."""
        session = self._load(self._session_id_or_raise(session_id))
        return session.get_chat_history(last_n_runs=last_n_runs) if session is not None else []

    def _run_events(self, input: Any, *, session_id: Optional[str], user_id: Optional[str],
                    session_state: Optional[Dict[str, Any]], run_id: Optional[str],
                    metadata: Optional[Dict[str, Any]]) -> Iterator[Any]:
        session_id, user_id = self._ids(session_id, user_id)
        session, stored = self._open_session(session_id, user_id)
        user_id = user_id or session.user_id
        state = self._run_state(session, stored, session_state)
        started = time.perf_counter()
        run = RunOutput(run_id=run_id or new_id(), workflow_id=self.id, workflow_name=self.name,
                        session_id=session_id, user_id=user_id, input=input,  # raw, as Agno stores it
                        status="RUNNING", created_at=now(), step_results=[], step_executor_runs=[],
                        content_type="str", metadata=metadata)
        ids = dict(workflow_id=self.id, workflow_name=self.name, session_id=session_id, run_id=run.run_id)
        yield WorkflowStartedEvent(**ids)
        metrics = Metrics()
        step_metrics: Dict[str, Any] = {}
        value: Any = input
        run.status = "COMPLETED"
        for index, step in enumerate(self.steps):
            yield StepStartedEvent(**ids, step_name=step.name, step_index=index)
            t0 = time.perf_counter()
            result: Dict[str, Any] = {"step_name": step.name, "step_type": _kind(step.executor),
                                      "executor_name": _executor_name(step.executor)}
            try:
                ex = step.executor
                if isinstance(ex, (Team, Agent)):
                    if isinstance(ex, Team):
                        out, members = ex._execute_team(value, session_id, user_id, state, parent_run_id=run.run_id)
                        run.step_executor_runs += [out, *members]
                    else:
                        out = ex._execute(value, session_id, user_id, state=state, parent_run_id=run.run_id)
                        run.step_executor_runs.append(out)
                    metrics = metrics + (out.metrics or Metrics())
                    step_metrics[step.name] = {"step_name": step.name, "executor_type": _kind(ex),
                                               "executor_name": _executor_name(ex),
                                               "metrics": (out.metrics or Metrics()).to_dict() or None}
                    status, value = out.status, out.content
                else:
                    status, value = "COMPLETED", ex(value)
            except Exception as exc:
                status, value = "ERROR", f"{type(exc).__name__}: {exc}"
            result.update(content=value, status=status, duration=time.perf_counter() - t0)
            run.step_results.append(result)
            yield StepCompletedEvent(**ids, step_name=step.name, step_index=index, content=value,
                                     step_response=result)
            if status == "ERROR":
                run.status = "ERROR"
                break
        run.content = value
        metrics.duration = time.perf_counter() - started
        metrics.details = None
        # Agno's WorkflowMetrics shape ("steps" by name, "duration"), plus the token totals
        # agno_nb's analysis reads; Agno ignores the extra keys.
        metrics.extra["steps"] = step_metrics
        run.metrics = metrics
        run.session_state = dict(state)
        self._store(self._header(session, state, user_id), [run])
        yield WorkflowCompletedEvent(**ids, content=run.content, metadata=metadata, step_results=run.step_results)
        yield run


def _step_name(executor: Any, i: int) -> str:
    return getattr(executor, "name", None) or getattr(executor, "__name__", None) or f"step_{i + 1}"


def _executor_name(executor: Any) -> str:
    return getattr(executor, "id", None) or getattr(executor, "__name__", None) or type(executor).__name__


def _kind(executor: Any) -> str:
    return "team" if isinstance(executor, Team) else "agent" if isinstance(executor, Agent) else "function"
