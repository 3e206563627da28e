"""Agno's other tables (traces, spans, approvals, compactions, memories, learnings, metrics,
offloaded tool results) as agno_nb reads them, held against agno 3.1.10's own API reads of
databases agno itself wrote (tests/_agno_tables.py), on SQLite and PostgreSQL.

On MySQL/MariaDB only what agno 3.1's MySQL db writes: spans, memories, metrics (its traces
upsert fails on MariaDB, learnings raise NotImplementedError, and it has no approvals,
compactions or offload store: agno.offload says "PostgreSQL and SQLite implement it").
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import warnings

import pandas as pd
import pytest

import agno_nb
from agno_nb.analysis.stored import STORED, read_stored
from agno_nb.analysis.stored_columns import STORED_COLUMNS

from _agno_tables import BIG_LINES, big_report, write_all

NEW_TABLES = ["traces", "spans", "approvals", "compactions", "memories", "learnings", "metrics", "tool_results"]


def _utc(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


@pytest.fixture(scope="module")
def agno_sqlite(tmp_path_factory):
    """A SQLite file real agno 3.1.10 wrote with every feature on; (path, ids)."""
    from agno.db.sqlite import SqliteDb

    from agno_nb.testing import FakeOpenAIServer

    path = tmp_path_factory.mktemp("agno-tables") / "agno.db"
    with FakeOpenAIServer(tool_args={"get_weather": {"city": "Paris"}}) as server:
        db = SqliteDb(db_file=str(path))
        ids = write_all(db, server)
        db.db_engine.dispose()
    return path, ids


def _real_and_explorer(backend, request):
    """(agno's own db object, agno_nb explorer, ids) over one database agno wrote."""
    if backend == "sqlite":
        from agno.db.sqlite import SqliteDb

        path, ids = request.getfixturevalue("agno_sqlite")
        return SqliteDb(db_file=str(path)), agno_nb.connect(path), ids
    from agno.db.postgres import PostgresDb

    from agno_nb.testing import FakeOpenAIServer

    url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
    real = PostgresDb(db_url=url, db_schema=schema)
    with FakeOpenAIServer(tool_args={"get_weather": {"city": "Paris"}}) as server:
        ids = write_all(real, server)
    return real, agno_nb.connect(url, db_schema=schema), ids


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])

def _writable_copy(agno_sqlite, tmp_path):
    """A copy of the file agno wrote, to change (the fixture's stays as agno wrote it), and a connection to it."""
    path = tmp_path / "copy.db"
    shutil.copy(agno_sqlite[0], path)
    return path, sqlite3.connect(path)


def _changed_copy(agno_sqlite, tmp_path, script: str):
    """A copy of the file agno wrote, changed by the SQL ``script``."""
    path, con = _writable_copy(agno_sqlite, tmp_path)
    with con:
        con.executescript(script)
    con.close()
    return path

