"""Agno 3.1's session records and Agent/Team/Workflow session API, on agno_nb.

Two kinds of checks against the real agno 3.1.10:
- signatures: every method takes Agno's parameters by name and position (``inspect``);
  parameters agno_nb leaves out are listed in ``OMITTED`` and in docs/compat.md;
- behaviour: the same scenarios through agno and agno_nb, results compared (records
  built from the same data, runs against the same local OpenAI-compatible server,
  sessions written by one and read by the other).
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import json
import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("AGNO_TELEMETRY", "false")

import agno.agent  # noqa: E402
import agno.session  # noqa: E402
import agno.team  # noqa: E402
import agno.workflow  # noqa: E402

import agno_nb  # noqa: E402
from agno_nb import Agent, Team, Workflow  # noqa: E402
from agno_nb.agent import events as nb_events  # noqa: E402
from agno_nb.db.sqlite import SqliteDb  # noqa: E402
from agno_nb.models import EchoModel, OpenAILike, ScriptedModel, tool_call  # noqa: E402
from agno_nb.records import AgentSession, TeamSession, WorkflowSession  # noqa: E402
from _helpers import get_weather  # noqa: E402

COMPAT_MD = Path(__file__).resolve().parents[1] / "docs" / "compat.md"

# ---------------------------------------------------------------------------------------
# (a) signatures
# ---------------------------------------------------------------------------------------

RECORD_METHODS = {
    "AgentSession": ["from_dict", "to_dict", "get_run", "upsert_run", "get_messages", "get_chat_history",
                     "get_tool_calls", "get_session_summary"],
    "TeamSession": ["from_dict", "to_dict", "get_run", "upsert_run", "get_messages", "get_chat_history",
                    "get_tool_calls", "get_session_summary", "get_team_history", "get_team_history_context"],
    "WorkflowSession": ["from_dict", "to_dict", "get_run", "upsert_run", "get_messages", "get_chat_history",
                        "get_workflow_history", "get_workflow_history_context", "get_messages_from_agent_runs",
                        "get_messages_from_team_runs"],
}

SESSION_METHODS = ["get_session", "get_session_name", "set_session_name", "get_session_state",
                   "update_session_state", "get_session_metrics", "get_session_summary", "get_chat_history",
                   "get_session_messages", "get_last_run_output", "get_run_output", "delete_session", "save_session"]
RUN_METHODS = ["run", "arun", "print_response", "aprint_response"]

# Agno's run()/print_response() parameters for features outside session storage. agno_nb
# accepts them through **kwargs (or by position, for Workflow) and raises
# NotImplementedError when one is given a value. Mirrored in docs/compat.md.
_MEDIA = ["audio", "images", "videos", "files"]
_AGENT_RUN = [*_MEDIA, "run_context", "knowledge_filters", "add_dependencies_to_context", "dependencies",
              "output_schema", "debug_mode"]
_PRINT = [*_MEDIA, "knowledge_filters", "add_dependencies_to_context", "dependencies", "debug_mode",
          "show_reasoning", "show_full_reasoning", "tags_to_include_in_markdown"]
OMITTED = {
    ("Agent", "run"): _AGENT_RUN,
    ("Agent", "arun"): [*_AGENT_RUN, "background"],
    ("Agent", "print_response"): _PRINT,
    ("Agent", "aprint_response"): _PRINT,
    ("Team", "run"): _AGENT_RUN,
    ("Team", "arun"): [*_AGENT_RUN, "background"],
    ("Team", "print_response"): [*_PRINT, "show_member_responses"],
    ("Team", "aprint_response"): [*_PRINT, "show_member_responses"],
}
# Defaults that differ on purpose (docs/compat.md says why).
DIFFERENT_DEFAULTS = {("Agent", "__init__", "store_history_messages"), ("Team", "__init__", "store_history_messages")}

CONSTRUCTOR_ARGS = ["name", "id", "db", "session_id", "user_id", "session_state", "add_session_state_to_context",
                    "overwrite_db_session_state", "cache_session"]
AGENT_ARGS = [*CONSTRUCTOR_ARGS, "model", "markdown", "num_history_messages", "store_history_messages",
              "read_chat_history", "add_history_to_context", "num_history_runs", "enable_session_summaries",
              "tools", "instructions", "description"]


def _params(fn):
    return [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]


def _same_default(a, b) -> bool:
    if a is inspect.Parameter.empty or b is inspect.Parameter.empty:
        return a is b
    # A flag Agno defaults to None ("use the component's setting") and agno_nb to False, or back.
    return a == b or (a in (None, False) and b in (None, False))


def signature_problems(ours, theirs, omitted=(), only=None, where="", skip_defaults=()):
    """What keeps code written against ``theirs`` from calling ``ours`` the same way."""
    problems = []
    o, t = _params(ours), _params(theirs)
    o_by_name = {p.name: p for p in o}
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    o_pos = [p.name for p in o if p.kind in positional]
    t_pos = [p.name for p in t if p.kind in positional]
    has_var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in o)
    for i, p in enumerate(t):
        if p.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            continue
        if only is not None and p.name not in only:
            continue
        if p.name in omitted:
            if p.name in o_by_name:
                problems.append(f"{where}: {p.name!r} is listed as omitted but agno_nb has it")
            if not has_var_kw:
                problems.append(f"{where}: omits {p.name!r} but has no **kwargs to refuse it clearly")
            continue
        mine = o_by_name.get(p.name)
        if mine is None:
            problems.append(f"{where}: missing parameter {p.name!r}")
            continue
        if p.kind in positional:
            idx = t_pos.index(p.name)
            if idx >= len(o_pos) or o_pos[idx] != p.name:
                problems.append(f"{where}: {p.name!r} is positional #{idx} in agno, not in agno_nb ({o_pos})")
        elif mine.kind is inspect.Parameter.POSITIONAL_ONLY:
            problems.append(f"{where}: {p.name!r} cannot be passed by keyword")
        if p.name not in skip_defaults and not _same_default(mine.default, p.default):
            problems.append(f"{where}: {p.name!r} defaults to {mine.default!r}, agno: {p.default!r}")
    extra_required = [p.name for p in o if p.default is inspect.Parameter.empty
                      and p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
                      and p.name not in {q.name for q in t}]
    if extra_required:
        problems.append(f"{where}: requires parameters agno does not have: {extra_required}")
    return problems


def _agno_record(name):
    return getattr(agno.session, name)


def test_session_record_signatures_match_agno():
    problems = []
    for cls_name, methods in RECORD_METHODS.items():
        ours, theirs = getattr(agno_nb, cls_name), _agno_record(cls_name)
        for m in methods:
            problems += signature_problems(getattr(ours, m), getattr(theirs, m), where=f"{cls_name}.{m}")
    assert problems == []


AGNO_CLASSES = {"Agent": agno.agent.Agent, "Team": agno.team.Team, "Workflow": agno.workflow.Workflow}
OURS = {"Agent": Agent, "Team": Team, "Workflow": Workflow}


def _session_methods(cls_name):
    theirs = AGNO_CLASSES[cls_name]
    names = [m for m in SESSION_METHODS if hasattr(theirs, m)]
    return names + [f"a{m}" for m in names if hasattr(theirs, f"a{m}")]


@pytest.mark.parametrize("cls_name", ["Agent", "Team", "Workflow"])
def test_component_signatures_match_agno(cls_name):
    ours, theirs = OURS[cls_name], AGNO_CLASSES[cls_name]
    problems = []
    for m in [*RUN_METHODS, *_session_methods(cls_name)]:
        problems += signature_problems(getattr(ours, m), getattr(theirs, m), OMITTED.get((cls_name, m), ()),
                                       where=f"{cls_name}.{m}")
    wanted = AGENT_ARGS if cls_name != "Workflow" else [*CONSTRUCTOR_ARGS, "description", "steps", "num_history_runs"]
    if cls_name == "Team":
        wanted = [*wanted, "members"]
    problems += signature_problems(ours.__init__, theirs.__init__, only=set(wanted), where=f"{cls_name}.__init__",
                                   skip_defaults={n for c, m, n in DIFFERENT_DEFAULTS if c == cls_name})
    assert problems == []


def test_every_agno_a_session_method_has_a_twin():
    for cls_name, theirs in AGNO_CLASSES.items():
        missing = [m for m in _session_methods(cls_name) if not hasattr(OURS[cls_name], m)]
        assert missing == [], cls_name
        for m in _session_methods(cls_name):
            if m.startswith("a"):
                assert inspect.iscoroutinefunction(getattr(OURS[cls_name], m)), f"{cls_name}.{m}"


def test_omitted_parameters_are_listed_in_compat_md_and_refused_clearly(tmp_path):
    text = COMPAT_MD.read_text()
    section = text.split("## Agent / Team / Workflow", 1)[1]
    for (cls_name, method), names in OMITTED.items():
        for name in names:
            assert f"`{name}`" in section, f"docs/compat.md does not list {cls_name}.{method}'s {name!r}"
    agent = Agent(model=EchoModel(), db=SqliteDb(db_file=str(tmp_path / "a.db")))
    with pytest.raises(NotImplementedError, match="images"):
        agent.run("hi", images=["cat.png"])
    with pytest.raises(NotImplementedError, match="output_schema"):
        agent.print_response("hi", output_schema=dict)
    with pytest.raises(TypeError, match="no_such_arg"):
        agent.run("hi", no_such_arg=1)
    agent.run("hi", images=None, debug_mode=False)  # Agno's defaults are fine
    wf = Workflow(steps=[str.upper])
    with pytest.raises(NotImplementedError, match="images"):
        wf.run("hi", None, None, None, None, None, None, ["x.png"])


def test_the_signature_check_catches_a_moved_parameter():
    def theirs(self, session_id=None, user_id=None):
        pass

    def swapped(self, user_id=None, session_id=None):
        pass

    assert signature_problems(swapped, theirs, where="f")
    assert signature_problems(theirs, theirs, where="f") == []


# ---------------------------------------------------------------------------------------
# (b) behaviour: session records built from the same data
# ---------------------------------------------------------------------------------------


def _msg(role, content, **kw):
    return {"role": role, "content": content, **kw}


def _call(name, args, call_id):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def _agent_run(run_id, status, messages, agent_id="a1", **kw):
    return {"run_id": run_id, "agent_id": agent_id, "agent_name": agent_id, "session_id": "s", "status": status,
            "input": {"input_content": next((m["content"] for m in messages
                                             if m["role"] == "user" and not m.get("from_history")), None)},
            "content": messages[-1]["content"], "messages": messages, **kw}


def _conversation(prefix, n_history=0):
    history = [_msg("user", f"{prefix}-old-q", from_history=True), _msg("assistant", f"{prefix}-old-a", from_history=True)]
    return [_msg("system", "You are helpful."), *history[:n_history],
            _msg("user", f"{prefix}-q"),
            _msg("assistant", None, tool_calls=[_call("get_weather", {"city": prefix}, f"call-{prefix}")]),
            _msg("tool", f"Sunny in {prefix}", tool_call_id=f"call-{prefix}", tool_name="get_weather"),
            _msg("assistant", f"{prefix}-answer")]


AGENT_SESSION = {
    "session_id": "s", "agent_id": "a1", "user_id": "alice", "session_data": {"session_state": {"n": 2}},
    "summary": {"summary": "Weather talk.", "topics": ["weather"], "updated_at": "2026-11-26T10:00:00.123456"},
    "created_at": 1_795_000_000, "updated_at": 1_795_000_100,
    "runs": [
        _agent_run("r1", "COMPLETED", _conversation("r1")),
        _agent_run("r2", "ERROR", [_msg("user", "r2-q"), _msg("assistant", "failed")]),
        _agent_run("r3", "COMPLETED", _conversation("r3", n_history=2)),
        _agent_run("r4", "COMPLETED", _conversation("r4", n_history=2), agent_id="a2"),
        _agent_run("r5", "CANCELLED", [_msg("user", "r5-q")]),
    ],
}

TEAM_SESSION = {
    "session_id": "t", "team_id": "crew", "session_data": {"session_state": {}},
    "runs": [
        {**_agent_run("t1", "COMPLETED", _conversation("t1")), "agent_id": None, "agent_name": None,
         "team_id": "crew", "team_name": "Crew"},
        _agent_run("m1", "COMPLETED", _conversation("m1"), agent_id="echo", parent_run_id="t1"),
        _agent_run("m2", "COMPLETED", _conversation("m2"), agent_id="calc", parent_run_id="t1"),
        {**_agent_run("t2", "ERROR", [_msg("user", "t2-q"), _msg("assistant", "oops")]), "agent_id": None,
         "agent_name": None, "team_id": "crew", "team_name": "Crew"},
        {**_agent_run("t3", "COMPLETED", _conversation("t3", n_history=2)), "agent_id": None, "agent_name": None,
         "team_id": "crew", "team_name": "Crew"},
        {**_agent_run("sub1", "COMPLETED", _conversation("sub1")), "agent_id": None, "agent_name": None,
         "team_id": "sub", "team_name": "Sub", "parent_run_id": "t3"},
    ],
}

for _run in TEAM_SESSION["runs"]:
    for _key in ("agent_id", "agent_name"):
        if _run.get(_key) is None:
            _run.pop(_key, None)


def _team_run_dict(run_id, status, prefix, team_id="writers"):
    run = {**_agent_run(run_id, status, _conversation(prefix)), "team_id": team_id, "team_name": team_id}
    del run["agent_id"], run["agent_name"]
    return run


WORKFLOW_SESSION = {
    "session_id": "w", "workflow_id": "wf",
    "runs": [
        {"run_id": f"w{i}", "workflow_id": "wf", "workflow_name": "Pipeline", "session_id": "w", "status": status,
         "input": f"topic {i}", "content": f"report {i}" if status == "COMPLETED" else None,
         "step_executor_runs": [_agent_run(f"w{i}-a", "COMPLETED", _conversation(f"w{i}a"), agent_id="researcher",
                                           parent_run_id=f"w{i}"),
                                _team_run_dict(f"w{i}-t", "COMPLETED", f"w{i}t")]}
        for i, status in enumerate(["COMPLETED", "ERROR", "COMPLETED", "COMPLETED"], 1)
    ],
}


def _shape(messages):
    return [(m.role, m.content, bool(m.from_history)) for m in messages]


def _both(cls_name, data):
    theirs = _agno_record(cls_name).from_dict(json.loads(json.dumps(data)))
    ours = getattr(agno_nb, cls_name).from_dict(json.loads(json.dumps(data)))
    return theirs, ours


def _grid(**axes):
    keys = list(axes)
    combos = [{}]
    for k in keys:
        combos = [{**c, k: v} for c in combos for v in axes[k]]
    return combos


def test_agent_session_get_messages_matches_agno_on_every_filter():
    theirs, ours = _both("AgentSession", AGENT_SESSION)
    compared = 0
    for kw in _grid(agent_id=[None, "a1", "a2", "nobody"], last_n_runs=[None, 0, 1, 2, 9], limit=[None, 0, 1, 3, 50],
                    skip_roles=[None, ["system"], ["tool", "system"]], skip_statuses=[None, [], ["COMPLETED"]],
                    skip_history_messages=[True, False]):
        assert _shape(ours.get_messages(**kw)) == _shape(theirs.get_messages(**kw)), kw
        compared += 1
    assert compared == 1800
    for n in (None, 0, 1, 2, 10):
        assert _shape(ours.get_chat_history(last_n_runs=n)) == _shape(theirs.get_chat_history(last_n_runs=n))
    for n in (None, 1, 2, 10):
        assert ours.get_tool_calls(num_calls=n) == theirs.get_tool_calls(num_calls=n)
    # positional calls bind the same way
    assert _shape(ours.get_messages("a1", None, 1, 2)) == _shape(theirs.get_messages("a1", None, 1, 2))


def test_agent_session_fields_summary_and_runs_match_agno():
    theirs, ours = _both("AgentSession", AGENT_SESSION)
    t, o = theirs.to_dict(), ours.to_dict()
    assert o.pop("session_type") == "agent"
    assert set(o) == set(t)
    for key in ("session_id", "agent_id", "user_id", "session_data", "summary", "created_at", "updated_at",
                "metadata", "team_id", "workflow_id", "agent_data"):
        assert o[key] == t[key], key
    assert [r["run_id"] for r in o["runs"]] == [r["run_id"] for r in t["runs"]]
    assert "runs" not in ours.to_dict(include_runs=False) and "runs" not in theirs.to_dict(include_runs=False)
    summary = ours.get_session_summary()
    assert (summary.summary, summary.topics, summary.updated_at) == (
        theirs.summary.summary, theirs.summary.topics, theirs.summary.updated_at)
    assert summary.to_dict() == theirs.summary.to_dict()
    run, their_run = ours.get_run("r3"), theirs.get_run("r3")
    assert run.input.input_content == their_run.input.input_content == "r3-q"
    assert run.input.to_dict() == their_run.input.to_dict()
    run.content = "changed"  # get_run hands out a copy, as Agno's does
    assert ours.get_run("r3").content == "r3-answer"
    assert ours.get_run("nope") is None and theirs.get_run("nope") is None
    for session in (ours, theirs):
        new = type(session.runs[0]).from_dict({**AGENT_SESSION["runs"][0], "run_id": "r9"})
        session.upsert_run(new)
        replaced = type(session.runs[0]).from_dict({**AGENT_SESSION["runs"][0], "content": "again"})
        session.upsert_run(replaced)
    assert [(r.run_id, r.content) for r in ours.runs] == [(r.run_id, r.content) for r in theirs.runs]


def test_from_dict_without_session_id_is_none_and_any_mapping_works():
    from types import MappingProxyType

    for cls_name in RECORD_METHODS:
        assert getattr(agno_nb, cls_name).from_dict({"user_id": "x"}) is None
        assert _agno_record(cls_name).from_dict({"user_id": "x"}) is None
        s = getattr(agno_nb, cls_name).from_dict(MappingProxyType({"session_id": "m", "summary": None}))
        assert s.session_id == "m" and s.runs == []


def test_unknown_keys_round_trip():
    data = {**AGENT_SESSION, "future_column": {"x": 1},
            "runs": [{**AGENT_SESSION["runs"][0], "future_run_key": [1, 2],
                      "input": {"input_content": "q", "future_input_key": True}}],
            "summary": {"summary": "s", "future_summary_key": 3}}
    out = AgentSession.from_dict(data).to_dict()
    assert out["future_column"] == {"x": 1} and out["summary"]["future_summary_key"] == 3
    assert out["runs"][0]["future_run_key"] == [1, 2] and out["runs"][0]["input"]["future_input_key"] is True


def test_team_session_messages_and_history_match_agno():
    theirs, ours = _both("TeamSession", TEAM_SESSION)
    for kw in _grid(team_id=[None, "crew", "sub"], member_ids=[None, ["echo"], ["echo", "calc"], ["nobody"]],
                    last_n_runs=[None, 1, 2], limit=[None, 1, 4], skip_statuses=[None, []],
                    skip_history_messages=[True, False], skip_member_messages=[True, False]):
        assert _shape(ours.get_messages(**kw)) == _shape(theirs.get_messages(**kw)), kw
    for n in (None, 1, 3):
        assert _shape(ours.get_chat_history(n)) == _shape(theirs.get_chat_history(n))
    for kw in _grid(team_id=[None, "crew", "sub", "nobody"], num_runs=[None, 0, 1, 5]):
        assert ours.get_team_history(**kw) == theirs.get_team_history(**kw), kw
        assert ours.get_team_history_context(**kw) == theirs.get_team_history_context(**kw), kw
    assert ours.get_team_history() == [("t1-q", "t1-answer"), ("t3-q", "t3-answer")]
    assert ours.get_tool_calls(3) == theirs.get_tool_calls(3)


def test_workflow_session_histories_and_messages_match_agno():
    theirs, ours = _both("WorkflowSession", WORKFLOW_SESSION)
    for n in (None, 0, 1, 2, 10):
        assert ours.get_workflow_history(n) == theirs.get_workflow_history(n)
        assert ours.get_workflow_history_context(n) == theirs.get_workflow_history_context(n)
        assert [(c.input, c.output) for c in ours.get_chat_history(n)] == \
               [(c.input, c.output) for c in theirs.get_chat_history(n)]
    assert ours.get_workflow_history(2) == [("topic 3", "report 3"), ("topic 4", "report 4")]
    for kw in _grid(last_n_runs=[None, 1, 2], limit=[None, 2, 5], skip_roles=[None, ["system"]],
                    skip_history_messages=[True, False]):
        assert _shape(ours.get_messages(agent_id="researcher", **kw)) == \
               _shape(theirs.get_messages(agent_id="researcher", **kw)), kw
        assert _shape(ours.get_messages(team_id="writers", **kw)) == \
               _shape(theirs.get_messages(team_id="writers", **kw)), kw
    agent_runs = [e for r in ours.runs for e in r.step_executor_runs if e.agent_id]
    their_agent_runs = [e for r in theirs.runs for e in r.step_executor_runs if getattr(e, "agent_id", None)]
    assert _shape(ours.get_messages_from_agent_runs(agent_runs, 1)) == \
           _shape(theirs.get_messages_from_agent_runs(their_agent_runs, 1))
    for session in (ours, theirs):
        with pytest.raises(ValueError):
            session.get_messages()
        with pytest.raises(ValueError):
            session.get_messages(agent_id="a", team_id="b")


def test_workflow_session_keeps_only_workflow_runs():
    data = {**WORKFLOW_SESSION, "runs": [*WORKFLOW_SESSION["runs"], _agent_run("stray", "COMPLETED", [_msg("user", "hi")])]}
    theirs, ours = _both("WorkflowSession", data)
    assert [r.run_id for r in ours.runs] == [r.run_id for r in theirs.runs] == ["w1", "w2", "w3", "w4"]


# ---------------------------------------------------------------------------------------
# (b) behaviour: agents run through agno and agno_nb against the same model server
# ---------------------------------------------------------------------------------------


def _dbs(backend, tmp_path, request):
    """(agno's db, agno_nb's db) on one SQLite file or one PostgreSQL schema."""
    if backend == "sqlite":
        from agno.db.sqlite import SqliteDb as AgnoSqliteDb

        path = str(tmp_path / "both.db")
        theirs, ours = AgnoSqliteDb(db_file=path), SqliteDb(db_file=path)
    else:
        from agno.db.postgres import PostgresDb as AgnoPostgresDb

        from agno_nb.db.postgres import PostgresDb

        url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
        theirs, ours = AgnoPostgresDb(db_url=url, db_schema=schema), PostgresDb(db_url=url, db_schema=schema)
    request.addfinalizer(lambda: (theirs.db_engine.dispose(), ours.close()))
    return theirs, ours


def _agno_model(server):
    from agno.models.openai.like import OpenAILike as AgnoOpenAILike

    return AgnoOpenAILike(id="fake-model", base_url=server.base_url, api_key="sk-test")


def _pair(server, agno_db, nb_db, **kwargs):
    """The same agent in agno and in agno_nb (agno_nb stores history copies only when asked, as agno)."""
    theirs = agno.agent.Agent(model=_agno_model(server), db=agno_db, telemetry=False, **kwargs)
    ours = Agent(model=OpenAILike(id="fake-model", base_url=server.base_url, api_key="sk-test"), db=nb_db,
                 store_history_messages=False, **kwargs)
    return theirs, ours


def _roles(messages):
    return [(m.role, m.content) for m in messages]


def test_agent_session_methods_give_agno_results(backend, tmp_path, request, openai_server):
    agno_db, nb_db = _dbs(backend, tmp_path, request)
    kwargs = dict(name="Weather", tools=[get_weather], add_history_to_context=True, num_history_runs=2,
                  session_state={"n": 0, "prefs": {"units": "C"}}, user_id="alice")
    theirs, ours = _pair(openai_server, agno_db, nb_db, id="weather", **kwargs)
    results = {}
    for name, agent in (("agno", theirs), ("agno_nb", ours)):
        sid = f"s-{name}"
        outs = [agent.run(q, session_id=sid, session_state={"prefs": {"city": "Paris"}}) for q in ("one", "two", "three")]
        r = results[name] = {}
        r["chat"] = _roles(agent.get_chat_history(sid))
        r["chat_last"] = _roles(agent.get_chat_history(sid, 1))
        for kw in _grid(last_n_runs=[None, 1, 2], limit=[None, 1, 3, 5], skip_roles=[None, ["tool"]],
                        skip_history_messages=[True, False]):
            r[f"messages {kw}"] = _roles(agent.get_session_messages(sid, **kw))
        r["state"] = agent.get_session_state(sid)
        metrics = agent.get_session_metrics(sid).to_dict()
        r["metrics"] = {k: metrics.get(k) for k in ("input_tokens", "output_tokens", "total_tokens", "details")}
        r["last"] = agent.get_last_run_output(sid).content
        r["by_id"] = agent.get_run_output(outs[0].run_id, sid).content
        r["missing"] = agent.get_run_output("no-such-run", sid)
        r["name_before"] = agent.get_session_name(sid)
        r["renamed"] = agent.set_session_name(sid, session_name="Weather chat").session_data["session_name"]
        r["name_after"] = agent.get_session_name(sid)
        r["updated"] = agent.update_session_state({"n": 5}, sid)
        r["state_after"] = agent.get_session_state(sid)
        r["summary"] = agent.get_session_summary(sid)
        session = agent.get_session(sid)
        r["tool_calls"] = [(c["function"]["name"], json.loads(c["function"]["arguments"]))
                           for c in session.get_tool_calls(2)]
        r["keys"] = sorted(set(session.to_dict(include_runs=False)) - {"session_type"})
        r["other_user"] = agent.get_session(sid, user_id="mallory")
        agent.session_id = sid
        r["default_sid"] = _roles(agent.get_chat_history())
    assert results["agno_nb"] == results["agno"]
    assert results["agno"]["state"] == {"n": 0, "prefs": {"units": "C", "city": "Paris"}}
    assert results["agno"]["renamed"] == "Weather chat" and results["agno"]["metrics"]["total_tokens"] > 0
    # what each wrote, the other reads: same runs, same messages
    for sid in ("s-agno", "s-agno_nb"):
        mine, their = nb_db.get_session(sid), agno_db.get_session(sid, session_type=None)
        assert [(r.run_id, _roles(r.messages)) for r in mine.runs] == \
               [(r.run_id, _roles(r.messages)) for r in their.runs]
        assert mine.get_session_summary() is None and their.get_session_summary() is None
    for agent in (theirs, ours):
        agent.delete_session("s-agno")
        assert agent.get_session("s-agno") is None


def test_history_messages_limit_and_session_state_in_context_as_agno(tmp_path, openai_server):
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb

    kwargs = dict(add_history_to_context=True, num_history_messages=3, add_session_state_to_context=True,
                  markdown=True, session_state={"n": 1}, instructions="Be brief.")
    theirs, ours = _pair(openai_server, AgnoSqliteDb(db_file=str(tmp_path / "a.db")),
                         SqliteDb(db_file=str(tmp_path / "b.db")), **kwargs)
    sent = []
    for agent in (theirs, ours):
        for q in ("one", "two", "three"):
            agent.run(q, session_id="s1")
        sent.append(openai_server.requests[-1]["messages"])
    assert [(m["role"], m["content"]) for m in sent[1][1:]] == [(m["role"], m["content"]) for m in sent[0][1:]] == [
        ("assistant", "Echo: one"), ("user", "two"), ("assistant", "Echo: two"), ("user", "three")]
    for messages in sent:
        system = messages[0]["content"]
        assert messages[0]["role"] == "system" and "Be brief." in system
        assert "Use markdown to format your answers." in system and "<session_state>" in system and "'n': 1" in system


def test_summaries_read_the_same_in_agno_and_agno_nb(backend, tmp_path, request):
    """agno_nb used to store ``updated_at`` as Unix seconds, which agno's SessionSummary cannot read."""
    from agno.session import AgentSession as AgnoAgentSession
    from agno.session.summary import SessionSummary as AgnoSummary

    agno_db, nb_db = _dbs(backend, tmp_path, request)
    model = ScriptedModel(["Paris.", "Alice asked about France. Topics: geography, France"])
    agent = Agent(id="geo", db=nb_db, model=model, enable_session_summaries=True)
    agent.run("Capital of France?", session_id="nb", user_id="alice")
    mine = agent.get_session_summary("nb")
    their = agno_db.get_session("nb", session_type=None).get_session_summary()
    assert isinstance(their, AgnoSummary)
    assert (their.summary, their.topics, their.updated_at) == (mine.summary, mine.topics, mine.updated_at) == (
        "Alice asked about France.", ["geography", "France"], mine.updated_at)
    assert isinstance(mine.updated_at, datetime.datetime) and mine.to_dict() == their.to_dict()

    stamp = datetime.datetime(2026, 11, 26, 9, 30, 15, 123456)
    agno_db.upsert_session(AgnoAgentSession(session_id="ag", agent_id="geo", session_data={"session_state": {}},
                                            summary=AgnoSummary("Talked about rain.", ["rain"], stamp),
                                            created_at=1_795_000_000))
    read = agent.get_session_summary("ag")
    assert (read.summary, read.topics, read.updated_at) == ("Talked about rain.", ["rain"], stamp)
    assert read.to_dict() == {"summary": "Talked about rain.", "topics": ["rain"], "updated_at": stamp.isoformat()}
    assert nb_db.get_session("ag").to_dict(include_runs=False)["summary"] == \
           agno_db.get_session("ag", session_type=None).to_dict(include_runs=False)["summary"]


