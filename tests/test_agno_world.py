"""The database real agno 3.1.10 writes with every feature on (scripts/agno_world.py).

Each feature is read back through agno's own API (``get_traces``, ``get_spans``,
``get_approvals``, ``get_user_memories``, ``get_compactions_for_session``, ``get_tool_result``
and the offload store, ``get_learnings``, ``get_metrics``, ``list_components``, sessions and
runs), on SQLite and PostgreSQL, so the world is known to hold what the analysis side must show. Where agno_nb
already reads the data (sessions, runs, messages, tool calls), it must agree with agno.

The committed copy for notebooks (notebooks/data/agno-3.1-everything.db) is checked too:
written by agno 3.1, one file, small, every feature's table filled (``COUNTS``).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import agno_nb

ROOT = Path(__file__).resolve().parents[1]
# Cost is not what these tests are about, and the local server's models have no price.
pytestmark = pytest.mark.filterwarnings("ignore:no price for models:RuntimeWarning")
COMMITTED = ROOT / "notebooks" / "data" / "agno-3.1-everything.db"

# Rows per table the script writes (the same every time); the committed copy must hold these.
COUNTS = {"agno_sessions": 15, "agno_runs": 23, "agno_traces": 51, "agno_spans": 123, "agno_tool_results": 1,
          "agno_fs": 1, "agno_compactions": 2, "agno_approvals": 4, "agno_memories": 3, "agno_learnings": 2,
          "agno_metrics": 2, "agno_components": 4, "agno_component_configs": 5, "agno_component_links": 2,
          "agno_schema_versions": 13}


@pytest.fixture(params=["sqlite", "postgres"])
def world(request):
    return request.getfixturevalue(f"agno_world_{'pg' if request.param == 'postgres' else 'sqlite'}")


@pytest.fixture
def agno_db(world):
    db = world.agno_db()
    yield db
    db.db_engine.dispose()


def _session(agno_db, world, feature):
    from agno.db.base import SessionType

    kind = {"team": SessionType.TEAM, "workflow": SessionType.WORKFLOW}.get(feature, SessionType.AGENT)
    session = agno_db.get_session(world.manifest["sessions"][feature], kind)
    assert session is not None, feature
    return session


def _all_runs(session):
    """A session's runs as agno holds them, with a workflow run's step runs after it."""
    out = []
    for run in session.runs or []:
        out += [run, *(getattr(run, "step_executor_runs", None) or [])]
    return out


def test_manifest_names_what_was_written(world):
    m = world.manifest
    assert m["agno_version"] == "3.1.10"
    assert set(m["sessions"]) == {"tools", "media", "stream", "async", "reasoning", "offload", "team", "workflow",
                                  "cancelled", "error", "approval_approved", "approval_rejected", "approval_pending",
                                  "approval_audit", "compaction"}
    assert len(m["runs"]["tools"]) == 2 and len(m["runs"]["compaction"]) == 6
    assert set(m["approvals"]) == {"approved", "rejected", "pending", "audit"} and len(m["offloaded_result_ids"]) == 1
    assert len(m["member_run_ids"]) == 2 and len(m["compaction_ids"]) >= 2


def test_run_kinds_and_statuses(world, agno_db):
    status = {f: str(getattr(_session(agno_db, world, f).runs[-1].status, "value", None)
                     or _session(agno_db, world, f).runs[-1].status)
              for f in world.manifest["sessions"]}
    assert status == {**{f: "COMPLETED" for f in world.manifest["sessions"]}, "cancelled": "CANCELLED",
                      "error": "ERROR", "approval_pending": "PAUSED"}
    for feature in ("stream", "async"):
        run = _session(agno_db, world, feature).runs[0]
        assert run.run_id == world.manifest["runs"][feature][0] and run.content.startswith("Echo: ")
    events = [e.event for e in _session(agno_db, world, "stream").runs[0].events]
    assert events[0] == "RunStarted" and events[-1] == "RunCompleted"  # store_events=True
    tools = _session(agno_db, world, "tools")
    assert [r.run_id for r in tools.runs] == world.manifest["runs"]["tools"]
    assert [t.result for t in tools.runs[0].tools] == ["Sunny in Paris, 21C"]


def test_team_nests_member_runs(world, agno_db):
    runs = _session(agno_db, world, "team").runs
    (leader,) = [r for r in runs if r.parent_run_id is None]
    members = [r for r in runs if r.parent_run_id == leader.run_id]
    assert leader.run_id == world.manifest["runs"]["team"][0]
    assert sorted(r.run_id for r in members) == sorted(world.manifest["member_run_ids"])
    assert sorted(r.agent_id for r in members) == ["forecaster", "planner"]  # delegate_to_all_members


def test_workflow_steps_and_plain_string_input(world, agno_db):
    (run,) = _session(agno_db, world, "workflow").runs
    assert run.input == "A post about Paris"  # a plain string, not {"input_content": ...}
    assert [s.step_name for s in run.step_results] == ["draft", "review", "if_long", "polish", "route"]
    # draft, check + shorten (Parallel), trim (Condition), pass x2 (Loop), publish (Router)
    assert len(run.step_executor_runs) == 7


def test_offloaded_tool_result(world, agno_db):
    from agno.offload import ResultStore

    (result_id,) = world.manifest["offloaded_result_ids"]
    row = agno_db.get_tool_result(result_id)
    (run,) = _session(agno_db, world, "offload").runs
    assert (row["session_id"], row["run_id"], row["tool_name"]) == (run.session_id, run.run_id, "big_report")
    assert row["namespace"].startswith("tool-results/") and row["size_bytes"] > 55_000
    payload = ResultStore().bound(agno_db).payload(result_id)
    assert len(payload.encode()) == row["size_bytes"] and payload.count("\n") + 1 == row["line_count"] == 1200
    (message,) = [m for m in run.messages if m.role == "tool"]
    assert message.content.startswith(f'<result id="{result_id}" tool="big_report" lines="1200" size="')
    assert f'read with read_result("{result_id}")' in message.content and len(message.content) < 2000
    assert run.tools[0].result == message.content  # the tool record holds the envelope too


def test_traces_and_spans(world, agno_db):
    traces, total = agno_db.get_traces(limit=None)
    assert total == len(traces) == COUNTS["agno_traces"]
    assert sum(len(agno_db.get_spans(trace_id=t.trace_id)) for t in traces) == COUNTS["agno_spans"]
    tools_traces, _ = agno_db.get_traces(session_id=world.manifest["sessions"]["tools"], limit=None)
    assert sorted(t.run_id for t in tools_traces) == sorted(world.manifest["runs"]["tools"])
    # summaries, memories, learnings and compaction call the model outside any run
    assert any(t.session_id is None for t in traces)
    spans = [s for t in tools_traces for s in agno_db.get_spans(trace_id=t.trace_id)]
    kinds = {s.attributes.get("openinference.span.kind") for s in spans}
    assert {"AGENT", "LLM", "TOOL"} <= kinds and {s.span_kind for s in spans} == {"INTERNAL"}
    llm = [s for s in spans if s.attributes["openinference.span.kind"] == "LLM"]
    assert {s.attributes["llm.model_name"] for s in llm} == {"fake-model"}
    assert all(s.attributes["llm.token_count.prompt"] > 0 < s.attributes["llm.token_count.completion"] for s in llm)
    tool = [s for s in spans if s.attributes["openinference.span.kind"] == "TOOL"]
    assert {s.attributes["tool.name"] for s in tool} == {"get_weather"}
    assert {s.attributes["output.value"] for s in tool} == {"Sunny in Paris, 21C"}


def test_every_run_has_its_trace(world, agno_db):
    for feature, run_ids in world.manifest["runs"].items():
        for run_id in run_ids:
            assert agno_db.get_trace(run_id=run_id) is not None, feature
    # a continued run: the paused part and the continuation are two traces of one run
    approved, _ = agno_db.get_traces(run_id=world.manifest["runs"]["approval_approved"][0], limit=None)
    assert sorted(t.name for t in approved) == ["Booker.run", "book_trip"]
    team = agno_db.get_trace(run_id=world.manifest["runs"]["team"][0])
    team_spans = {s.name for s in agno_db.get_spans(trace_id=team.trace_id)}
    assert {"Travel.run", "Forecaster.run", "Planner.run"} <= team_spans
    flow = agno_db.get_trace(run_id=world.manifest["runs"]["workflow"][0])
    assert (flow.name, flow.workflow_id) == ("Blog.run", "blog-workflow")
    chain = {s.name for s in agno_db.get_spans(trace_id=flow.trace_id)
             if s.attributes["openinference.span.kind"] == "CHAIN"}
    assert chain == {"Blog.run", "draft.execute", "review.execute", "check.execute", "shorten.execute",
                     "trim.execute", "pass.execute", "publish.execute"}


def test_approvals(world, agno_db):
    approvals, total = agno_db.get_approvals()
    assert total == 4
    ids = world.manifest["approvals"]
    by_id = {a["id"]: a for a in approvals}
    assert set(by_id) == set(ids.values())
    for kind, approval_id in ids.items():
        approval = by_id[approval_id]
        assert approval["run_id"] == world.manifest["runs"][f"approval_{kind}"][0]
        assert approval == agno_db.get_approval(approval_id)
        assert approval["pause_type"] == "confirmation" and approval["source_type"] == "agent"
    resolved = {k: (by_id[ids[k]]["status"], by_id[ids[k]]["approval_type"], by_id[ids[k]]["resolved_by"],
                    by_id[ids[k]]["run_status"]) for k in ids}
    assert resolved == {"approved": ("approved", "required", "carol", "COMPLETED"),
                        "rejected": ("rejected", "required", "carol", "COMPLETED"),
                        "pending": ("pending", "required", None, "PAUSED"),
                        # an audit record is written resolved, after the user confirmed in the run
                        "audit": ("approved", "audit", None, "COMPLETED")}
    assert by_id[ids["pending"]]["resolved_at"] is None
    assert agno_db.get_approvals(status="pending")[1] == 1
    approved = _session(agno_db, world, "approval_approved").runs[0].tools[0]
    rejected = _session(agno_db, world, "approval_rejected").runs[0].tools[0]
    assert (approved.confirmed, approved.result, approved.approval_id) == (True, "Booked Paris", ids["approved"])
    assert (rejected.confirmed, rejected.result) == (False, None)


def test_compaction(world, agno_db):
    session = _session(agno_db, world, "compaction")
    folds = agno_db.get_compactions_for_session(session.session_id)
    assert sorted(f["compaction_id"] for f in folds) == world.manifest["compaction_ids"] and len(folds) >= 2
    message_ids = {m.id for r in session.runs for m in r.messages or []}
    for fold in folds:
        assert fold["run_id"] in world.manifest["runs"]["compaction"]
        assert fold["messages_compacted"] > 0 and fold["summary"] and "## user" in fold["archived_messages"]
        assert fold["first_kept_message_id"] in message_ids
    assert any(f["tokens_after"] < f["tokens_before"] for f in folds)


def test_memories_learnings_summaries_state_metadata(world, agno_db):
    memories = agno_db.get_user_memories(user_id="alice")
    assert len(memories) >= 1 and {m.memory for m in memories} == {"Alice plans a picnic in Paris"}
    assert all(m.topics == ["travel"] for m in memories)
    learnings = agno_db.get_learnings(user_id="alice")
    assert {x["learning_type"] for x in learnings} == {"user_profile", "user_memory"}
    tools = _session(agno_db, world, "tools")
    assert tools.summary is not None and tools.summary.summary
    assert tools.session_data["session_state"] == {"trips": 1}
    assert tools.runs[0].metadata == {"channel": "web", "ticket": 42}


def test_media_and_reasoning(world, agno_db):
    run = _session(agno_db, world, "media").runs[0]
    png, url = run.input.images
    assert png.content.startswith(b"\x89PNG") and png.format == "png"
    assert url.url == "https://example.com/paris.jpg" and url.content is None
    (file,) = run.input.files
    assert (file.filename, file.mime_type, file.content) == ("temps.csv", "text/csv", b"city,temp\nParis,21\n")
    thought = _session(agno_db, world, "reasoning").runs[0]
    assert thought.reasoning_content == "17 has no divisor but 1 and itself." and thought.model == "fake-reasoner"


def test_metrics(world, agno_db):
    rows, _ = agno_db.get_metrics()
    assert {r["user_id"] for r in rows} >= {"alice", "bob"}
    assert sum(r["agent_runs_count"] for r in rows) > 10 and sum(r["workflow_runs_count"] for r in rows) == 1


def test_saved_components(world, agno_db):
    components, total = agno_db.list_components()
    assert total == 4  # the team saves its members with it
    assert {c["component_id"]: c["current_version"] for c in components} == \
        {"weather-agent": 2, "travel-team": 1, "forecaster": 1, "planner": 1}
    assert world.manifest["component_versions"] == {"weather-agent": [1, 2], "travel-team": [1]}
    configs = agno_db.list_configs("weather-agent")
    assert sorted((c["version"], c["label"]) for c in configs) == [(1, "first"), (2, "second")]
    assert agno_db.get_config("weather-agent", label="first")["config"]["id"] == "weather-agent"


def test_agno_nb_agrees_with_agno(world, agno_db):
    """Sessions, runs, messages and tool calls: the same ids and counts as agno's own API."""
    from agno.db.base import SessionType

    ex = agno_nb.connect(world.source, db_schema=world.schema)
    sessions, runs, messages, calls = ex.sessions(), ex.runs(), ex.messages(), ex.tool_calls()
    agno_sessions = [s for kind in SessionType for s in agno_db.get_sessions(session_type=kind)]
    assert sorted(sessions.session_id) == sorted(s.session_id for s in agno_sessions) == \
        sorted(world.manifest["sessions"].values())
    n_messages = messages.groupby("run_id").size().to_dict()
    call_ids = calls.groupby("run_id").tool_call_id.apply(sorted).to_dict()
    for session in agno_sessions:
        agno_runs = _all_runs(session)
        assert sorted(runs[runs.session_id == session.session_id].run_id) == sorted(r.run_id for r in agno_runs)
        for run in agno_runs:
            assert n_messages.get(run.run_id, 0) == len(getattr(run, "messages", None) or []), run.run_id
            assert call_ids.get(run.run_id, []) == sorted(t.tool_call_id for t in getattr(run, "tools", None) or [])
        stored = (session.session_data or {}).get("session_metrics", {}).get("total_tokens")
        row = sessions[sessions.session_id == session.session_id].iloc[0]
        assert (None if pd.isna(row.total_tokens) else int(row.total_tokens)) == stored, session.session_id
    assert len(calls) >= 10 and set(runs.status) == {"COMPLETED", "CANCELLED", "ERROR", "PAUSED"}