def test_every_table_matches_agnos_own_reads(backend, request):
    real, ex, ids = _real_and_explorer(backend, request)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # nothing here is malformed or missing
        frames = {n: getattr(ex, n)() for n in NEW_TABLES}
    for name, df in frames.items():
        assert list(df.columns) == [c.name for c in STORED_COLUMNS[name]], name

    # traces: agno's get_traces, field by field
    traces, total = real.get_traces(limit=100)
    df = frames["traces"].set_index("trace_id")
    assert total == len(df) == 2
    for t in traces:
        row = df.loc[t.trace_id]
        assert (row["run_id"], row["session_id"], row["user_id"], row["agent_id"], row["name"], row["status"]) == \
            (t.run_id, t.session_id, t.user_id, t.agent_id, t.name, t.status)
        assert row["start_time"] == _utc(t.start_time) and row["end_time"] == _utc(t.end_time)
        assert abs(row["duration_ms"] - t.duration_ms) < 1
    assert set(df["run_id"]) == {ids["first_run_id"], ids["big_run_id"]}

    # spans: agno's get_spans, with the OpenInference attributes decoded
    spans = [s for t in traces for s in real.get_spans(trace_id=t.trace_id)]
    sf = frames["spans"].set_index("span_id")
    assert len(spans) == len(sf) == 8
    for s in spans:
        row = sf.loc[s.span_id]
        a = s.attributes
        assert row["trace_id"] == s.trace_id and row["name"] == s.name
        assert (row["parent_span_id"] if pd.notna(row["parent_span_id"]) else None) == s.parent_span_id
        assert row["span_kind"] == a["openinference.span.kind"] and row["otel_kind"] == s.span_kind
        assert row["status"] == s.status_code and row["duration_ms"] == s.duration_ms
        assert row["start_time"] == _utc(s.start_time) and row["end_time"] == _utc(s.end_time)
        assert json.loads(row["attributes"]) == a
        if a["openinference.span.kind"] == "LLM":
            assert row["model"] == a["llm.model_name"] == "gpt-4o-mini"
            assert row["input_tokens"] == a["llm.token_count.prompt"]
            assert row["output_tokens"] == a["llm.token_count.completion"]
            assert row["total_tokens"] == a.get("llm.token_count.total", row["input_tokens"] + row["output_tokens"])
        if a["openinference.span.kind"] == "TOOL":
            assert row["tool_name"] == a["tool.name"] and row["output_value"] == a["output.value"]
    assert sorted(frames["spans"]["span_kind"].value_counts().items()) == [("AGENT", 2), ("LLM", 4), ("TOOL", 2)]
    # joinable to runs by run_id
    joined = ex.sql("select s.span_kind, r.agent_id from spans s join runs r using (run_id)")
    assert len(joined) == 8 and set(joined["agent_id"]) == {"weather-agent", "report-agent"}
    llm = ex.sql("select run_id, sum(input_tokens) as i from spans where span_kind = 'LLM' group by 1")
    runs = ex.runs().set_index("run_id")
    assert len(llm) == 2 and all(i > 0 for i in llm["i"]) and set(llm["run_id"]) <= set(runs.index)

    # approvals: agno's get_approvals
    approvals, n = real.get_approvals()
    ap = frames["approvals"].set_index("approval_id")
    assert n == len(ap) == 1
    for a in approvals:
        row = ap.loc[a["id"]]
        assert (row["decision"], row["resolved_by"], row["run_id"], row["session_id"], row["tool_name"],
                row["pause_type"], row["run_status"]) == \
            (a["status"], a["resolved_by"], a["run_id"], a["session_id"], a["tool_name"], a["pause_type"],
             a["run_status"])
        assert json.loads(row["tool_args"]) == a["tool_args"]
        assert row["requested_at"] == pd.Timestamp(a["created_at"], unit="s", tz="UTC")
        assert row["resolved_at"] == pd.Timestamp(a["resolved_at"], unit="s", tz="UTC")
        assert row["time_to_decision"] == a["resolved_at"] - a["created_at"] == 30

    # compactions: agno's get_compactions_for_session
    comps = real.get_compactions_for_session(ids["session_id"])
    cf = frames["compactions"].set_index("compaction_id")
    assert len(comps) == len(cf) == 1
    for c in comps:
        row = cf.loc[c["compaction_id"]]
        for key in ("session_id", "run_id", "user_id", "first_kept_message_id", "summary", "messages_compacted",
                    "tokens_before", "tokens_after"):
            assert row[key] == c[key], key
        assert json.loads(row["archived_messages"]) == json.loads(c["archived_messages"])
        assert row["n_archived"] == len(json.loads(c["archived_messages"]))

    # memories: agno's get_user_memories
    memories = real.get_user_memories()
    mf = frames["memories"].set_index("memory_id")
    assert len(memories) == len(mf) == 1
    for m in memories:
        row = mf.loc[m.memory_id]
        assert row["memory"] == m.memory and list(row["topics"]) == m.topics
        assert (row["user_id"], row["agent_id"], row["input"]) == (m.user_id, m.agent_id, m.input)
        assert row["created_at"] == _utc(m.created_at if not isinstance(m.created_at, int)
                                        else pd.Timestamp(m.created_at, unit="s"))

    # learnings: agno's get_learnings
    learnings = real.get_learnings()
    lf = frames["learnings"].set_index("learning_id")
    assert len(learnings) == len(lf) == 1
    for item in learnings:
        row = lf.loc[item["learning_id"]]
        content = item["content"] if not isinstance(item["content"], str) else json.loads(item["content"])
        assert json.loads(row["content"]) == content
        assert (row["learning_type"], row["user_id"], row["agent_id"], row["session_id"]) == \
            (item["learning_type"], item["user_id"], item["agent_id"], item["session_id"])

    # metrics: agno's get_metrics
    metrics, _ = real.get_metrics()
    mt = frames["metrics"].set_index("id")
    assert len(metrics) == len(mt) >= 1
    for m in metrics:
        row = mt.loc[m["id"]]
        for key in ("agent_runs_count", "team_runs_count", "workflow_runs_count", "agent_sessions_count",
                    "users_count", "aggregation_period"):
            assert row[key] == m[key], key
        tokens = m["token_metrics"] if isinstance(m["token_metrics"], dict) else json.loads(m["token_metrics"])
        assert json.loads(row["token_metrics"]) == tokens and row["total_tokens"] == tokens["total_tokens"]
        assert str(row["date"])[:10] == str(m["date"])[:10]
        assert bool(row["completed"]) == bool(m["completed"])

    # offloaded tool results: the payload through agno's own store, the pointer in messages
    index = frames["tool_results"]
    assert len(index) == 1
    stored = real.get_tool_result(index["result_id"][0])
    from agno.fs.db import DbFileSystem

    payload = DbFileSystem(db=real).read(stored["namespace"], stored["path"])
    assert payload == big_report("sales")
    calls = ex.tool_calls().set_index("tool_name")
    assert calls.loc["big_report", "result"] == payload
    assert bool(calls.loc["big_report", "offloaded"]) and calls.loc["big_report", "result_size"] == stored["size_bytes"]
    assert not calls.loc["get_weather", "offloaded"] and calls.loc["get_weather", "result_size"] == len("Sunny in Paris, 21C")
    msgs = ex.messages(session_ids=[ids["big_session_id"]])
    tool_msg = msgs[msgs["role"] == "tool"].iloc[0]
    assert tool_msg["content"].startswith(f'<result id="{stored["result_id"]}"') and len(tool_msg["content"]) < 5000
    assert bool(tool_msg["offloaded"]) and tool_msg["result_size"] == stored["size_bytes"]
    assert payload.count("\n") + 1 == BIG_LINES
    if hasattr(real, "db_engine"):
        real.db_engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_filters_are_pushed_down(backend, request):
    _, ex, ids = _real_and_explorer(backend, request)
    sid = ids["session_id"]
    assert set(ex.spans(session_ids=[sid])["session_id"]) == {sid} and len(ex.spans(session_ids=[sid])) == 4
    assert len(ex.traces(agent_id="report-agent")) == 1
    assert len(ex.approvals(user_id="alice")) == 1 and len(ex.approvals(user_id="bob")) == 0
    assert len(ex.memories(user_id="alice", since="2000-01-01")) == 1
    assert len(ex.memories(until="2000-01-01")) == 0
    tomorrow = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).date().isoformat()
    assert len(ex.spans(since=tomorrow)) == 0 and len(ex.spans(until=tomorrow)) == 8
    assert len(ex.metrics(since="2000-01-01")) >= 1 and len(ex.metrics(user_id="alice")) >= 1
    assert len(ex.metrics(user_id="nobody")) == 0
    with pytest.raises(TypeError, match="memories\\(\\) cannot filter by session_ids"):
        ex.memories(session_ids=[sid])
    assert ex.spans(columns=["span_id", "model"]).columns.tolist() == ["span_id", "model"]
    # only the stored columns the asked ones need are read; filters still apply to the others
    assert len(ex.spans(columns=["span_id"], session_ids=[sid], user_id="alice", since="2000-01-01")) == 4
    assert ex.approvals(columns=["time_to_decision"])["time_to_decision"].tolist() == [30]
    assert ex.spans(columns=["run_id"])["run_id"].tolist() == ex.spans()["run_id"].tolist()