def test_team_and_workflow_sessions_written_by_agno_nb_read_the_same_in_agno(backend, tmp_path, request):
    agno_db, nb_db = _dbs(backend, tmp_path, request)
    echo, calc = Agent(id="echo", name="Echo", model=EchoModel()), Agent(id="calc", model=EchoModel(prefix="= "))
    team = Team([echo, calc], id="crew", name="Crew", db=nb_db, model=ScriptedModel([
        tool_call("delegate_task_to_member", {"member_id": "echo", "task": "hi"}), "Done: hi.",
        tool_call("delegate_task_to_member", {"member_id": "calc", "task": "1+1"}), "Done: 2."]))
    team.run("Say hi", session_id="t", user_id="alice")
    team.run("Add", session_id="t", user_id="alice")
    mine, their = nb_db.get_session("t"), agno_db.get_session("t", session_type=None)
    assert type(their).__name__ == "TeamSession"
    for kw in _grid(team_id=[None, "crew"], num_runs=[None, 1]):
        assert mine.get_team_history(**kw) == their.get_team_history(**kw)
        assert mine.get_team_history_context(**kw) == their.get_team_history_context(**kw)
    assert mine.get_team_history() == [("Say hi", "Done: hi."), ("Add", "Done: 2.")]
    assert _roles(mine.get_chat_history()) == _roles(their.get_chat_history())
    for ids in (["echo"], ["calc"], ["echo", "calc"]):
        assert _roles(mine.get_messages(member_ids=ids)) == _roles(their.get_messages(member_ids=ids))
    assert _roles(team.get_session_messages("t", member_ids=["calc"])) == [("user", "1+1"), ("assistant", "= 1+1")]

    wf = Workflow(id="wf", name="Pipeline", db=nb_db, steps=[echo, str.upper])
    for topic in ("rain", "snow"):
        wf.run(topic, session_id="w")
    mine = nb_db.get_session("w")
    their = agno_db.get_session("w", session_type=None)
    assert type(their).__name__ == "WorkflowSession" and len(their.runs) == len(mine.runs) == 2
    assert mine.get_workflow_history() == [("rain", "ECHO: RAIN"), ("snow", "ECHO: SNOW")]
    assert [o for _, o in mine.get_workflow_history()] == [o for _, o in their.get_workflow_history()]
    assert _roles(mine.get_messages(agent_id="echo")) == _roles(their.get_messages(agent_id="echo"))
    assert [(c.input, c.output) for c in wf.get_chat_history("w")] == [("rain", "ECHO: RAIN"), ("snow", "ECHO: SNOW")]
    assert wf.get_session_state("w") == {} and wf.get_last_run_output("w").content == "ECHO: SNOW"