def test_committed_copy_for_notebooks():
    """notebooks/data/agno-3.1-everything.db: what scripts/agno_world.py wrote, as one small file."""
    manifest = json.loads(COMMITTED.with_suffix(".json").read_text())
    assert manifest["agno_version"] == "3.1.10" and manifest["backend"] == "sqlite"
    assert COMMITTED.stat().st_size < 1_500_000
    assert not Path(f"{COMMITTED}-wal").exists()
    con = sqlite3.connect(f"{COMMITTED.as_uri()}?mode=ro", uri=True)
    try:
        assert con.execute("pragma journal_mode").fetchone()[0] == "delete"  # no -wal beside it
        tables = [t for (t,) in con.execute("select name from sqlite_master where type = 'table'")]
        assert {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables} == COUNTS
        assert {v for (v,) in con.execute("select version from agno_schema_versions")} >= {"3.0.0"}
        assert "runs" not in {c[1] for c in con.execute("pragma table_info(agno_sessions)")}  # the 3.x layout
        assert sorted(s for (s,) in con.execute("select session_id from agno_sessions")) == \
            sorted(manifest["sessions"].values())
        assert {r for (r,) in con.execute("select result_id from agno_tool_results")} == \
            set(manifest["offloaded_result_ids"])
        assert {a for (a,) in con.execute("select id from agno_approvals")} == set(manifest["approvals"].values())
        assert sorted(c for (c,) in con.execute("select compaction_id from agno_compactions")) == \
            manifest["compaction_ids"]
    finally:
        con.close()