def test_iso_times_with_offsets_malformed_attributes_and_unknown_kinds(agno_sqlite, tmp_path):
    path, con = _writable_copy(agno_sqlite, tmp_path)
    trace_id = con.execute("select trace_id from agno_traces limit 1").fetchone()[0]
    con.execute("insert into agno_spans (span_id, trace_id, parent_span_id, name, span_kind, status_code, start_time,"
                " end_time, duration_ms, attributes, created_at) values"
                " ('bad', ?, null, 'x', 'INTERNAL', 'OK', '2026-12-07T22:08:17.5+02:00', '2026-12-07T20:08:18.5Z', 1000,"
                " '{not json', '2026-12-07T20:08:18+00:00'),"
                " ('odd', ?, null, 'y', 'INTERNAL', 'ERROR', '2026-12-07T15:08:17-05:00', '2026-12-07T20:08:17+00:00', 0,"
                " '{\"openinference.span.kind\": \"RERANKER\", \"llm.token_count.prompt\": \"12\"}',"
                " '2026-12-07T20:08:18+00:00')", (trace_id, trace_id))
    con.commit()
    con.close()
    ex = agno_nb.connect(path)
    with pytest.warns(RuntimeWarning, match=r"spans\(\): 1 row\(s\) whose 'attributes' is not valid JSON"):
        df = ex.spans().set_index("span_id")
    assert df.loc["bad", "attributes"] == "{not json" and pd.isna(df.loc["bad", "span_kind"])
    assert df.loc["bad", "start_time"] == pd.Timestamp("2026-12-07T20:08:17.5", tz="UTC")
    assert df.loc["bad", "end_time"] == pd.Timestamp("2026-12-07T20:08:18.5", tz="UTC")
    assert df.loc["odd", "span_kind"] == "RERANKER" and df.loc["odd", "input_tokens"] == 12
    assert df.loc["odd", "start_time"] == pd.Timestamp("2026-12-07T20:08:17", tz="UTC")
    assert df.loc["odd", "session_id"] is not None  # from its trace
    # since/until compare instants, not the text: 15:08-05:00 is 20:08 UTC
    with pytest.warns(RuntimeWarning):
        assert "odd" in set(ex.spans(since="2026-12-07T20:08:00Z", until="2026-12-07T20:08:30Z")["span_id"])


