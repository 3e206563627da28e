"""Have the real agno 3.1.10 write every table besides sessions and runs (test helper).

``write_all(db, server)`` runs, through agno's own code: a traced agent run with a tool
(agno_traces, agno_spans), an agent with ``offload_tool_results=True`` whose tool returns a
large result (agno_tool_results, agno_fs), a user memory, an approval requested then
resolved, a compaction record, a learning, and ``calculate_metrics()``. It returns what the
tests compare against (ids and the session).
"""

from __future__ import annotations

import time
from typing import Any, Dict

from _helpers import get_weather

BIG_LINES = 1100


def big_report(topic: str) -> str:
    """A report far larger than agno's offload threshold (16,000 characters)."""
    return "\n".join(f"line {i}: {topic} figures {i * 7}" for i in range(BIG_LINES))


def write_all(db: Any, server: Any, *, session_id: str = "s-tables", user_id: str = "alice",
              everything: bool = True) -> Dict[str, Any]:
    """``everything=False``: only what agno's MySQL db implements (traces, spans, memories,
    metrics): no offloaded results, approvals, compactions or learnings."""
    from agno.agent import Agent
    from agno.models.openai.like import OpenAILike

    def model():
        return OpenAILike(id="gpt-4o-mini", api_key="x", base_url=server.base_url)

    provider = _start_tracing(db)
    try:
        traced = Agent(id="weather-agent", model=model(), tools=[get_weather], db=db)
        first = traced.run("Weather in Paris?", session_id=session_id, user_id=user_id)
        server.tool_args["big_report"] = {"topic": "sales"}
        offloading = Agent(id="report-agent", model=model(), tools=[big_report], db=db,
                           offload_tool_results=everything)
        out = offloading.run("Give me the sales report", session_id=session_id + "-big", user_id=user_id)
    finally:
        _stop_tracing(provider)
    from agno.db.schemas.memory import UserMemory

    db.upsert_user_memory(UserMemory(memory="Likes sunny weather", topics=["weather", "prefs"], user_id=user_id,
                                     agent_id="weather-agent", input="I like the sun", memory_id="m1"))
    now = int(time.time())
    if not everything:  # agno's MySQL db: learnings raise NotImplementedError
        db.calculate_metrics()
        return {"session_id": session_id, "big_session_id": session_id + "-big", "big_run_id": out.run_id,
                "user_id": user_id, "first_run_id": first.run_id}
    db.create_approval({"id": "ap1", "run_id": out.run_id, "session_id": session_id + "-big", "status": "pending",
                        "source_type": "agent", "approval_type": "required", "pause_type": "required",
                        "tool_name": "big_report", "tool_args": {"topic": "sales"}, "agent_id": "report-agent",
                        "user_id": user_id, "created_at": now - 30, "updated_at": now - 30, "run_status": "PAUSED"})
    db.update_approval("ap1", status="approved", resolved_by="bob", resolved_at=now)
    db.upsert_compaction({"compaction_id": "c1", "session_id": session_id, "run_id": first.run_id, "user_id": user_id,
                          "first_kept_message_id": "msg-9", "summary": "They talked about Paris weather.",
                          "archived_messages": '[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]',
                          "messages_compacted": 2, "tokens_before": 736, "tokens_after": 203, "created_at": now})
    db.upsert_learning(id="l1", learning_type="user_profile", content={"name": "Alice", "likes": ["sun"]},
                       user_id=user_id, agent_id="weather-agent", session_id=session_id, metadata={"source": "test"})
    db.calculate_metrics()
    return {"session_id": session_id, "big_session_id": session_id + "-big", "big_run_id": out.run_id,
            "user_id": user_id, "first_run_id": first.run_id}


def _start_tracing(db: Any) -> Any:
    """What ``agno.tracing.setup_tracing(db)`` sets up (agno's own DatabaseSpanExporter into ``db``),
    without making it the process's global tracer provider, which OpenTelemetry sets only once:
    each test writes its own database."""
    from agno.tracing.exporter import DatabaseSpanExporter
    from openinference.instrumentation.agno import AgnoInstrumentor
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(span_limits=SpanLimits(max_span_attributes=1024))
    provider.add_span_processor(SimpleSpanProcessor(DatabaseSpanExporter(db=db)))
    AgnoInstrumentor().instrument(tracer_provider=provider)
    return provider


def _stop_tracing(provider: Any) -> None:
    """Detach agno's instrumentation so later tests in the process are not traced."""
    from openinference.instrumentation.agno import AgnoInstrumentor

    AgnoInstrumentor().uninstrument()
    provider.shutdown()
