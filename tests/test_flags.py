"""Pathology flags: each on a session built to trigger it and on one built not to."""

from __future__ import annotations

import pytest

import agno_nb
from agno_nb import Agent
from agno_nb.analysis.flags import FLAG_NAMES, FLAGS
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import OpenAILike, ScriptedModel, tool_call

from _built import call, run, write


def flags_of(tmp_path, sessions, **kwargs):
    write(tmp_path / "f.db", sessions)
    ex = agno_nb.connect(tmp_path / "f.db", progress=False)
    return ex, ex.flags(**kwargs)


def test_tool_loop(tmp_path):
    same = [call("get_weather", {"city": "Oslo", "unit": "C"}), call("get_weather", {"unit": "C", "city": "Oslo"}),
            call("get_weather", {"city": "Oslo", "unit": "C"})]
    varied = [call("get_weather", {"city": c}) for c in ("Oslo", "Rome", "Lima")]
    twice = [call("get_weather", {"city": "Oslo"}), call("get_weather", {"city": "Oslo"})]
    ex, found = flags_of(tmp_path, {"loop": [run("r-loop", calls=same)], "varied": [run("r-varied", calls=varied)],
                                    "twice": [run("r-twice", calls=twice)]}, flags=["tool_loop"])
    assert found["run_id"].tolist() == ["r-loop"]  # same arguments in another key order still match
    row = found.iloc[0]
    # messages: system 0, user 1, then (assistant, tool) per call: the third call's answer is 7
    assert row["message_index"] == 7 and "get_weather" in row["detail"] and "3 times" in row["detail"]
    assert ex.flags(flags=["tool_loop"], loop_min_calls=2)["run_id"].tolist() == ["r-loop", "r-twice"]


def test_error_retry(tmp_path):
    retried = [call("lookup", {"id": 1}, error=True), call("lookup", {"id": 1})]
    other_args = [call("lookup", {"id": 1}, error=True), call("lookup", {"id": 2})]
    ok_then_same = [call("lookup", {"id": 1}), call("lookup", {"id": 1})]
    _, found = flags_of(tmp_path, {"a": [run("r-retry", calls=retried)], "b": [run("r-other", calls=other_args)],
                                   "c": [run("r-ok", calls=ok_then_same)]}, flags=["error_retry"])
    assert found["run_id"].tolist() == ["r-retry"]
    assert found["message_index"].tolist() == [5]  # the retry's answer


def test_error_retry_from_the_runtime(tmp_path):
    def lookup(order_id: str) -> str:
        """Look an order up."""
        raise LookupError("service down")

    db = SqliteDb(db_file=str(tmp_path / "rt.db"))
    script = [tool_call("lookup", {"order_id": "7"}), tool_call("lookup", {"order_id": "7"}), "Sorry."]
    Agent(id="support", db=db, tools=[lookup], model=ScriptedModel(script)).run("order 7?", session_id="s")
    script = [tool_call("lookup", {"order_id": "7"}), "Sorry."]
    Agent(id="support", db=db, tools=[lookup], model=ScriptedModel(script)).run("order 7?", session_id="t")
    found = agno_nb.connect(db, progress=False).flags(flags=["error_retry"])
    assert found["session_id"].tolist() == ["s"]


def test_run_error_and_empty_answer(tmp_path):
    _, found = flags_of(tmp_path, {"s": [
        run("r-error", status="ERROR", answer="ModelError: timed out"),
        run("r-empty", answer="  \n"),
        run("r-none", answer=None),
        run("r-fine", answer="Here you go."),
        run("r-error-empty", status="ERROR", answer=None),
    ]}, flags=["run_error", "empty_answer"])
    got = list(zip(found["run_id"], found["flag"]))
    assert got == [("r-error", "run_error"), ("r-empty", "empty_answer"), ("r-none", "empty_answer"),
                   ("r-error-empty", "run_error")]
    assert "timed out" in found["detail"].iloc[0]


def test_truncated(tmp_path):
    _, found = flags_of(tmp_path, {"s": [run("r-cut", finish_reason="length", out=256, message_metrics=True), run("r-stop", finish_reason="stop"),
                                         run("r-gemini", finish_reason="MAX_TOKENS"), run("r-unknown")]},
                        flags=["truncated"])
    assert found["run_id"].tolist() == ["r-cut", "r-gemini"]
    assert found["message_index"].tolist() == [2, 2] and "256 output tokens" in found["detail"].iloc[0]


@pytest.mark.filterwarnings("ignore:no price for model 'fake-model'")
def test_truncated_from_an_openai_compatible_endpoint(tmp_path, openai_server):
    db = SqliteDb(db_file=str(tmp_path / "oa.db"))
    short = OpenAILike(id="fake-model", base_url=openai_server.base_url, api_key="sk-test", max_tokens=2)
    roomy = OpenAILike(id="fake-model", base_url=openai_server.base_url, api_key="sk-test", max_tokens=500)
    Agent(id="short", db=db, model=short).run("tell me a long story please", session_id="cut")
    Agent(id="roomy", db=db, model=roomy).run("tell me a long story please", session_id="whole")
    ex = agno_nb.connect(db, progress=False)
    assert ex.flags(flags=["truncated"])["session_id"].tolist() == ["cut"]
    reasons = ex.messages().query("role == 'assistant'").set_index("session_id")["finish_reason"]
    assert reasons.to_dict() == {"cut": "length", "whole": "stop"}