def test_missing_payload_keeps_the_pointer_and_warns_once(agno_sqlite, tmp_path):
    path = _changed_copy(agno_sqlite, tmp_path, "delete from agno_fs")
    ex = agno_nb.connect(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calls = ex.tool_calls().set_index("tool_name")
    offload_warnings = [w for w in caught if "offloaded tool result" in str(w.message)]
    assert len(offload_warnings) == 1 and "1 offloaded tool result(s)" in str(offload_warnings[0].message)
    assert calls.loc["big_report", "result"].startswith('<result id="res_')
    assert bool(calls.loc["big_report", "offloaded"]) and calls.loc["big_report", "result_size"] == \
        len(big_report("sales").encode())


def test_nothing_offloaded_reads_no_offload_table(monkeypatch, tmp_path, openai_server):
    """Without an envelope the offload tables are never queried (resolving costs one substring test)."""
    from agno.agent import Agent
    from agno.db.sqlite import SqliteDb
    from agno.models.openai.like import OpenAILike

    from _agno_tables import get_weather
    from agno_nb.analysis import offload

    path = tmp_path / "plain.db"
    db = SqliteDb(db_file=str(path))
    Agent(model=OpenAILike(id="gpt-4o-mini", api_key="x", base_url=openai_server.base_url), tools=[get_weather],
          db=db).run("Weather?", session_id="s1")
    db.db_engine.dispose()

    def fail(*args, **kwargs):
        raise AssertionError("an offload table was read")

    monkeypatch.setattr(offload, "read_index", fail)
    monkeypatch.setattr(offload, "read_payloads", fail)
    calls = agno_nb.connect(path).tool_calls()
    assert calls["offloaded"].tolist() == [False] and calls["result"].tolist() == ["Sunny in Paris, 21C"]


FIXTURE = __import__("pathlib").Path(__file__).parent / "fixtures" / "agno-3.1-sqlite.db"


def test_absent_tables_are_empty_with_their_columns():
    ex = agno_nb.connect(FIXTURE)
    for name in [*NEW_TABLES, "evals"]:
        df = getattr(ex, name)()
        assert len(df) == 0 and list(df.columns) == [c.name for c in STORED_COLUMNS[name]], name
        assert len(ex.sql(f"select * from {name}")) == 0


def test_credential_tables_cannot_be_named(agno_sqlite, tmp_path):
    from agno_nb.analysis.stored import CREDENTIAL_TABLES

    path = _changed_copy(agno_sqlite, tmp_path, "create table agno_auth_tokens (token text); insert into agno_auth_tokens values ('secret-token')")
    ex = agno_nb.connect(path)
    for query in ("select * from agno_auth_tokens", 'select * from "agno_auth_tokens"',
                  "select * from main.agno_auth_tokens"):
        with pytest.raises(Exception) as err:
            ex.sql(query)
        assert "secret-token" not in str(err.value)
    assert not {t.default_table for t in STORED.values()} & CREDENTIAL_TABLES
    with pytest.raises(ValueError, match="credential"):
        agno_nb.connect(path, traces_table="agno_auth_tokens")
    with pytest.raises(ValueError, match="credential"):
        agno_nb.connect(path, auth_tokens_table="x")
    with pytest.raises(ValueError, match="credential"):
        ex.stored("memories", table="agno_service_accounts")


def test_renamed_tables_with_agnos_keywords(agno_sqlite, tmp_path):
    path = _changed_copy(agno_sqlite, tmp_path, "alter table agno_memories rename to my_memories")
    assert len(agno_nb.connect(path).memories()) == 0
    assert len(agno_nb.connect(path, memory_table="my_memories").memories()) == 1
    with pytest.raises(TypeError, match="unknown table keyword"):
        agno_nb.connect(path, memories_table="x")


def test_describe_lists_every_new_table_and_column():
    d = agno_nb.describe()
    for name in [*NEW_TABLES, "evals"]:
        assert d[d["table"] == name]["column"].tolist() == [c.name for c in STORED_COLUMNS[name]]
    assert {"offloaded", "result_size"} <= set(agno_nb.describe("tool_calls")["column"])
    assert {"offloaded", "result_size"} <= set(agno_nb.describe("messages")["column"])


@pytest.mark.parametrize("partition_by", [None, ()])
def test_parquet_export_holds_the_new_tables(agno_sqlite, tmp_path, partition_by):
    ex = agno_nb.connect(agno_sqlite[0])
    out = ex.to_parquet(tmp_path / "exp", partition_by=partition_by)
    back = agno_nb.connect(out)
    marker = json.loads((out / "_agno_nb_export.json").read_text())
    for name in [*NEW_TABLES, "evals"]:
        a, b = getattr(ex, name)(), getattr(back, name)()
        assert marker["tables"][name]["rows"] == len(a), name
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)
    assert back.tool_calls().set_index("tool_name").loc["big_report", "result"] == big_report("sales")
    assert len(back.sql("select * from spans where span_kind = 'LLM'")) == 4
    assert len(back.spans(session_ids=[agno_sqlite[1]["session_id"]])) == 4


