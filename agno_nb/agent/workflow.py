"""Workflows: a pipeline of steps (agents, teams, functions) stored as one run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from ..db.base import BaseDb
from ..records import Metrics, RunOutput, WorkflowSession, now
from .agent import Agent, Team, _Component, _new_id

Executor = Union[Agent, Team, Callable[[Any], Any]]


@dataclass
class Step:
    """A named step; ``executor`` is an Agent, a Team or a function of the previous output."""

    name: str
    executor: Executor


class Workflow(_Component):
    """Runs ``steps`` in order, each fed the previous step's output.

    The whole pipeline run is stored as one workflow run: its input, each step's
    result (``step_results``), the runs of the agents and teams it called
    (``step_executor_runs``, linked by ``parent_run_id``), and the final content.
    """

    session_type = "workflow"
    _session_class = WorkflowSession

    def __init__(self, name: Optional[str] = None, id: Optional[str] = None, steps: Sequence[Any] = (),
                 db: Optional[BaseDb] = None, session_state: Optional[Dict[str, Any]] = None,
                 description: Optional[str] = None):
        super().__init__(name, id, db, session_state)
        self.description = description
        self.steps: List[Step] = [s if isinstance(s, Step) else Step(_step_name(s, i), s) for i, s in enumerate(steps)]
        if not self.steps:
            raise ValueError("a Workflow needs at least one step")

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, id={self.id!r}, steps={[s.name for s in self.steps]!r})"

    def _component_data(self) -> Dict[str, Any]:
        return {"name": self.name, "workflow_id": self.id, "steps": [s.name for s in self.steps]}

    def run(self, input: Any, session_id: Optional[str] = None, user_id: Optional[str] = None) -> RunOutput:
        """Run every step and store the pipeline run."""
        session = self._open_session(session_id, user_id)
        user_id = user_id or session.user_id
        state = {**self.session_state, **session.session_state}
        started = time.perf_counter()
        run = RunOutput(run_id=_new_id(), workflow_id=self.id, workflow_name=self.name, session_id=session.session_id,
                        user_id=user_id, input={"input_content": input}, status="RUNNING", created_at=now(),
                        step_results=[], step_executor_runs=[], content_type="str")
        metrics = Metrics()
        value: Any = input
        run.status = "COMPLETED"
        for step in self.steps:
            t0 = time.perf_counter()
            result: Dict[str, Any] = {"step_name": step.name, "step_type": _kind(step.executor),
                                      "executor_name": _executor_name(step.executor)}
            try:
                ex = step.executor
                if isinstance(ex, Team):
                    out, members = ex._execute_team(value, session.session_id, user_id, state, parent_run_id=run.run_id)
                    run.step_executor_runs += [out, *members]
                    metrics = metrics + (out.metrics or Metrics())
                    status, value = out.status, out.content
                elif isinstance(ex, Agent):
                    out = ex._execute(value, session.session_id, user_id, state=state, parent_run_id=run.run_id)
                    run.step_executor_runs.append(out)
                    metrics = metrics + (out.metrics or Metrics())
                    status, value = out.status, out.content
                else:
                    status, value = "COMPLETED", ex(value)
            except Exception as exc:
                status, value = "ERROR", f"{type(exc).__name__}: {exc}"
            result.update(content=value, status=status, duration=time.perf_counter() - t0)
            run.step_results.append(result)
            if status == "ERROR":
                run.status = "ERROR"
                break
        run.content = value
        metrics.duration = time.perf_counter() - started
        run.metrics = metrics
        run.session_state = dict(state)
        self._store(self._header(session, state, user_id), [run])
        return run


def _step_name(executor: Any, i: int) -> str:
    return getattr(executor, "name", None) or getattr(executor, "__name__", None) or f"step_{i + 1}"


def _executor_name(executor: Any) -> str:
    return getattr(executor, "id", None) or getattr(executor, "__name__", None) or type(executor).__name__


def _kind(executor: Any) -> str:
    return "team" if isinstance(executor, Team) else "agent" if isinstance(executor, Agent) else "function"