# ---------------------------------------------------------------------------------------
# streaming, async twins, printing
# ---------------------------------------------------------------------------------------

LIFECYCLE = {"RunStarted", "RunContent", "ToolCallStarted", "ToolCallCompleted", "RunContentCompleted", "RunCompleted"}


def _events(items):
    return [(type(e).__name__, e.event) for e in items
            if not hasattr(e, "event") or (e.event in LIFECYCLE and (e.event != "RunContent" or e.content))]


def test_streaming_yields_agno_events(tmp_path, openai_server):
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb

    theirs, ours = _pair(openai_server, AgnoSqliteDb(db_file=str(tmp_path / "a.db")),
                         SqliteDb(db_file=str(tmp_path / "b.db")), tools=[get_weather])
    got = {}
    for name, agent in (("agno", theirs), ("agno_nb", ours)):
        plain = list(agent.run("Weather?", session_id="s", stream=True))
        full = list(agent.run("Again?", session_id="s", stream=True, stream_events=True))
        with_output = list(agent.run("Once more?", session_id="s", stream=True, yield_run_output=True))
        got[name] = {
            "plain": _events(plain),
            "text": "".join(e.content or "" for e in plain),
            "full": _events(full),
            "completed": [(e.content, e.session_id) for e in full if e.event == "RunCompleted"],
            "tool": [(e.tool.tool_name, e.tool.tool_args) for e in full if e.event == "ToolCallStarted"],
            "last": (type(with_output[-1]).__name__, with_output[-1].content, with_output[-1].status),
            "stored": [r.content for r in agent.get_session("s").runs],
        }
    assert got["agno_nb"] == got["agno"]
    assert got["agno"]["text"] == "Tool said: Sunny in Paris, 21C"
    assert got["agno"]["full"] == [("RunStartedEvent", "RunStarted"), ("ToolCallStartedEvent", "ToolCallStarted"),
                                   ("ToolCallCompletedEvent", "ToolCallCompleted")] + \
        [("RunContentEvent", "RunContent")] * 6 + [("RunContentCompletedEvent", "RunContentCompleted"),
                                                   ("RunCompletedEvent", "RunCompleted")]
    assert got["agno"]["last"] == ("RunOutput", "Tool said: Sunny in Paris, 21C", "COMPLETED")