def test_local_server_reasoning_json_schema_and_declared_args():
    """What the world needs of the local server: reasoning_content for a listed model id (also
    streamed), a JSON object filling a requested schema, a tool given only the arguments it declares."""
    import openai

    from agno_nb.testing import FakeOpenAIServer

    tools = [{"type": "function", "function": {"name": "add_memory", "parameters": {
        "type": "object", "properties": {"memory": {"type": "string"}}}}}]
    schema = {"type": "object", "properties": {"summary": {"type": "string"}, "topics": {
        "anyOf": [{"type": "array", "items": {"$ref": "#/$defs/Topic"}}, {"type": "null"}]}},
        "$defs": {"Topic": {"type": "string"}}}
    with FakeOpenAIServer(tool_args={"add_memory": {"memory": "m", "topics": ["t"]}},
                          reasoning={"thinker": "because"}) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
        ask = [{"role": "user", "content": "hi"}]
        answer = client.chat.completions.create(model="thinker", messages=ask).choices[0].message
        assert (answer.content, answer.model_extra["reasoning_content"]) == ("Echo: hi", "because")
        chunks = list(client.chat.completions.create(model="thinker", messages=ask, stream=True))
        assert "".join(c.choices[0].delta.model_extra.get("reasoning_content") or ""
                       for c in chunks if c.choices) == "because"
        plain = client.chat.completions.create(model="plain", messages=ask).choices[0].message
        assert "reasoning_content" not in (plain.model_extra or {})
        shaped = client.chat.completions.create(model="plain", messages=ask, response_format={
            "type": "json_schema", "json_schema": {"name": "S", "schema": schema}}).choices[0].message
        assert json.loads(shaped.content) == {"summary": "Echo: hi", "topics": ["Echo: hi"]}
        call = client.chat.completions.create(model="plain", messages=ask, tools=tools).choices[0].message
        assert json.loads(call.tool_calls[0].function.arguments) == {"memory": "m"}


