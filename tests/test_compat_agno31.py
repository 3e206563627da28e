"""Agno 3.1 code that must run unchanged on agno_nb (issue 18, finding 8).

Each scenario goes through the real agno 3.1.10 and through agno_nb, against the same local
OpenAI-compatible server, and the two are compared: tools taking ``run_context`` (and the
other parameters Agno injects), a tool that raises, workflow inputs as stored, and
Agno's constructor flags.
"""

from __future__ import annotations

import inspect
import os

import pytest

os.environ.setdefault("AGNO_TELEMETRY", "false")

import agno.agent  # noqa: E402
import agno.team  # noqa: E402
import agno.workflow  # noqa: E402
from agno.db.sqlite import SqliteDb as AgnoSqliteDb  # noqa: E402
from agno.models.openai.like import OpenAILike as AgnoOpenAILike  # noqa: E402
from agno.run import RunContext as AgnoRunContext  # noqa: E402

import agno_nb  # noqa: E402
from agno_nb import Agent, RunContext, Team, Workflow  # noqa: E402
from agno_nb.db.sqlite import SqliteDb  # noqa: E402
from agno_nb.models import EchoModel, OpenAILike  # noqa: E402
from agno_nb.testing import FakeOpenAIServer  # noqa: E402

# ---------------------------------------------------------------------------------------
# tools written the Agno 3.1 way
# ---------------------------------------------------------------------------------------


def add_item(item: str, run_context: AgnoRunContext) -> str:
    """Add an item to the shopping list (Agno 3.1's documented example, annotated with agno's class)."""
    run_context.session_state.setdefault("items", []).append(item)
    return f"added {item} in {run_context.session_id} for {run_context.user_id} ({run_context.metadata})"


def whoami(item: str, agent, ctx: RunContext, images=None, files=None) -> str:
    """Who runs this tool: ``agent`` by name, ``ctx`` by its annotation, media by name."""
    return f"{agent.name} {ctx.session_id} {ctx.run_id is not None} {images} {files}"


def boom(item: str) -> str:
    """A tool that raises."""
    raise ValueError(f"cannot add {item}")


@pytest.fixture
def server():
    with FakeOpenAIServer(tool_args={"add_item": {"item": "milk"}, "whoami": {"item": "x"},
                                     "boom": {"item": "eggs"}}) as srv:
        yield srv


def _both(server, tmp_path, tool):
    """The same agent in agno and in agno_nb, each on its own SQLite file."""
    kw = dict(name="Shopper", id="shopper", tools=[tool], session_state={"items": []})
    theirs = agno.agent.Agent(model=AgnoOpenAILike(id="m", base_url=server.base_url, api_key="k"),
                              db=AgnoSqliteDb(db_file=str(tmp_path / "agno.db")), telemetry=False, **kw)
    ours = Agent(model=OpenAILike(id="m", base_url=server.base_url, api_key="k"),
                 db=SqliteDb(db_file=str(tmp_path / "nb.db")), **kw)
    return {"agno": theirs, "agno_nb": ours}


def _schemas(server):
    return [t["function"]["parameters"] for r in server.requests for t in (r.get("tools") or [])]


def test_run_context_tool_changes_the_session_state_as_in_agno(server, tmp_path):
    got = {}
    for name, agent in _both(server, tmp_path, add_item).items():
        server.requests.clear()
        out = agent.run("buy milk", session_id="s1", user_id="alice", metadata={"list": "weekly"})
        call = out.tools[0]
        got[name] = (str(out.status).rsplit(".", 1)[-1].upper(), call.tool_call_error, call.result,
                     agent.get_session_state("s1"), _schemas(server))
    assert got["agno_nb"] == got["agno"]
    assert got["agno"][2] == "added milk in s1 for alice ({'list': 'weekly'})"
    assert got["agno"][3] == {"items": ["milk"]}
    # run_context is the runtime's: the model never sees it
    assert got["agno"][4][0] == {"type": "object", "properties": {"item": {"type": "string"}}, "required": ["item"]}


def test_agent_media_and_annotated_run_context_are_injected(server, tmp_path):
    ours = _both(server, tmp_path, whoami)["agno_nb"]
    out = ours.run("who", session_id="s1")
    assert (out.tools[0].tool_call_error, out.tools[0].result) == (False, "Shopper s1 True None None")
    assert list(_schemas(server)[0]["properties"]) == ["item"]


def test_a_teams_tool_gets_the_team_and_no_agent(tmp_path):
    from agno_nb.models import ScriptedModel, tool_call

    def roster(topic: str, team, run_context: RunContext, agent=None) -> str:
        """The team's members."""
        run_context.session_state["asked"] = topic
        return f"{team.name}: {[m.id for m in team.members]} agent={agent}"

    team = Team([Agent(id="m", model=EchoModel())], name="Crew", db=SqliteDb(db_file=str(tmp_path / "t.db")),
                tools=[roster], model=ScriptedModel([tool_call("roster", {"topic": "x"}), "Done."]))
    out = team.run("who?", session_id="s1")
    assert (out.tools[0].tool_call_error, out.tools[0].result) == (False, "Crew: ['m'] agent=None")
    assert team.get_session_state("s1") == {"asked": "x"}