def test_team_and_workflow_stream_their_events(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "a.db"))
    team = Team([Agent(id="echo", model=EchoModel())], id="crew", db=db, model=EchoModel(prefix="Team says "))
    events = list(team.run("hello you", session_id="t", stream=True, stream_events=True))
    assert {e.event for e in events} >= {"TeamRunStarted", "TeamRunContent", "TeamRunCompleted"}
    assert "".join(e.content for e in events if e.event == "TeamRunContent") == "Team says hello you"
    assert all(e.team_id == "crew" for e in events)
    wf = Workflow(id="wf", db=db, steps=[str.upper, str.title])
    events = list(wf.run("hello", session_id="w", stream=True))
    assert [e.event for e in events] == ["WorkflowStarted", "StepStarted", "StepCompleted", "StepStarted",
                                         "StepCompleted", "WorkflowCompleted"]
    assert events[-1].content == "Hello" and wf.get_last_run_output("w").content == "Hello"


def test_async_twins_work_with_await(tmp_path, capsys):
    agent = Agent(id="echo", model=EchoModel(), db=SqliteDb(db_file=str(tmp_path / "a.db")), session_id="s")

    async def scenario():
        out = await agent.arun("one")
        deltas = [e.content async for e in agent.arun("two", stream=True)]
        await agent.aprint_response("three")
        await agent.aset_session_name(session_name="Async chat")
        await agent.aupdate_session_state({"k": 1})
        return (out.content, "".join(deltas), _roles(await agent.aget_chat_history()),
                await agent.aget_session_name(), await agent.aget_session_state(),
                (await agent.aget_last_run_output()).content, (await agent.aget_run_output(out.run_id)).content,
                (await agent.aget_session_metrics()).total_tokens, await agent.aget_session_summary(),
                len(await agent.aget_session_messages()), (await agent.aget_session()).session_id)

    got = asyncio.run(scenario())
    assert got[:6] == ("Echo: one", "Echo: two",
                       [("user", "one"), ("assistant", "Echo: one"), ("user", "two"), ("assistant", "Echo: two"),
                        ("user", "three"), ("assistant", "Echo: three")],
                       "Async chat", {"k": 1}, "Echo: three")
    assert got[6] == "Echo: one" and got[7] > 0 and got[8] is None and got[9] == 6 and got[10] == "s"
    assert "Echo: three" in capsys.readouterr().out
    asyncio.run(agent.aprint_response("four", stream=True))
    assert "◀ echo: Echo: four" in capsys.readouterr().out
    asyncio.run(agent.adelete_session("s"))
    assert agent.get_session() is None


