"""Sessions built record by record (no model runtime), for the cost, flags and stats tests."""

from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional, Sequence

from agno_nb import AgentSession, Message, Metrics, RunOutput, ToolExecution
from agno_nb.db.sqlite import SqliteDb

_ids = itertools.count()


def call(name: str, args: Dict[str, Any], error: bool = False, result: str = "ok") -> ToolExecution:
    """A tool execution; :func:`run` adds the assistant and tool messages that go with it."""
    return ToolExecution(tool_call_id=f"call-{next(_ids)}", tool_name=name, tool_args=args,
                         tool_call_error=error or None, result=result)


def run(run_id: str, *, agent: str = "a", question: str = "q", answer: Optional[str] = "fine.",
        status: str = "COMPLETED", model: Optional[str] = "gpt-4o", provider: Optional[str] = "OpenAI",
        inp: int = 100, out: int = 20, cached: int = 0, duration: Optional[float] = 1.0,
        calls: Sequence[ToolExecution] = (), finish_reason: Optional[str] = None, created_at: int = 1_700_000_000,
        message_metrics: bool = False) -> RunOutput:
    """A run: system and user messages, one assistant + tool message per call, a final answer."""
    msgs: List[Message] = [Message(role="system", content="be brief"), Message(role="user", content=question)]
    for c in calls:
        msgs.append(Message(role="assistant", tool_calls=[{"id": c.tool_call_id, "type": "function",
                                                            "function": {"name": c.tool_name, "arguments": "{}"}}]))
        msgs.append(Message(role="tool", content=c.result, tool_call_id=c.tool_call_id, tool_name=c.tool_name,
                            tool_call_error=c.tool_call_error))
    final_metrics = Metrics(input_tokens=inp, output_tokens=out, total_tokens=inp + out, cache_read_tokens=cached,
                            duration=duration) if message_metrics else None
    msgs.append(Message(role="assistant", content=answer, metrics=final_metrics,
                        provider_data={"finish_reason": finish_reason} if finish_reason else None))
    return RunOutput(run_id=run_id, agent_id=agent, input={"input_content": question}, content=answer,
                     model=model, model_provider=provider, status=status, created_at=created_at,
                     metrics=Metrics(input_tokens=inp, output_tokens=out, total_tokens=inp + out,
                                     cache_read_tokens=cached, duration=duration),
                     messages=msgs, tools=list(calls) or None)


def write(path, sessions: Dict[str, Sequence[RunOutput]], agent: str = "a") -> SqliteDb:
    """Each session_id with its runs, into a SQLite file at ``path``."""
    db = SqliteDb(db_file=str(path))
    for sid, runs in sessions.items():
        db.upsert_session(AgentSession(session_id=sid, agent_id=runs[0].agent_id if runs else agent, runs=list(runs)))
    return db
