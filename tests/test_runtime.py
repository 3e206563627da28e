"""Agents, teams and workflows writing real sessions (SQLite and PostgreSQL)."""

import datetime
import io

import pytest

from agno_nb import Agent, Step, Team, Workflow
from agno_nb.models import EchoModel, ModelError, OpenAILike, ScriptedModel, tool_call
from _helpers import get_weather


def test_agent_stores_runs_with_messages_tools_and_metrics(db):
    agent = Agent(name="Weather", id="weather", db=db, tools=[get_weather], instructions=["Be brief."],
                  model=ScriptedModel([tool_call("get_weather", {"city": "Oslo"}), "It is sunny."], cycle=True))
    out = agent.run("Weather in Oslo?", session_id="s1", user_id="alice")
    assert out.status == "COMPLETED" and out.content == "It is sunny."
    assert [m.role for m in out.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert out.tools[0].result == "Sunny in Oslo, 21C" and out.tools[0].tool_call_error is False
    assert out.metrics.total_tokens == sum(m.metrics.total_tokens for m in out.messages if m.metrics)
    assert out.metrics.duration > 0 and out.metrics.time_to_first_token is not None
    stored = agent.get_session(session_id="s1")
    assert stored.session_id == "s1" and stored.agent_id == "weather" and stored.user_id == "alice"
    assert stored.runs[0].to_dict() == out.to_dict()
    assert stored.agent_data["model"] == {"name": "ScriptedModel", "provider": "agno_nb", "id": "scripted"}


def test_new_session_id_when_none_given_sticks_to_the_agent(db):
    # Agno's rule: without a session_id the agent makes one and keeps using it.
    agent = Agent(model=EchoModel(), db=db)
    a, b = agent.run("one"), agent.run("two")
    assert a.session_id and a.session_id == b.session_id == agent.session_id
    assert [r.content for r in agent.get_session(a.session_id).runs] == ["Echo: one", "Echo: two"]
    other = Agent(model=EchoModel(), db=db).run("three")
    assert other.session_id != a.session_id


def test_print_response_prints_and_stores(db):
    agent = Agent(name="Echo", model=EchoModel(), db=db)
    buf = io.StringIO()
    agent.print_response("What is the capital of France?", session_id="session_123", file=buf)
    assert "Echo: What is the capital of France?" in buf.getvalue()
    assert len(agent.get_session(session_id="session_123").runs) == 1


def test_history_goes_to_the_model_and_is_marked(db):
    agent = Agent(model=EchoModel(), db=db, add_history_to_context=True, num_history_runs=2)
    for text in ("first", "second", "third"):
        out = agent.run(text, session_id="s1")
    history = [m.content for m in out.messages if m.from_history]
    assert history == ["first", "Echo: first", "second", "Echo: second"]
    assert [m.content for m in out.messages if not m.from_history] == ["third", "Echo: third"]


def test_tool_error_is_recorded_not_raised(db):
    agent = Agent(db=db, tools=[get_weather],
                  model=ScriptedModel([tool_call("get_weather", {"city": "Atlantis"}), "Sorry."]))
    out = agent.run("Weather in Atlantis?", session_id="s1")
    assert out.status == "COMPLETED"
    assert out.tools[0].tool_call_error is True and "no such city" in out.tools[0].result
    assert agent.get_session("s1").runs[0].tools[0].tool_call_error is True


def test_failed_model_call_is_kept_as_error_run(db):
    agent = Agent(db=db, model=ScriptedModel(["only one"]))
    agent.run("a", session_id="s1")
    with pytest.warns(RuntimeWarning, match="ran out of responses"):
        out = agent.run("b", session_id="s1")
    assert out.status == "ERROR" and "ran out of responses" in out.content
    assert [r.status for r in agent.get_session("s1").runs] == ["COMPLETED", "ERROR"]


def test_session_state_persists_and_tools_can_change_it(db):
    def add_item(item: str, session_state: dict) -> str:
        """Add an item to the shopping list."""
        session_state.setdefault("items", []).append(item)
        return f"added {item}"

    model = ScriptedModel([tool_call("add_item", {"item": "milk"}), "ok", tool_call("add_item", {"item": "eggs"}), "ok"])
    agent = Agent(db=db, model=model, tools=[add_item], session_state={"items": [], "owner": "alice"})
    agent.run("milk please", session_id="s1")
    assert "session_state" not in str(agent.tools[0].to_openai())  # injected, not shown to the model
    again = Agent(db=db, model=model, tools=[add_item], session_state={"items": []})
    again.run("eggs too", session_id="s1")
    assert again.get_session("s1").session_state == {"items": ["milk", "eggs"], "owner": "alice"}


def test_session_summary_and_name(db):
    model = ScriptedModel(["Paris.", "Alice asked about France. Topics: geography, France"])
    agent = Agent(db=db, model=model, enable_session_summaries=True)
    agent.run("Capital of France?", session_id="s1")
    session = agent.get_session("s1")
    assert session.summary["summary"] == "Alice asked about France."
    assert session.summary.topics == ["geography", "France"] and session.summary.summary == session.summary["summary"]
    # As Agno: a datetime on the object, ISO text in the stored JSON.
    assert isinstance(session.summary.updated_at, datetime.datetime)
    assert session.summary.to_dict()["updated_at"] == session.summary.updated_at.isoformat()
    agent.rename_session("s1", "Geography quiz")
    assert agent.get_session("s1").session_name == "Geography quiz"


def test_team_delegates_and_stores_member_runs(db):
    researcher = Agent(name="Researcher", id="researcher", model=EchoModel())
    writer = Agent(name="Writer", id="writer", model=ScriptedModel(["A fine summary."]))
    leader = ScriptedModel([
        [tool_call("delegate_task_to_member", {"member_id": "researcher", "task": "find facts"}),
         tool_call("delegate_task_to_member", {"member_id": "writer", "task": "write it up"})],
        "Here is the report.",
    ])
    team = Team(name="Crew", id="crew", model=leader, members=[researcher, writer], db=db)
    out = team.run("Report on owls", session_id="t1", user_id="alice")
    assert out.content == "Here is the report." and out.team_id == "crew"
    session = team.get_session(session_id="t1")
    assert session.session_type == "team" and session.team_id == "crew"
    assert [(r.run_type, r.agent_id) for r in session.runs] == [("team", None), ("agent", "researcher"), ("agent", "writer")]
    assert all(r.parent_run_id == out.run_id for r in session.runs[1:])
    assert session.runs[1].content == "Echo: find facts"
    assert {t.child_run_id for t in out.tools} == {r.run_id for r in session.runs[1:]}
    total = sum(r.metrics.total_tokens for r in session.runs)
    assert session.session_metrics.total_tokens == total


def test_workflow_stores_whole_pipeline_runs(db):
    drafter = Agent(name="Drafter", id="drafter", model=EchoModel(prefix="Draft: "))
    team = Team(name="Editors", id="editors", members=[Agent(id="ed", model=EchoModel())],
                model=ScriptedModel([tool_call("delegate_task_to_member", {"member_id": "ed", "task": "edit"}), "Edited."]))
    wf = Workflow(name="Blog", id="blog", db=db, steps=[drafter, Step("shout", str.upper), team])
    out = wf.run("owls", session_id="w1")
    assert out.status == "COMPLETED" and out.content == "Edited."
    assert [s["step_name"] for s in out.step_results] == ["Drafter", "shout", "Editors"]
    assert out.step_results[1]["content"] == "DRAFT: OWLS"
    session = wf.get_session(session_id="w1")
    assert session.session_type == "workflow" and session.workflow_id == "blog"
    (run,) = session.runs
    assert run.run_type == "workflow" and run.input_content == "owls"
    children = run.step_executor_runs
    assert [c.agent_id or c.team_id for c in children] == ["drafter", "editors", "ed"]
    assert children[0].parent_run_id == run.run_id and children[2].parent_run_id == children[1].run_id


def test_workflow_step_error_stops_and_is_stored(db):
    def boom(_):
        raise RuntimeError("disk full")

    wf = Workflow(name="W", db=db, steps=[str.upper, boom, str.lower])
    out = wf.run("x", session_id="w1")
    assert out.status == "ERROR" and len(out.step_results) == 2 and "disk full" in out.content
    assert wf.get_session("w1").runs[0].status == "ERROR"


def test_openai_like_against_local_server(db, openai_server):
    model = OpenAILike(id="fake-model", base_url=openai_server.base_url, api_key="sk-test")
    agent = Agent(name="Weather", db=db, model=model, tools=[get_weather])
    out = agent.run("Is it picnic weather?", session_id="s1")
    assert out.content == "Tool said: Sunny in Paris, 21C"
    assert out.metrics.input_tokens > 0 and out.metrics.total_tokens == out.metrics.input_tokens + out.metrics.output_tokens
    assert out.messages[1].provider_data == {"id": "chatcmpl-1", "finish_reason": "tool_calls"}
    first = openai_server.requests[0]
    assert first["model"] == "fake-model" and first["tools"][0]["function"]["name"] == "get_weather"
    assert first["tools"][0]["function"]["parameters"]["properties"] == {"city": {"type": "string"}}
    second = openai_server.requests[1]
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": "Sunny in Paris, 21C"}


def test_openai_like_errors_are_clear(openai_server):
    model = OpenAILike(id="m", base_url="http://127.0.0.1:1/v1")
    with pytest.raises(ModelError, match="cannot reach model endpoint http://127.0.0.1:1/v1"):
        model.invoke([])
    model = OpenAILike(id="m", base_url=openai_server.base_url)
    openai_server.fail_next = 500
    with pytest.raises(ModelError, match="HTTP 500"):
        model.invoke([])
    bad_path = OpenAILike(id="m", base_url=openai_server.base_url + "/wrong")
    with pytest.raises(ModelError, match="HTTP 404"):
        bad_path.invoke([])
