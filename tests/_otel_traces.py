"""Write real OpenTelemetry traces for tests/test_otlp.py, in a process of their own.

    python tests/_otel_traces.py agno   OUT_DIR BASE_URL   # agno + openinference-instrumentation-agno
    python tests/_otel_traces.py openai OUT_DIR BASE_URL   # openai + opentelemetry-instrumentation-openai-v2

Instrumentors patch agno and openai for the whole process, hence a process apart. The spans
are exported by the OpenTelemetry SDK to ``OUT_DIR/traces.jsonl`` as OTLP/JSON lines, the way
the Collector's file exporter writes them (the SDK's own OTLP encoder, protobuf's JSON mapping,
then ids in hex as the OTLP/JSON spec says), and to ``OUT_DIR/console.json`` by the SDK's
``ConsoleSpanExporter`` (``span.to_json()``, pretty-printed, one after another). What the run
returned (run ids, ...) is printed to stdout as JSON.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor, SpanExporter, SpanExportResult
from _helpers import get_weather


def _hex_ids(node):
    """protobuf's JSON mapping writes bytes as base64; OTLP/JSON writes trace and span ids in hex."""
    if isinstance(node, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") and v else _hex_ids(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_hex_ids(x) for x in node]
    return node


class OtlpJsonLinesExporter(SpanExporter):
    """One ExportTraceServiceRequest per export call, as a JSON line (the Collector's file exporter)."""

    def __init__(self, path: Path):
        self.file = open(path, "w", encoding="utf-8")

    def export(self, spans):
        request = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
        self.file.write(json.dumps(_hex_ids(request)) + "\n")
        self.file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self):
        self.file.close()


def _agno(base_url: str, out: Path, tp: TracerProvider) -> dict:
    from openinference.instrumentation.agno import AgnoInstrumentor

    AgnoInstrumentor().instrument(tracer_provider=tp)
    from agno.agent import Agent
    from agno.db.sqlite import SqliteDb
    from agno.models.openai.like import OpenAILike

    agent = Agent(name="Weather", id="weather-agent", tools=[get_weather], telemetry=False,
                  db=SqliteDb(db_file=str(out / "agno.db")),
                  model=OpenAILike(id="fake-model", base_url=base_url, api_key="sk-test"))
    runs = [agent.run(q, session_id="picnic", user_id="bob") for q in ("Picnic in Paris?", "Umbrella?")]
    other = Agent(name="Plain", id="plain-agent", telemetry=False, db=SqliteDb(db_file=str(out / "agno.db")),
                  model=OpenAILike(id="fake-model", base_url=base_url, api_key="sk-test"))
    runs.append(other.run("Hello there", session_id="hello", user_id="carol"))
    from agno.team import Team

    member = Agent(name="Forecaster", id="forecaster", tools=[get_weather], telemetry=False,
                   model=OpenAILike(id="fake-model", base_url=base_url, api_key="sk-test"))
    team = Team(name="Travel", id="travel-team", members=[member], telemetry=False,
                db=SqliteDb(db_file=str(out / "agno.db")),
                model=OpenAILike(id="fake-model", base_url=base_url, api_key="sk-test"))
    team_run = team.run("Trip to Paris?", session_id="trip", user_id="dave")
    return {"run_ids": [r.run_id for r in runs], "team_run_id": team_run.run_id,
            "member_run_ids": [m.run_id for m in team_run.member_responses]}


def _openai(base_url: str, out: Path, tp: TracerProvider) -> dict:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=tp)
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="sk-test")
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Picnic in Paris?"}]
    first = client.chat.completions.create(model="fake-model", messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": get_weather("Paris")}]
    second = client.chat.completions.create(model="fake-model", messages=messages, tools=tools)
    return {"usage": [[r.usage.prompt_tokens, r.usage.completion_tokens] for r in (first, second)],
            "call_id": call.id, "answer": second.choices[0].message.content}


def main(which: str, out_dir: str, base_url: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(OtlpJsonLinesExporter(out / "traces.jsonl")))
    console = open(out / "console.json", "w", encoding="utf-8")
    tp.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=console)))
    result = (_agno if which == "agno" else _openai)(base_url, out, tp)
    tp.shutdown()
    console.close()
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "openai":  # GenAI conventions with the messages on the span (gen_ai.input.messages)
        assert os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN") == "gen_ai_latest_experimental"
    main(*sys.argv[1:4])