def test_print_response_shows_the_duration_in_milliseconds(tmp_path, capsys):
    agent = Agent(name="Echo", model=EchoModel(), db=SqliteDb(db_file=str(tmp_path / "a.db")))
    agent.print_response("hello", session_id="s")
    out = capsys.readouterr().out
    assert "0.000s" not in out
    assert re.search(r"· \d[\d,]*\.\d ms ·", out), out
    agent.print_response("streamed reply", session_id="s", stream=True, markdown=False)
    out = capsys.readouterr().out
    assert "Echo: streamed reply" in out and re.search(r"\d ms ·", out)


def test_constructor_session_flags(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "a.db"))
    # session_id / user_id defaults; cache_session; overwrite_db_session_state
    agent = Agent(id="a", model=EchoModel(), db=db, session_id="fixed", user_id="bob", cache_session=True,
                  session_state={"x": 1})
    agent.run("hi", session_state={"y": 2})
    first = agent.get_session()
    assert first.session_id == "fixed" and first.user_id == "bob" and agent.get_session() is first
    assert agent.get_session_state() == {"x": 1, "y": 2}
    agent.run("again")
    assert agent.get_session() is not first and len(agent.get_session().runs) == 2
    over = Agent(id="a", model=EchoModel(), db=db, session_id="fixed", overwrite_db_session_state=True)
    assert over.run("hi", session_state={"z": 3}).session_state == {"z": 3}
    # store_history_messages=False (Agno's default) keeps history copies out of the stored run
    lean = Agent(id="b", model=EchoModel(), db=db, add_history_to_context=True, store_history_messages=False)
    lean.run("one", session_id="h")
    out = lean.run("two", session_id="h")
    assert not any(m.from_history for m in out.messages)
    full = Agent(id="c", model=EchoModel(), db=db, add_history_to_context=True)
    full.run("one", session_id="h2")
    assert [m.content for m in full.run("two", session_id="h2").messages if m.from_history] == ["one", "Echo: one"]
    # read_chat_history: the model gets a get_chat_history tool over the stored session
    reader = Agent(id="d", db=db, read_chat_history=True, model=ScriptedModel(
        ["Noted.", tool_call("get_chat_history", {"num_chats": 1}), "You said: first"]))
    reader.run("first", session_id="r")
    out = reader.run("What did I say?", session_id="r")
    assert out.tools[0].tool_name == "get_chat_history"
    assert json.loads(out.tools[0].result) == [{"role": "user", "content": "first"},
                                               {"role": "assistant", "content": "Noted."}]
    with pytest.warns(UserWarning, match="never calls tools"):
        Agent(model=EchoModel(), read_chat_history=True)
    with pytest.raises(ValueError, match="num_history_runs or num_history_messages"):
        Agent(num_history_runs=2, num_history_messages=4)
    with pytest.raises(ValueError, match="no session_id"):
        Agent(model=EchoModel(), db=db).get_session()