def test_a_tool_that_raises_is_an_error_call_in_a_completed_run_as_in_agno(server, tmp_path):
    got = {}
    for name, agent in _both(server, tmp_path, boom).items():
        out = agent.run("buy eggs", session_id="s1")
        stored = agent.get_session("s1").runs[0]
        got[name] = [(str(r.status).rsplit(".", 1)[-1].upper(), r.tools[0].tool_call_error,
                      "cannot add eggs" in r.tools[0].result) for r in (out, stored)]
    assert got["agno_nb"] == got["agno"] == [("COMPLETED", True, True)] * 2


def test_run_context_has_agnos_fields():
    ours = {f for f in inspect.signature(RunContext).parameters}
    theirs = {f for f in inspect.signature(AgnoRunContext).parameters}
    assert ours == theirs
    assert agno_nb.RunContext is agno_nb.agent.RunContext


# ---------------------------------------------------------------------------------------
# workflow inputs, stored as Agno stores them
# ---------------------------------------------------------------------------------------


def _upper(step_input):
    from agno.workflow.types import StepOutput

    return StepOutput(content=str(step_input.input).upper())


def _stored_inputs(path):
    import json
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return [json.loads(d).get("input") for (d,) in con.execute("select run_data from agno_runs order by created_at")]
    finally:
        con.close()


def test_workflow_input_is_stored_as_agno_stores_it_and_agno_reads_it(tmp_path):
    path = str(tmp_path / "wf.db")
    theirs = agno.workflow.Workflow(id="wf", name="Pipeline", db=AgnoSqliteDb(db_file=path), steps=[_upper],
                                    telemetry=False)
    theirs.run("rain", session_id="agno")
    ours = Workflow(id="wf", name="Pipeline", db=SqliteDb(db_file=path), steps=[str.upper])
    ours.run("snow", session_id="nb")
    ours.run({"topic": "hail"}, session_id="nb")
    assert _stored_inputs(path) == ["rain", "snow", {"topic": "hail"}]  # agno's form, not {"input_content": ...}
    # real agno reads agno_nb's runs: its history shows the text, not a JSON blob
    session = AgnoSqliteDb(db_file=path).get_session("nb", session_type=None)
    assert [r.input for r in session.runs] == ["snow", {"topic": "hail"}]
    assert session.get_workflow_history()[0] == ("snow", "SNOW")
    # agno_nb reads agno's runs, its own, and the wrapped form it wrote before
    assert [c.input for c in ours.get_chat_history("nb")] == ["snow", {"topic": "hail"}]
    assert ours.get_chat_history("agno")[0].input == "rain"
    from agno_nb.records import RunOutput

    old = RunOutput.from_dict({"run_id": "r", "workflow_id": "wf", "input": {"input_content": "fog"}})
    assert old.input_content == "fog"
    runs = agno_nb.connect(path).runs()
    assert sorted(runs.input) == sorted(["rain", "snow", '{"topic":"hail"}'])


# ---------------------------------------------------------------------------------------
# Agno's constructor flags
# ---------------------------------------------------------------------------------------

AGNO_CLASSES = {"Agent": agno.agent.Agent, "Team": agno.team.Team, "Workflow": agno.workflow.Workflow}


@pytest.mark.parametrize("cls_name", ["Agent", "Team", "Workflow"])
def test_every_agno_constructor_flag_is_a_parameter_or_an_accepted_flag(cls_name):
    from agno_nb.agent import agno_flags

    ours = getattr(agno_nb, cls_name)
    explicit = {n for n, p in inspect.signature(ours.__init__).parameters.items()
                if p.kind is not p.VAR_KEYWORD and n != "self"}
    accepted = set(getattr(agno_flags, f"{cls_name.upper()}_FLAGS"))
    theirs = set(inspect.signature(AGNO_CLASSES[cls_name].__init__).parameters) - {"self"}
    assert explicit & accepted == set()
    assert explicit | accepted == theirs
    # each flag's default as in agno
    for name in accepted:
        default = inspect.signature(AGNO_CLASSES[cls_name].__init__).parameters[name].default
        ours_default = agno_flags.agno_default(name)
        assert ours_default == default or (ours_default in (None, False) and default in (None, False)), name


def test_agno_flags_are_accepted_kept_and_said_to_have_no_effect(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "a.db"))
    member = Agent(id="m", model=EchoModel(), telemetry=False, debug_mode=True)  # silent: logging only
    assert member.telemetry is False and member.update_memory_on_run is False and member.agno_flags == {
        "telemetry": False, "debug_mode": True}
    with pytest.warns(UserWarning, match=r"Team\(update_memory_on_run=..., mode=...\): .*user memories") as caught:
        team = Team([member], id="t", db=db, model=EchoModel(), update_memory_on_run=True, mode="coordinate")
    assert caught[0].filename == __file__  # points at the user's line, not at agno_nb
    assert team.update_memory_on_run is True and team.mode == "coordinate"
    assert team.run("hi", session_id="s").status == "COMPLETED"
    wf = Workflow(id="w", db=db, steps=[str.upper], stream=False, telemetry=False, store_executor_outputs=True)
    assert wf.run("x", session_id="w").content == "X"
    with pytest.raises(TypeError, match="no_such_flag"):
        Agent(model=EchoModel(), no_such_flag=1)