def test_agno_nb_reads_every_feature_as_agno_does(world, agno_db):
    """Agno's other tables and the new run columns, on the world, against agno's own API (issue 18)."""
    from agno.offload import ResultStore

    m = world.manifest
    ex = agno_nb.connect(world.source, db_schema=world.schema)
    # traces and spans: every one agno holds, model calls outside runs included
    traces, _ = agno_db.get_traces(limit=None)
    agno_spans = [s for t in traces for s in agno_db.get_spans(trace_id=t.trace_id)]
    assert sorted(ex.traces().trace_id) == sorted(t.trace_id for t in traces)
    spans = ex.spans()
    assert sorted(spans.span_id) == sorted(s.span_id for s in agno_spans)
    kinds = spans.set_index("span_id")["span_kind"].to_dict()
    assert kinds == {s.span_id: s.attributes.get("openinference.span.kind") for s in agno_spans}
    llm = [s for s in agno_spans if s.attributes.get("openinference.span.kind") == "LLM"]
    llm_tokens = sum((s.attributes.get("llm.token_count.prompt") or 0) + (s.attributes.get("llm.token_count.completion") or 0)
                     for s in llm)
    assert int(spans.loc[spans.span_kind == "LLM", "total_tokens"].sum()) == llm_tokens
    # more model calls than the runs' messages show: summaries, memories, learnings, compaction
    n_assistant = int((ex.messages().role == "assistant").sum())
    assert len(llm) > n_assistant and spans.loc[spans.span_kind == "LLM", "run_id"].isna().any()
    # offloaded tool result: the payload in tool_calls, the pointer in messages
    (result_id,) = m["offloaded_result_ids"]
    payload = ResultStore().bound(agno_db).payload(result_id)
    call = ex.tool_calls(session_ids=[m["sessions"]["offload"]]).iloc[0]
    assert (call.result, bool(call.offloaded), int(call.result_size)) == (payload, True, len(payload.encode()))
    tool_message = ex.messages(session_ids=[m["sessions"]["offload"]]).query("role == 'tool'").iloc[0]
    assert tool_message.content.startswith(f'<result id="{result_id}"') and bool(tool_message.offloaded)
    # approvals, compactions, memories, learnings, metrics: the rows agno returns
    agno_approvals, _ = agno_db.get_approvals()
    approvals = ex.approvals().set_index("approval_id")
    assert set(approvals.index) == {a["id"] for a in agno_approvals}
    for a in agno_approvals:
        assert (approvals.loc[a["id"], "decision"], approvals.loc[a["id"], "run_id"]) == (a["status"], a["run_id"])
        assert (approvals.loc[a["id"], "resolved_by"] if pd.notna(approvals.loc[a["id"], "resolved_by"]) else None) \
            == a["resolved_by"]
    folds = agno_db.get_compactions_for_session(m["sessions"]["compaction"])
    compactions = ex.compactions()
    assert sorted(compactions.compaction_id) == sorted(f["compaction_id"] for f in folds)
    assert sorted(compactions.tokens_after) == sorted(f["tokens_after"] for f in folds)
    assert sorted(ex.memories().memory_id) == sorted(x.memory_id for x in agno_db.get_user_memories())
    assert len(ex.learnings()) == len(agno_db.get_learnings())
    assert len(ex.metrics()) == len(agno_db.get_metrics()[0])
    # reasoning, media and the workflow's plain-string input
    runs = ex.runs().set_index("run_id")
    (reasoning_run,) = _session(agno_db, world, "reasoning").runs
    assert runs.loc[reasoning_run.run_id, "reasoning_content"] == reasoning_run.reasoning_content
    (media_run,) = _session(agno_db, world, "media").runs
    media = json.loads(runs.loc[media_run.run_id, "media"])
    assert sorted(x["kind"] for x in media) == sorted(["image"] * len(media_run.input.images) + ["file"] * len(media_run.input.files))
    assert not any("content" in x for x in media)  # never the bytes
    (flow,) = _session(agno_db, world, "workflow").runs
    assert isinstance(flow.input, str) and runs.loc[flow.run_id, "input"] == flow.input
    # a team run's own tokens and its subtree's
    (team_run, *members) = [r for r in _all_runs(_session(agno_db, world, "team")) if r.parent_run_id is None] + \
        [r for r in _all_runs(_session(agno_db, world, "team")) if r.parent_run_id]
    assert runs.loc[team_run.run_id, "cum_total_tokens"] == runs.loc[team_run.run_id, "self_total_tokens"] + sum(
        runs.loc[r.run_id, "cum_total_tokens"] for r in members if r.parent_run_id == team_run.run_id)
