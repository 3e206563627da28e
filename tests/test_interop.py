"""Interop with the real agno package (3.1.x from PyPI), both ways, SQLite and PostgreSQL (MySQL: tests/test_mysql.py)."""

import json
import os


from agno_nb import Agent, Team
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel, ScriptedModel, tool_call
from _helpers import get_weather

os.environ.setdefault("AGNO_TELEMETRY", "false")


def _agno_db(backend, tmp_path, request):
    if backend == "sqlite":
        from agno.db.sqlite import SqliteDb as AgnoSqliteDb

        path = str(tmp_path / "agno.db")
        return AgnoSqliteDb(db_file=path), SqliteDb(db_file=path)
    if backend == "mysql":
        from agno.db.mysql import MySQLDb as AgnoMySQLDb

        from agno_nb.db.mysql import MySQLDb

        url, schema = request.getfixturevalue("mysql_url"), request.getfixturevalue("mysql_schema")
        theirs, ours = AgnoMySQLDb(db_url=url, db_schema=schema), MySQLDb(db_url=url, db_schema=schema)
        request.addfinalizer(lambda: (theirs.db_engine.dispose(), ours.close()))
        return theirs, ours
    from agno.db.postgres import PostgresDb as AgnoPostgresDb

    from agno_nb.db.postgres import PostgresDb

    url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
    theirs, ours = AgnoPostgresDb(db_url=url, db_schema=schema), PostgresDb(url, db_schema=schema)
    request.addfinalizer(lambda: (theirs.db_engine.dispose(), ours.close()))
    return theirs, ours


def _json(value):
    """agno 3.1 on MariaDB reads the JSON columns of tables it reflects (did not create itself) as text."""
    return json.loads(value) if isinstance(value, str) else value


def _shape(run):
    return [(m.role, m.content, m.tool_call_id) for m in run.messages]


def test_real_agno_reads_what_agno_nb_wrote(backend, tmp_path, request):
    agno_db, ours = _agno_db(backend, tmp_path, request)
    agent = Agent(name="Weather", id="weather", db=ours, tools=[get_weather], add_history_to_context=True,
                  model=ScriptedModel([tool_call("get_weather", {"city": "Oslo"}), "Sunny, go."], cycle=True))
    written = [agent.run(q, session_id="s1", user_id="alice") for q in ("Picnic?", "And tomorrow?")]
    team = Team(name="Crew", id="crew", db=ours, members=[Agent(id="echo", model=EchoModel())],
                model=ScriptedModel([tool_call("delegate_task_to_member", {"member_id": "echo", "task": "hi"}), "Done."]))
    team_out = team.run("Say hi", session_id="t1", user_id="alice")

    session = agno_db.get_session("s1", session_type=None)
    assert session.session_id == "s1" and session.user_id == "alice" and session.agent_id == "weather"
    assert [r.run_id for r in session.runs] == [r.run_id for r in written]
    for theirs, mine in zip(session.runs, written):
        assert _shape(theirs) == _shape(mine)
        assert theirs.content == mine.content and theirs.metrics.total_tokens == mine.metrics.total_tokens
        assert [(t.tool_name, t.tool_args, t.result) for t in theirs.tools] == [("get_weather", {"city": "Oslo"}, "Sunny in Oslo, 21C")]
    assert _json(session.session_data)["session_metrics"]["total_tokens"] == sum(r.metrics.total_tokens for r in written)

    team_session = agno_db.get_session("t1", session_type=None)
    assert type(team_session).__name__ == "TeamSession"
    ids = {r.run_id: r for r in team_session.runs}
    assert team_out.run_id in ids
    member = [r for r in team_session.runs if r.run_id != team_out.run_id]
    assert len(member) == 1 and member[0].parent_run_id == team_out.run_id and member[0].content == "Echo: hi"


def test_agno_nb_reads_what_real_agno_wrote(backend, tmp_path, request, openai_server):
    from agno.agent import Agent as AgnoAgent
    from agno.models.openai.like import OpenAILike as AgnoOpenAILike

    agno_db, ours = _agno_db(backend, tmp_path, request)
    agno_agent = AgnoAgent(name="Weather", id="weather-agent", db=agno_db, tools=[get_weather], telemetry=False,
                           add_history_to_context=True,
                           model=AgnoOpenAILike(id="fake-model", base_url=openai_server.base_url, api_key="sk-test"))
    outs = [agno_agent.run(q, session_id="picnic", user_id="bob") for q in ("Picnic in Paris?", "Umbrella?")]
    theirs = agno_db.get_session("picnic", session_type=None)

    session = ours.get_session("picnic")
    assert session.session_type == "agent" and session.user_id == "bob" and session.agent_id == "weather-agent"
    assert [r.run_id for r in session.runs] == [o.run_id for o in outs] == [r.run_id for r in theirs.runs]
    for mine, agno_run in zip(session.runs, theirs.runs):
        assert _shape(mine) == _shape(agno_run)
        assert mine.status == "COMPLETED" and mine.metrics.total_tokens == agno_run.metrics.total_tokens
        assert [(t.tool_name, t.result) for t in mine.tools] == [(t.tool_name, t.result) for t in agno_run.tools]
    assert session.runs[0].tools[0].result == "Sunny in Paris, 21C"
    # and we can go on writing the session agno started; agno still reads it
    Agent(id="weather-agent", db=ours, model=EchoModel()).run("Thanks!", session_id="picnic", user_id="bob")
    assert len(agno_db.get_session("picnic", session_type=None).runs) == 3