def test_context_growth(tmp_path):
    grows = [run(f"g{i}", inp=n) for i, n in enumerate([1_000, 40_000, 120_000, 150_000])]
    big_from_start = [run(f"b{i}", inp=n) for i, n in enumerate([150_000, 160_000])]
    small = [run(f"s{i}", inp=n) for i, n in enumerate([1_000, 2_000, 3_000])]
    ex, found = flags_of(tmp_path, {"grows": grows, "big": big_from_start, "small": small}, flags=["context_growth"])
    assert found["run_id"].tolist() == ["g2"]  # once per session, where it first passed the threshold
    assert "1,000" in found["detail"].iloc[0] and "120,000" in found["detail"].iloc[0]
    assert ex.flags(flags=["context_growth"], context_tokens=1_500)["run_id"].tolist() == ["g1", "s1"]


def test_slow_run(tmp_path):
    usual = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0]
    sessions = {
        "a": [run(f"a{i}", agent="steady", duration=d) for i, d in enumerate(usual + [1.2])],
        "b": [run(f"b{i}", agent="spiky", duration=d) for i, d in enumerate(usual + [9.0])],
        "c": [run(f"c{i}", agent="few", duration=d) for i, d in enumerate([1.0, 1.1, 30.0])],
    }
    ex, found = flags_of(tmp_path, sessions, flags=["slow_run"])
    assert found["run_id"].tolist() == ["b6"]  # "few" has too few runs to judge
    assert "spiky's median" in found["detail"].iloc[0]
    assert ex.flags(flags=["slow_run"], latency_min_runs=3)["run_id"].tolist() == ["b6", "c2"]
    assert ex.flags(flags=["slow_run"], latency_mads=200)["run_id"].tolist() == []


def test_runs_get_a_flags_column_and_describe_documents_them(tmp_path):
    write(tmp_path / "r.db", {"s": [run("r-error", status="ERROR", answer=None),
                                    run("r-fine"),
                                    run("r-both", answer="", calls=[call("t", {}, error=True), call("t", {})])]})
    ex = agno_nb.connect(tmp_path / "r.db", progress=False)
    runs = ex.runs().set_index("run_id")
    assert runs["flags"].map(list).to_dict() == {"r-error": ["run_error"], "r-fine": [],
                                                 "r-both": ["error_retry", "empty_answer"]}
    assert list(ex.flags().columns) == ["session_id", "run_id", "flag", "detail", "message_index"]
    assert ex.flags(agent_id="nobody").empty
    doc = agno_nb.describe("flags")
    assert doc["column"].tolist() == FLAG_NAMES and len(FLAGS) == 7
    assert "loop_min_calls=3" in doc.set_index("column").loc["tool_loop", "description"]
    assert "flags" in set(agno_nb.describe()["table"])


def test_unknown_threshold_or_flag_is_refused(tmp_path):
    write(tmp_path / "x.db", {"s": [run("r")]})
    ex = agno_nb.connect(tmp_path / "x.db", progress=False)
    with pytest.raises(TypeError, match="loop_min_call.*agent_id.*loop_min_calls=3"):
        ex.flags(loop_min_call=2)
    with pytest.raises(ValueError, match="tool_loop"):
        ex.flags(flags=["tool_lop"])


def test_flags_read_from_a_parquet_export_are_the_same(tmp_path):
    write(tmp_path / "p.db", {"s": [run("r-loop", calls=[call("t", {"a": 1}) for _ in range(3)]),
                                    run("r-cut", finish_reason="length"), run("r-error", status="ERROR")]})
    ex = agno_nb.connect(tmp_path / "p.db", progress=False)
    exported = agno_nb.connect(ex.to_parquet(tmp_path / "export", partition_by=()), progress=False)
    # the database's runs carry the flags' inputs from one parse; the export reads its tables
    assert exported.flags().equals(ex.flags()) and len(ex.flags()) == 3
    assert exported.runs()["flags"].map(list).tolist() == ex.runs()["flags"].map(list).tolist()
    assert not [c for c in ex.runs().columns if c.startswith("_")]


def test_flags_and_cost_on_both_backends(db):
    """The same findings from SQLite and PostgreSQL (the ``db`` fixture runs both)."""
    from agno_nb import AgentSession

    db.upsert_session(AgentSession(session_id="s", agent_id="a", runs=[
        run("r-loop", calls=[call("t", {"a": 1}) for _ in range(3)]), run("r-cut", finish_reason="length"),
        run("r-error", status="ERROR", answer=None), run("r-fine", model="gpt-4o-mini", inp=100_000, out=0)]))
    ex = agno_nb.connect(db, progress=False)
    runs = ex.runs().set_index("run_id")
    assert runs["flags"].map(list).to_dict() == {"r-loop": ["tool_loop"], "r-cut": ["truncated"],
                                                 "r-error": ["run_error"], "r-fine": []}
    assert runs.loc["r-fine", "cost_usd"] == pytest.approx(0.015)
    found = ex.flags()
    assert found["flag"].tolist() == ["tool_loop", "truncated", "run_error"]
    assert found["message_index"].iloc[:2].tolist() == [7, 2] and found["message_index"].isna().iloc[2]
