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