def test_mysql_traces_spans_memories_metrics(mysql_url, mysql_schema):
    """agno 3.1's MySQL db writes spans, memories and metrics (traces fail on MariaDB; no approvals,
    compactions, learnings or offloaded results): those read the same as on SQLite, against agno's reads."""
    from agno.db.mysql import MySQLDb as AgnoMySQLDb

    from agno_nb.testing import FakeOpenAIServer

    real = AgnoMySQLDb(db_url=mysql_url, db_schema=mysql_schema)
    with FakeOpenAIServer(tool_args={"get_weather": {"city": "Paris"}}) as server:
        ids = write_all(real, server, everything=False)
    ex = agno_nb.connect(mysql_url, db_schema=mysql_schema)
    # agno 3.1.10 fails to write agno_traces on MariaDB ("Truncated incorrect datetime value": its upsert
    # runs timestampdiff over ISO text with an offset); its spans are written. Whatever agno reads back,
    # agno_nb reads the same.
    traces, total = real.get_traces(limit=100)
    tf = ex.traces().set_index("trace_id")
    assert total == len(tf)
    for t in traces:
        run_id = tf.loc[t.trace_id, "run_id"]
        assert (None if pd.isna(run_id) else run_id) == t.run_id
        assert tf.loc[t.trace_id, "start_time"] == _utc(t.start_time)
    spans = real.get_spans()
    sf = ex.spans().set_index("span_id")
    assert len(spans) == len(sf) > 0
    for s in spans:
        assert sf.loc[s.span_id, "span_kind"] == s.attributes["openinference.span.kind"]
        assert sf.loc[s.span_id, "start_time"] == _utc(s.start_time)
        assert json.loads(sf.loc[s.span_id, "attributes"]) == s.attributes
    m = ex.memories()
    assert m["memory"].tolist() == [x.memory for x in real.get_user_memories()]
    assert list(m["topics"][0]) == ["weather", "prefs"]
    metrics, _ = real.get_metrics()
    assert sorted(ex.metrics()["agent_runs_count"]) == sorted(x["agent_runs_count"] for x in metrics)
    assert len(ex.approvals()) == 0 and len(ex.compactions()) == 0 and len(ex.learnings()) == 0  # not in agno's MySQL db
    assert ex.tool_calls()["offloaded"].tolist() == [False, False]
    real.db_engine.dispose()