def test_records_written_by_agno_round_trip_exactly(tmp_path, openai_server):
    """Runs, inputs, messages, tools, metrics and session metrics agno wrote come back as the same JSON."""
    import sqlite3

    from agno.db.sqlite import SqliteDb as AgnoSqliteDb

    from agno_nb.records import RunOutput, SessionMetrics

    path = str(tmp_path / "agno.db")
    agent = agno.agent.Agent(model=_agno_model(openai_server), db=AgnoSqliteDb(db_file=path), telemetry=False,
                             tools=[get_weather], add_history_to_context=True, store_history_messages=True)
    for q in ("one", "two"):
        agent.run(q, session_id="s", user_id="u")
    con = sqlite3.connect(path)
    try:
        runs = [json.loads(raw) for (raw,) in con.execute("select run_data from agno_runs")]
        (session_data,) = con.execute("select session_data from agno_sessions").fetchone()
    finally:
        con.close()
    assert len(runs) == 2 and any(r["tools"] for r in runs)
    for raw in runs:
        run = RunOutput.from_dict(raw)
        assert run.to_dict() == raw
        assert run.input.input_content == raw["input"]["input_content"] and run.metrics.total_tokens > 0
    stored = json.loads(session_data)["session_metrics"]
    metrics = SessionMetrics.from_dict(stored)
    assert metrics.to_dict() == stored and metrics.details["model"][0]["id"] == "fake-model"


