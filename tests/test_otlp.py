"""OpenTelemetry traces in (connect) and out (to_otlp), on traces the real libraries wrote.

The traces are made offline, in a process apart (tests/_otel_traces.py): real agno 3.1
instrumented with openinference-instrumentation-agno, and the openai client instrumented with
opentelemetry-instrumentation-openai-v2, both against the local OpenAI-compatible test
server, exported by the OpenTelemetry SDK (OTLP/JSON lines and ConsoleSpanExporter JSON).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import agno_nb
from agno_nb.analysis.otlp import TraceFileError
from agno_nb.testing import FakeOpenAIServer

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer(tool_args={"get_weather": {"city": "Paris"}, "delegate_task_to_member": {
            "member_id": "forecaster", "task": "Weather in Paris?"}}) as s:
        yield s


def _generate(which: str, out: Path, base_url: str) -> dict:
    env = dict(os.environ, OTEL_SEMCONV_STABILITY_OPT_IN="gen_ai_latest_experimental",
               OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="SPAN_ONLY")
    done = subprocess.run([sys.executable, str(HERE / "_otel_traces.py"), which, str(out), base_url],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def agno_traces(tmp_path_factory, server):
    out = tmp_path_factory.mktemp("agno_traces")
    return out, _generate("agno", out, server.base_url)


@pytest.fixture(scope="module")
def openai_traces(tmp_path_factory, server):
    out = tmp_path_factory.mktemp("openai_traces")
    return out, _generate("openai", out, server.base_url)


def _spans(path: Path):
    """Every span of an OTLP/JSON lines file, attributes as a plain dict."""
    out = []
    for line in path.read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    attrs = {a["key"]: next(iter(a["value"].values())) for a in s.get("attributes", [])}
                    out.append({**s, "attrs": attrs})
    return out


def _quiet(path) -> agno_nb.SessionExplorer:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # these traces map completely: no warning at all
        return agno_nb.connect(path)


def _content(df: pd.DataFrame, cols) -> list:
    def value(v):
        if hasattr(v, "__len__") and not isinstance(v, str):  # a list column (flags)
            return tuple(v)
        return None if pd.isna(v) else v
    return [tuple(value(v) for v in row) for row in df[cols].itertuples(index=False)]


# -- OpenInference, from real agno ---------------------------------------------------------

def test_openinference_agno_traces_become_sessions_runs_messages_and_tool_calls(agno_traces):
    out, made = agno_traces
    spans = _spans(out / "traces.jsonl")
    kinds = Counter(s["attrs"].get("openinference.span.kind") for s in spans)
    ex = _quiet(out / "traces.jsonl")
    assert "OpenTelemetry traces" in repr(ex)

    sessions = ex.sessions().set_index("session_id")
    assert sorted(sessions.index) == ["hello", "picnic", "trip"]  # session.id, not the 4 traces
    assert sessions.loc["picnic", "n_runs"] == 2 and sessions.loc["picnic", "user_id"] == "bob"
    assert sessions.loc["picnic", "agent_id"] == "weather-agent" and sessions.loc["picnic", "session_type"] == "agent"

    runs = ex.runs()
    assert len(runs) == kinds["AGENT"] == 5
    # agno.run.id: the ids agno stored
    assert sorted(runs.run_id) == sorted(made["run_ids"] + [made["team_run_id"]] + made["member_run_ids"])
    picnic = runs[runs.session_id == "picnic"].sort_values("run_index")
    assert list(picnic.input) == ["Picnic in Paris?", "Umbrella?"]
    assert list(picnic.content) == ["Tool said: Sunny in Paris, 21C"] * 2
    assert set(runs.model) == {"fake-model"} and set(runs.status) == {"COMPLETED"}

    # token counts: the sum of the LLM spans' llm.token_count.* in each run's trace
    run_of = {s["spanId"]: s["attrs"]["agno.run.id"] for s in spans if s["attrs"].get("openinference.span.kind") == "AGENT"}
    want = Counter()
    for s in spans:
        if s["attrs"].get("openinference.span.kind") == "LLM":
            want[run_of[s["parentSpanId"]], "in"] += int(s["attrs"]["llm.token_count.prompt"])
            want[run_of[s["parentSpanId"]], "out"] += int(s["attrs"]["llm.token_count.completion"])
    for r in runs.itertuples():
        assert (r.input_tokens, r.output_tokens, r.total_tokens) == (
            want[r.run_id, "in"], want[r.run_id, "out"], want[r.run_id, "in"] + want[r.run_id, "out"])
    assert sessions.loc["picnic", "total_tokens"] == runs[runs.session_id == "picnic"].total_tokens.sum()

    messages = ex.messages()
    assert (messages.role == "assistant").sum() == kinds["LLM"] == 9  # one answer per model call
    first = messages[messages.run_id == picnic.run_id.iloc[0]].sort_values("message_index")
    assert list(first.role) == ["user", "assistant", "tool", "assistant"]
    call = json.loads(first.tool_calls.iloc[1])[0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert first.tool_call_id.iloc[2] == call["id"] and first.tool_name.iloc[2] == "get_weather"
    assert first.input_tokens.iloc[1] > 0 and first.duration.iloc[1] > 0

    tools = ex.tool_calls()
    assert len(tools) == kinds["TOOL"] == 4
    weather = tools[tools.tool_name == "get_weather"]
    assert len(weather) == 3 and set(weather.result) == {"Sunny in Paris, 21C"}
    assert [json.loads(a) for a in weather.tool_args] == [{"city": "Paris"}] * 3
    assert set(tools.tool_call_id) == set(messages.tool_call_id.dropna())

    # a team run and its member run, nested spans: parent_run_id
    trip = runs[runs.session_id == "trip"].set_index("run_id")
    assert sessions.loc["trip", "session_type"] == "team" and sessions.loc["trip", "team_id"] == "travel-team"
    assert sessions.loc["trip", "n_runs"] == 1 and sessions.loc["trip", "user_id"] == "dave"
    assert trip.loc[made["team_run_id"], "run_type"] == "team" and pd.isna(trip.loc[made["team_run_id"], "parent_run_id"])
    member = trip.loc[made["member_run_ids"][0]]
    assert member.parent_run_id == made["team_run_id"] and member.agent_id == "forecaster"
    assert member.input == "Weather in Paris?"
    delegation = tools[tools.tool_name == "delegate_task_to_member"]
    assert list(delegation.run_id) == [made["team_run_id"]]
    assert json.loads(delegation.tool_args.iloc[0]) == {"member_id": "forecaster", "task": "Weather in Paris?"}


def test_agno_traces_carry_what_agno_stored(agno_traces):
    """The same runs, stored by agno in its own SQLite file, read through agno_nb: same messages."""
    out, _ = agno_traces
    traced, stored = _quiet(out / "traces.jsonl"), agno_nb.connect(str(out / "agno.db"))
    cols = ["session_id", "run_id", "message_index", "role", "content", "tool_call_id", "tool_name"]
    key = ["session_id", "run_id", "message_index"]
    assert _content(traced.messages().sort_values(key), cols) == _content(stored.messages().sort_values(key), cols)
    # message ids and history flags come from the agno input.value (the final answer has none there)
    t, s = traced.messages().sort_values(key), stored.messages().sort_values(key)
    known = t.message_id.notna()
    assert known.sum() == len(t) - len(traced.runs()) and list(t.message_id[known]) == list(s.message_id[known.values])
    tcols = ["run_id", "tool_call_id", "tool_name", "tool_args", "result"]
    assert _content(traced.tool_calls().sort_values("tool_call_id"), tcols) == \
        _content(stored.tool_calls().sort_values("tool_call_id"), tcols)
    rcols = ["run_id", "session_id", "parent_run_id", "run_type", "agent_id", "team_id", "user_id", "status",
             "input", "content", "input_tokens", "output_tokens", "n_messages", "n_tool_calls"]
    assert _content(traced.runs().sort_values("run_id"), rcols) == _content(stored.runs().sort_values("run_id"), rcols)


def test_console_exporter_json_reads_like_otlp(agno_traces):
    out, _ = agno_traces
    text = (out / "console.json").read_text()
    assert text.lstrip().startswith("{\n") and '"context"' in text  # span.to_json(), pretty-printed
    otlp, console = _quiet(out / "traces.jsonl"), _quiet(out / "console.json")
    for name, cols in [("sessions", ["session_id", "n_runs", "total_tokens", "user_id"]),
                       ("runs", ["run_id", "input", "content", "total_tokens", "n_messages", "n_tool_calls"]),
                       ("messages", ["run_id", "message_index", "role", "content", "tool_call_id", "message_id"]),
                       ("tool_calls", ["run_id", "tool_call_id", "tool_name", "tool_args", "result"])]:
        a, b = otlp.table(name), console.table(name)
        assert len(a) == len(b) > 0 and _content(a, cols) == _content(b, cols), name
        # times agree to the microsecond ConsoleSpanExporter keeps
        assert (a.created_at - b.created_at).abs().max() < pd.Timedelta("2us"), name


def test_filters_work_on_traces(agno_traces):
    out, _ = agno_traces
    ex = _quiet(out)  # the folder: traces.jsonl and console.json hold the same spans
    runs = ex.runs()
    assert len(runs) == 5  # each span once, though two files hold it
    assert set(ex.runs(agent_id="plain-agent").session_id) == {"hello"}
    assert set(ex.messages(user_id="bob").session_id) == {"picnic"}
    assert len(ex.tool_calls(session_ids=["hello"])) == 0 and len(ex.tool_calls(session_ids="picnic")) == 2
    assert set(ex.runs(team_id="travel-team").run_type) == {"team"}
    assert list(ex.sessions(session_type="team").session_id) == ["trip"]
    assert set(ex.messages(session_type="team").session_id) == {"trip"}
    assert list(ex.sessions(agent_id="weather-agent").session_id) == ["picnic"]
    assert len(ex.messages(agent_id="weather-agent")) == 8
    start = runs.created_at.min()
    assert len(ex.runs(since=start + pd.Timedelta(days=1))) == 0 and len(ex.runs(until=start)) == 0
    assert len(ex.runs(since=start)) == 5 and len(ex.runs(status="completed")) == 5
    assert ex.sql("select count(*) n from messages where role = 'tool'").n[0] == 4


# -- GenAI conventions, from the openai client --------------------------------------------

def test_genai_openai_traces_become_sessions(openai_traces):
    out, made = openai_traces
    spans = _spans(out / "traces.jsonl")
    assert len(spans) == 2 and all(s["attrs"]["gen_ai.operation.name"] == "chat" for s in spans)
    ex = _quiet(out / "traces.jsonl")
    sessions = ex.sessions()
    assert sorted(sessions.session_id) == sorted({s["traceId"] for s in spans})  # no session.id: a trace each
    runs = ex.runs().sort_values("created_at")
    assert list(zip(runs.input_tokens, runs.output_tokens)) == [tuple(u) for u in made["usage"]]
    assert set(runs.model) == {"fake-model"} and set(runs.model_provider) == {"openai"}
    assert list(runs.content)[-1] == made["answer"]
    last = ex.messages(session_ids=[runs.session_id.iloc[-1]]).sort_values("message_index")
    assert list(last.role) == ["system", "user", "assistant", "tool", "assistant"]
    assert list(last.content)[0:2] == ["Be brief.", "Picnic in Paris?"]
    call = json.loads(last.tool_calls.iloc[2])[0]
    assert call["id"] == made["call_id"] and call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert last.tool_call_id.iloc[3] == made["call_id"] and last.tool_name.iloc[3] == "get_weather"
    assert list(last.output_tokens.dropna()) == [made["usage"][1][1]]
    # no tool span here: the call asked for and answered in the messages is the tool call
    tools = ex.tool_calls()
    assert len(tools) == 1 and tools.tool_call_id[0] == made["call_id"]
    assert json.loads(tools.tool_args[0]) == {"city": "Paris"} and tools.result[0] == "Sunny in Paris, 21C"


def test_replay_and_compare_open_traces(agno_traces, openai_traces):
    from agno_nb.widgets.compare import Compare
    from agno_nb.widgets.replay import Replay

    out, _ = agno_traces
    ex = _quiet(out / "traces.jsonl")
    r = agno_nb.replay(ex, "picnic")
    assert isinstance(r, Replay) and r.current_message["role"] == "user"
    assert r.current_message["content"] == "Picnic in Paris?" and "Picnic in Paris?" in r.body.value
    r.next()
    assert r.current_message["role"] == "assistant" and "get_weather" in r.body.value
    r.next()
    assert r.current_message["role"] == "tool" and "Sunny in Paris, 21C" in r.body.value
    c = agno_nb.compare(ex, session_ids=["picnic", "hello"], chart=False)
    assert isinstance(c, Compare) and c.turns[0][0]["input"] == "Picnic in Paris?"
    assert c.turns[0][1]["input"] == "Hello there" and "Picnic in Paris?" in c.table.value

    gen = _quiet(openai_traces[0] / "traces.jsonl")
    sid = gen.runs().sort_values("created_at").session_id.iloc[-1]
    r = agno_nb.replay(gen, sid)
    assert r.current_message["content"] == "Be brief."
    r.goto(4)
    assert r.current_message["role"] == "assistant" and "Tool said" in r.body.value


# -- bad input ---------------------------------------------------------------------------

def _otlp_line(spans, resource=None) -> str:
    return json.dumps({"resourceSpans": [{"resource": {"attributes": resource or []},
                                          "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]})


def _span(span_id, name, attrs, parent=None, trace="0af7651916cd43dd8448eb211c80319c", kind=1, start=1_790_000_000):
    s = {"traceId": trace, "spanId": span_id, "name": name, "kind": kind,
         "startTimeUnixNano": str(start * 10**9), "endTimeUnixNano": str(start * 10**9 + 5 * 10**8),
         "attributes": [{"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
                        for k, v in attrs.items()]}
    if parent:
        s["parentSpanId"] = parent
    return s


def test_malformed_lines_and_unknown_spans_give_one_warning(agno_traces, tmp_path):
    good = (agno_traces[0] / "traces.jsonl").read_text().splitlines()
    path = tmp_path / "mixed.jsonl"
    lines = good[:2] + [
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "cut off',    # line 3: not JSON
        _otlp_line([_span(None, "no id", {"openinference.span.kind": "LLM"})]),  # line 4: no spanId
        _otlp_line([_span("b7ad6b7169203331", "GET /health", {"http.method": "GET"}, kind=2),
                    _span("b7ad6b7169203332", "embed", {"openinference.span.kind": "EMBEDDING"}),
                    _span("b7ad6b7169203333", "GET /health", {"http.method": "GET"}, kind=2)]),
        '[1, 2]',                                                                  # line 6: not spans
    ] + good[2:]
    path.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = agno_nb.connect(path)
        runs, messages = ex.runs(), ex.messages()
        ex.tool_calls()
    # (cost_usd's one note about an unpriced model is another matter)
    caught = [w for w in caught if "no price for model" not in str(w.message)]
    assert len(caught) == 1  # once, not once per table
    assert caught[0].filename == __file__  # pointing at the line that read the files
    text = str(caught[0].message)
    assert str(path) in text and f"{path}:3: not JSON" in text and f"{path}:4" in text and "spanId" in text
    assert f"{path}:6" in text and "skipped 4 unreadable" in text
    assert "3 span(s) not mapped" in text and "GET /health (SERVER) ×2" in text and "embed (INTERNAL) ×1" in text
    assert len(runs) == 5 and len(messages) == len(agno_nb.connect(agno_traces[0] / "traces.jsonl").messages())


def test_file_with_no_span_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": "world"}\n')
    with pytest.raises(TraceFileError, match=r"notes\.json:1: neither an OTLP request") as info:
        agno_nb.connect(bad)
    assert isinstance(info.value, agno_nb.AgnoNbError)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"resourceSpans": [\n')
    with pytest.raises(TraceFileError, match=r"broken\.jsonl:1: not JSON"):
        agno_nb.connect(broken)
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "settings.json").write_text('{"theme": "dark"}')
    with pytest.raises(TraceFileError, match=r"not a folder of trace files or a Parquet export.*settings\.json:1"):
        agno_nb.connect(folder)


def test_older_genai_attributes_and_events(tmp_path):
    """Spans as older GenAI instrumentations wrote them, made with the OpenTelemetry SDK."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = tp.get_tracer("old")
    with tracer.start_as_current_span("agent", attributes={"gen_ai.operation.name": "invoke_agent",
                                                           "gen_ai.agent.name": "helper", "session.id": "s-old"}):
        with tracer.start_as_current_span("chat a", attributes={  # OpenLLMetry's indexed attributes
                "gen_ai.system": "openai", "gen_ai.request.model": "m1",
                "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Hi",
                "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "Hello!",
                "gen_ai.usage.prompt_tokens": 3, "gen_ai.usage.completion_tokens": 2}):
            pass
        with tracer.start_as_current_span("chat b", attributes={"gen_ai.operation.name": "chat"}) as span:
            span.add_event("gen_ai.content.prompt", {"gen_ai.prompt": json.dumps(
                [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                 {"role": "user", "content": "Bye"}])})
            span.add_event("gen_ai.content.completion", {"gen_ai.completion": json.dumps(
                [{"role": "assistant", "content": "Goodbye"}])})
    # an OpenInference chain (a run) around a step chain (part of it) and a model call whose
    # messages are events (gen_ai.user.message, gen_ai.choice), in another trace, no session.id
    with tracer.start_as_current_span("pipeline", attributes={"openinference.span.kind": "CHAIN",
                                                              "input.value": "Sum 2+2", "user.id": "erin"}):
        with tracer.start_as_current_span("step", attributes={"openinference.span.kind": "CHAIN"}):
            with tracer.start_as_current_span("chat c", attributes={"gen_ai.operation.name": "chat",
                                                                    "gen_ai.usage.input_tokens": 7}) as span:
                span.add_event("gen_ai.system.message", {"content": "Add numbers."})
                span.add_event("gen_ai.user.message", {"content": "Sum 2+2"})
                span.add_event("gen_ai.choice", {"index": 0, "finish_reason": "stop",
                                                 "message": json.dumps({"role": "assistant", "content": "4"})})
    tp.shutdown()
    path = tmp_path / "old.json"
    path.write_text(json.dumps([json.loads(s.to_json()) for s in exporter.get_finished_spans()]))  # a JSON list
    ex = _quiet(path)
    spans = [json.loads(s.to_json()) for s in exporter.get_finished_spans()]
    chain_trace = next(s["context"]["trace_id"][2:] for s in spans if s["name"] == "pipeline")
    assert sorted(ex.sessions().session_id) == sorted(["s-old", chain_trace])  # session.id, or the trace
    runs = ex.runs(session_ids="s-old")
    assert list(runs.agent_id) == ["helper"] and runs.input_tokens[0] == 3 and runs.model[0] == "m1"
    assert _content(ex.messages(session_ids="s-old"), ["role", "content"]) == [
        ("user", "Hi"), ("assistant", "Hello!"), ("user", "Bye"), ("assistant", "Goodbye")]
    chain = ex.runs(session_ids=chain_trace)
    assert len(chain) == 1 and chain.input[0] == "Sum 2+2" and chain.user_id[0] == "erin"  # the step is no run
    assert chain.input_tokens[0] == 7 and chain.content[0] == "4"
    assert _content(ex.messages(session_ids=chain_trace), ["role", "content"]) == [
        ("system", "Add numbers."), ("user", "Sum 2+2"), ("assistant", "4")]


