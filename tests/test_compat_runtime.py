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