def test_event_classes_have_agnos_names_and_attributes():
    import dataclasses

    import agno.run.agent as agno_agent_events
    import agno.run.workflow as agno_workflow_events

    for name in nb_events.__all__:
        if name.startswith("Base"):
            continue
        theirs = getattr(agno_agent_events, name, None) or getattr(agno_workflow_events, name)
        ours = getattr(nb_events, name)
        their_fields = {f.name for f in dataclasses.fields(theirs)}
        mine = {f.name for f in dataclasses.fields(ours) if f.name != "kind"} - {"team_id", "team_name"}
        assert mine <= their_fields, (name, mine - their_fields)
        assert ours().event == theirs().event, name


def test_a_failing_stream_ends_with_an_error_event_and_a_stored_error_run(tmp_path, openai_server):
    agent = Agent(id="w", model=OpenAILike(id="fake-model", base_url=openai_server.base_url),
                  db=SqliteDb(db_file=str(tmp_path / "a.db")))
    openai_server.fail_next = 503
    with pytest.warns(RuntimeWarning, match="HTTP 503"):
        events = list(agent.run("hi", session_id="s", stream=True, stream_events=True, yield_run_output=True))
    assert [e.event for e in events[:-1]] == ["RunStarted", "RunError"] and "HTTP 503" in events[1].content
    assert events[-1].status == "ERROR" and agent.get_session("s").runs[0].status == "ERROR"
    assert [e.content for e in agent.run("again", session_id="s", stream=True) if e.content] == ["Echo: ", "again"]