def test_sql_sees_a_later_approval_on_postgres(request):
    """ex.sql() keeps tables until the source changes: on PostgreSQL Agno's other tables count too."""
    real, ex, ids = _real_and_explorer("postgres", request)
    assert ex.sql("select decision from approvals")["decision"].tolist() == ["approved"]
    old = ex.approvals()["requested_at"][0].timestamp()
    real.create_approval({"id": "ap2", "run_id": ids["big_run_id"], "session_id": ids["big_session_id"],
                          "status": "pending", "source_type": "agent", "pause_type": "required",
                          "tool_name": "big_report", "created_at": int(old), "updated_at": int(old)})
    assert sorted(ex.sql("select decision from approvals")["decision"]) == ["approved", "pending"]
    real.update_approval("ap2", status="rejected", resolved_by="carol", resolved_at=int(old) + 5)
    assert sorted(ex.sql("select decision from approvals")["decision"]) == ["approved", "rejected"]
    assert ex.sql("select time_to_decision from approvals where approval_id = 'ap2'")["time_to_decision"][0] == 5
    real.db_engine.dispose()


def test_a_members_model_call_belongs_to_the_members_run(agno_sqlite, tmp_path):
    """A span's run is the agno.run.id of its nearest AGENT/TEAM ancestor, not only its trace's."""
    path, con = _writable_copy(agno_sqlite, tmp_path)
    root, trace_id = con.execute("select span_id, trace_id from agno_spans where parent_span_id is null "
                                 "order by start_time limit 1").fetchone()
    rows = [("member", root, "Agent.run", {"openinference.span.kind": "AGENT", "agno.run.id": "member-run"}),
            ("member-chain", "member", "step", {"openinference.span.kind": "CHAIN"}),
            ("member-llm", "member-chain", "OpenAILike.invoke",
             {"openinference.span.kind": "LLM", "llm.token_count.prompt": 3, "llm.token_count.completion": 4})]
    for span_id, parent, name, attrs in rows:
        con.execute("insert into agno_spans (span_id, trace_id, parent_span_id, name, span_kind, status_code,"
                    " start_time, end_time, duration_ms, attributes, created_at) values (?, ?, ?, ?, 'INTERNAL', 'OK',"
                    " '2026-12-07T20:08:17+00:00', '2026-12-07T20:08:18+00:00', 1000, ?, '2026-12-07T20:08:18+00:00')",
                    (span_id, trace_id, parent, name, json.dumps(attrs)))
    con.commit()
    con.close()
    df = agno_nb.connect(path).spans().set_index("span_id")
    trace_run = df.loc[root, "run_id"]
    assert df.loc["member", "run_id"] == df.loc["member-chain", "run_id"] == df.loc["member-llm", "run_id"] == "member-run"
    assert df.loc["member-llm", "total_tokens"] == 7 and trace_run != "member-run"
    assert (df.drop(index=["member", "member-chain", "member-llm"])["run_id"] != "member-run").all()