# -- out: to_otlp ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from agno_nb.demo import build

    return build(tmp_path_factory.mktemp("demo") / "demo.db", sessions=30)


def test_to_otlp_round_trip_keeps_the_four_tables(demo_db, tmp_path):
    ex = agno_nb.connect(demo_db)
    path = ex.to_otlp(tmp_path / "out" / "sessions.jsonl")
    assert path == tmp_path / "out" / "sessions.jsonl" and not [p for p in path.parent.iterdir() if p != path]
    back = _quiet(path)
    keys = {"sessions": ["session_id"], "runs": ["run_id"], "messages": ["run_id", "message_index"],
            "tool_calls": ["run_id", "tool_call_id"]}
    for name, key in keys.items():
        a, b = ex.table(name).sort_values(key), back.table(name).sort_values(key)
        assert len(a) == len(b) > 0, name
        for col in a.columns:
            assert _content(a, [col]) == _content(b, [col]), (name, col)
    # the same filters select the same rows as on the other file source, a Parquet export of the
    # same db (the SQLite source differs on one point: agent_id= there skips a workflow's step runs)
    exported = agno_nb.connect(ex.to_parquet(tmp_path / "export"))
    runs = ex.runs()
    user = runs.user_id.dropna().iloc[0]
    agent = runs.agent_id.value_counts().index[0]
    day = runs.created_at.sort_values().iloc[len(runs) // 2]
    for filters in ({"user_id": user}, {"agent_id": agent}, {"session_type": "team"}, {"session_type": "workflow"},
                    {"since": day}, {"until": day}, {"status": "error"}, {"user_id": user, "since": day},
                    {"session_ids": sorted(runs.session_id)[:4]}, {"team_id": runs.team_id.dropna().iloc[0]}):
        for name, key in keys.items():
            a, b = exported.table(name, **filters).sort_values(key), back.table(name, **filters).sort_values(key)
            assert _content(a, key) == _content(b, key), (name, filters)
            assert len(b) <= len(ex.table(name)) and (len(b) > 0 or filters.get("status") == "error")
    # a session-filtered export holds just those sessions
    some = sorted(ex.sessions().session_id)[:3]
    part = _quiet(ex.to_otlp(tmp_path / "some.jsonl", session_ids=some))
    assert sorted(part.sessions().session_id) == some
    with pytest.raises(TypeError, match="to_otlp"):
        ex.to_otlp(tmp_path / "x.jsonl", agent="nope")


def test_to_otlp_writes_genai_spans_in_the_collector_shape(demo_db, tmp_path):
    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    ex = agno_nb.connect(demo_db)
    path = ex.to_otlp(tmp_path / "sessions.jsonl")
    lines = path.read_text().splitlines()
    assert len(lines) == len(ex.sessions())  # one request per session
    ops = Counter()
    for line in lines:
        doc = json.loads(line)
        # the OTLP/JSON ids are hex; protobuf's JSON mapping takes bytes as base64
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    for k in ("traceId", "spanId", "parentSpanId"):
                        if k in s:
                            assert len(s[k]) == (32 if k == "traceId" else 16)
                            s[k] = base64.b64encode(bytes.fromhex(s[k])).decode()
                    attrs = {a["key"]: a["value"] for a in s["attributes"]}
                    ops[attrs["gen_ai.operation.name"]["stringValue"]] += 1
                    assert attrs["session.id"] == attrs["gen_ai.conversation.id"]
        request = ParseDict(doc, ExportTraceServiceRequest())  # a valid ExportTraceServiceRequest
        assert request.resource_spans[0].scope_spans[0].spans
    assert ops["invoke_agent"] == len(ex.runs())
    assert ops["execute_tool"] == len(ex.tool_calls())
    assert ops["chat"] >= (ex.messages().role == "assistant").sum()


def test_spans_appended_to_a_file_are_read(agno_traces, tmp_path):
    """A collector appends to its file: the next load, and the next SQL query, see the new spans."""
    lines = (agno_traces[0] / "traces.jsonl").read_text().splitlines(keepends=True)
    path = tmp_path / "growing.jsonl"
    first = [l for l in lines if "\"hello\"" not in l and "Hello there" not in l]
    path.write_text("".join(first))
    ex = _quiet(path)
    assert "hello" not in set(ex.sessions().session_id)
    assert ex.sql("select count(*) n from runs").n[0] == 4
    with path.open("a") as f:
        f.writelines(l for l in lines if l not in first)
    assert "hello" in set(ex.sessions().session_id)
    assert ex.sql("select count(*) n from runs").n[0] == 5
