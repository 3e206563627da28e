"""The four DataFrames, filters, SQL and Parquet, against the fixtures and agno_nb's own sessions."""

import datetime as dt
import os
import warnings

import pandas as pd
import pytest

import agno_nb
from agno_nb import Agent, CorruptRowError, Step, Team, Workflow
from agno_nb.analysis.columns import TABLES
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel, ScriptedModel, tool_call

from conftest import FIXTURES
from _helpers import DTYPES, get_weather

SPEC_COLUMNS = {
    "sessions": "session_id session_type agent_id team_id workflow_id user_id session_name created_at updated_at "
                "n_runs input_tokens output_tokens total_tokens",
    "runs": "run_id session_id parent_run_id run_index run_type agent_id team_id workflow_id user_id status model "
            "model_provider input content created_at input_tokens output_tokens total_tokens duration "
            "time_to_first_token n_messages n_tool_calls",
    "messages": "session_id run_id message_index message_id role content tool_call_id tool_name from_history "
                "created_at input_tokens output_tokens total_tokens duration agent_id user_id",
    "tool_calls": "session_id run_id tool_call_id tool_name tool_args result tool_call_error duration created_at agent_id",
}


def write_sessions(db):
    """Agent, team and workflow sessions over two users; returns what the runtime produced."""
    weather = Agent(name="Weather", id="weather", db=db, tools=[get_weather], add_history_to_context=True,
                    model=ScriptedModel([tool_call("get_weather", {"city": "Oslo"}), "Sunny.",
                                         tool_call("get_weather", {"city": "Atlantis"}), "Unknown city."]))
    outs = [weather.run("Oslo?", session_id="w-1", user_id="alice"), weather.run("Atlantis?", session_id="w-1", user_id="alice")]
    echo = Agent(name="Echo", id="echo", db=db, model=EchoModel())
    outs.append(echo.run("hello <b>there</b>", session_id="e-1", user_id="bob"))
    team = Team(name="Crew", id="crew", db=db, members=[Agent(id="member", model=EchoModel())],
                model=ScriptedModel([tool_call("delegate_task_to_member", {"member_id": "member", "task": "do it"}), "Done."]))
    outs.append(team.run("Go", session_id="t-1", user_id="bob"))
    wf = Workflow(name="Pipe", id="pipe", db=db, steps=[Agent(id="step-agent", model=EchoModel()), Step("upper", str.upper)])
    outs.append(wf.run("draft", session_id="f-1", user_id="alice"))
    return outs


@pytest.fixture
def written(db):
    outs = write_sessions(db)
    return db, outs


def test_declared_columns_cover_the_spec():
    for table, names in SPEC_COLUMNS.items():
        declared = [c.name for c in TABLES[table]]
        assert set(names.split()) <= set(declared), table
        assert len(declared) == len(set(declared)), f"duplicate column in {table}"
    doc = agno_nb.describe()
    from agno_nb.analysis.stored import STORED

    assert set(doc["table"]) == set(TABLES) | {"annotations", "flags"} | set(STORED)
    assert doc["description"].str.len().min() > 3


@pytest.mark.parametrize("fixture", ["agno-3.1-sqlite.db", "agno-2.9-sqlite.db"])
def test_fixture_tables(fixture):
    ex = agno_nb.connect(FIXTURES / fixture)
    for name, cols in TABLES.items():
        df = ex.table(name)
        assert list(df.columns) == [c.name for c in cols]
        for c in cols:
            assert str(df[c.name].dtype) == DTYPES[c.duckdb_type], (name, c.name)
    sessions, runs, messages, tools = ex.sessions(), ex.runs(), ex.messages(), ex.tool_calls()
    assert (len(sessions), len(runs), len(messages), len(tools)) == (3, 7, 16, 1)
    assert dict(zip(sessions.session_id, sessions.n_runs)) == {"lit-0": 3, "lit-1": 3, "picnic-1": 1}
    # run token totals add up to what agno recorded for each session
    by_session = runs.groupby("session_id")["total_tokens"].sum().to_dict()
    assert by_session == dict(zip(sessions.session_id, sessions.total_tokens)) == {"lit-0": 203, "lit-1": 203, "picnic-1": 131}
    picnic = messages[messages.session_id == "picnic-1"]
    assert list(picnic.message_index) == [0, 1, 2, 3]
    assert list(picnic.role) == ["user", "assistant", "tool", "assistant"]
    assert picnic.iloc[2].content == "Sunny in Paris, 21C"
    # the tool call matches its tool message by id
    assert tools.iloc[0].tool_call_id == picnic.iloc[2].tool_call_id
    assert tools.iloc[0].tool_args == '{"city":"Paris"}' and tools.iloc[0].result == "Sunny in Paris, 21C"
    assert runs.loc[runs.session_id == "lit-0", "run_index"].tolist() == [0, 1, 2]
    assert (runs.created_at.dt.year == 2026).all() and str(runs.created_at.dt.tz) == "UTC"
    assert "<script>alert(1)</script>" in messages.content.str.cat()


def test_both_fixture_layouts_give_the_same_tables():
    a = agno_nb.connect(FIXTURES / "agno-3.1-sqlite.db")
    b = agno_nb.connect(FIXTURES / "agno-2.9-sqlite.db")
    cols = ["session_id", "role", "content", "message_index", "input_tokens"]
    ma = a.messages()[cols].sort_values(cols[:2] + ["message_index"]).reset_index(drop=True)
    mb = b.messages()[cols].sort_values(cols[:2] + ["message_index"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ma.drop(columns="content"), mb.drop(columns="content"))


def test_tables_from_agno_nb_runtime(written):
    db, outs = written
    ex = agno_nb.connect(db)
    runs = ex.runs()
    # 2 weather + 1 echo + team + member + workflow + its step run
    assert len(runs) == 7
    team_run = runs[runs.run_type == "team"].iloc[0]
    member = runs[runs.agent_id == "member"].iloc[0]
    assert member.parent_run_id == team_run.run_id
    delegation = ex.tool_calls(team_id="crew")
    assert list(delegation.tool_name) == ["delegate_task_to_member"]
    assert delegation.iloc[0].child_run_id == member.run_id  # the call joins to the run it started
    wf_run = runs[runs.run_type == "workflow"].iloc[0]
    step = runs[runs.agent_id == "step-agent"].iloc[0]
    assert step.parent_run_id == wf_run.run_id and step.session_id == "f-1" and step.content == "Echo: draft"
    assert wf_run.content == "ECHO: DRAFT"
    messages = ex.messages()
    for out in outs[:3]:
        mine = messages[messages.run_id == out.run_id].sort_values("message_index")
        assert list(mine.role) == [m.role for m in out.messages]
        assert list(mine.content.fillna("")) == [m.content or "" for m in out.messages]
        assert mine.total_tokens.sum() == out.metrics.total_tokens
    second = messages[messages.run_id == outs[1].run_id]
    assert second.from_history.sum() == 4  # first run's user, assistant, tool, assistant
    tools = ex.tool_calls(session_ids=["w-1"])
    assert list(tools.tool_name) == ["get_weather", "get_weather"]
    assert list(tools.tool_call_error) == [False, True]
    tool_msgs = messages[(messages.role == "tool") & (messages.session_id == "w-1")]
    assert set(tool_msgs.tool_call_id) == set(tools.tool_call_id)
    sessions = ex.sessions()
    assert dict(zip(sessions.session_id, sessions.n_runs)) == {"w-1": 2, "e-1": 1, "t-1": 1, "f-1": 1}
    session_total = dict(zip(sessions.session_id, sessions.total_tokens))
    assert session_total["w-1"] == runs[runs.session_id == "w-1"].total_tokens.sum()


def test_filters_are_applied(written):
    db, outs = written
    ex = agno_nb.connect(db)
    assert set(ex.runs(agent_id="weather").session_id) == {"w-1"}
    assert set(ex.messages(user_id="bob").session_id) == {"e-1", "t-1"}
    assert set(ex.sessions(session_type="team").session_id) == {"t-1"}
    assert set(ex.runs(team_id="crew").run_type) == {"team"}
    assert set(ex.runs(workflow_id="pipe").session_id) == {"f-1"}
    assert len(ex.messages(session_ids=["e-1"])) == 2
    assert len(ex.messages(session_ids="e-1")) == 2
    assert ex.runs(status="error").empty
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert ex.runs(since=future).empty and len(ex.runs(until=future)) == 7
    assert len(ex.sessions(since="2000-01-01", until=future.isoformat())) == 4
    with pytest.raises(ValueError, match="since='last tuesday'"):
        ex.runs(since="last tuesday")
    # a hostile filter value is data, not SQL
    assert ex.runs(agent_id="x' OR '1'='1").empty


def test_sql_relation_and_shortcuts(written):
    db, _ = written
    ex = agno_nb.connect(db)
    df = ex.sql("select agent_id, count(*) as n from runs where user_id = ? group by 1 order by 1", ["alice"])
    assert {(None if pd.isna(a) else a, n) for a, n in zip(df.agent_id, df.n)} == {("step-agent", 1), ("weather", 2), (None, 1)}
    joined = ex.sql("select s.user_id, count(*) n from messages m join sessions s using (session_id) group by 1 order by 1")
    assert set(joined.user_id) == {"alice", "bob"} and joined.n.sum() == len(ex.messages())
    rel = ex.relation("tool_calls")
    assert rel.filter("tool_call_error").aggregate("count(*)").fetchall()[0][0] == 1
    if db.dialect == "sqlite":
        assert len(agno_nb.messages_df(db.db_file, agent_id="echo")) == 2
        assert len(agno_nb.sessions_df(f"sqlite:///{db.db_file}")) == 4


def test_arrow_and_sqlalchemy_paths_agree(written):
    db, _ = written
    for name in TABLES:
        a = agno_nb.connect(db, engine="auto").table(name)
        b = agno_nb.connect(db, engine="sqlalchemy").table(name)
        pd.testing.assert_frame_equal(a, b)


def test_analysis_never_writes_the_sqlite_file(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "ro.db"))
    write_sessions(db)
    db.engine.dispose()
    path = tmp_path / "ro.db"
    before = (path.read_bytes(), os.stat(path).st_mtime_ns)
    ex = agno_nb.connect(str(path))
    for name in TABLES:
        ex.table(name)
    ex.sql("select count(*) from messages")
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before


def test_clear_errors_for_wrong_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="no SQLite file or Parquet folder"):
        agno_nb.connect(tmp_path / "missing.db")
    with pytest.raises(ValueError, match="unsupported database URL scheme 'oracle'.*mysql"):
        agno_nb.connect("oracle://root@localhost/test")
    with pytest.raises(LookupError, match="no table 'nope'.*agno_sessions"):
        agno_nb.connect(FIXTURES / "agno-3.1-sqlite.db", session_table="nope")
    with pytest.raises(ValueError, match="plain SQL identifier"):
        agno_nb.connect(FIXTURES / "agno-3.1-sqlite.db", session_table="x; drop table y")
    from agno_nb import DatabaseUnreachableError

    with pytest.raises(DatabaseUnreachableError, match="127.0.0.1:1") as err:
        agno_nb.connect("postgresql+psycopg://bob:hunter2@127.0.0.1:1/analytics")
    assert "hunter2" not in str(err.value)
    with pytest.raises(KeyError, match="no table 'turns'"):
        agno_nb.connect(FIXTURES / "agno-3.1-sqlite.db").table("turns")


def test_malformed_rows_are_reported_and_skipped(fixture_copy):
    import sqlite3

    path = fixture_copy("agno-3.1-sqlite.db")
    con = sqlite3.connect(path)
    con.execute("update agno_runs set run_data = '{broken' where session_id = 'lit-1' and run_index = 1")
    con.execute("""update agno_runs set run_data = json_set(run_data, '$.messages', 'oops') where session_id = 'lit-0' and run_index = 0""")
    con.commit()
    bad_runs = dict(con.execute("select run_index || session_id, run_id from agno_runs").fetchall())
    con.close()
    ex = agno_nb.connect(path)
    with pytest.warns(RuntimeWarning, match="skipped 2 bad row") as caught:
        messages = ex.messages()
    text = str(caught[0].message)
    assert bad_runs["1lit-1"] in text and bad_runs["0lit-0"] in text and "messages is not a list" in text
    assert len(messages) == 16 - 2 - 2  # the two bad runs' messages only
    with pytest.warns(RuntimeWarning, match="skipped 1 bad row"):
        assert len(ex.runs()) == 6
    with pytest.raises(CorruptRowError, match="session_id='lit-1'"):
        agno_nb.connect(path, errors="raise").runs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(agno_nb.connect(path, errors="ignore").tool_calls()) == 1


def test_parquet_round_trip(written, tmp_path):
    db, _ = written
    ex = agno_nb.connect(db)
    out = ex.to_parquet(tmp_path / "export", partition_by=("agent_id", "date"))
    assert any(p.name.startswith("agent_id_part=weather") for p in (out / "messages").iterdir())
    back = agno_nb.connect(out)
    for name in TABLES:
        a = ex.table(name)
        b = back.table(name)
        key = [c for c in ("session_id", "run_id", "message_index", "tool_call_id") if c in a.columns]
        a = a.sort_values(key).reset_index(drop=True)
        b = b.sort_values(key).reset_index(drop=True)[list(a.columns)]
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert set(back.messages(agent_id="weather").session_id) == {"w-1"}
    # filters on columns a table lacks go through the runs and sessions tables, as on the source
    for name, filters in [("messages", {"team_id": "crew"}), ("tool_calls", {"status": "COMPLETED"}),
                          ("messages", {"session_type": "team"}), ("sessions", {"status": "COMPLETED"})]:
        assert len(back.table(name, **filters)) == len(ex.table(name, **filters)) > 0, (name, filters)
    with pytest.raises(ValueError, match="plain SQL identifier"):
        ex.to_parquet(tmp_path / "x", partition_by=("agent_id); drop",))


def test_progress_bar_on_slow_loads_and_off_when_asked(monkeypatch, capsys):
    from agno_nb.analysis import explorer

    path = FIXTURES / "agno-3.1-sqlite.db"
    # a load quicker than the delay shows no bar (a delay far above this load's time, so that a
    # busy machine cannot make it "slow")
    monkeypatch.setattr(explorer, "PROGRESS_DELAY", 60.0)
    agno_nb.connect(path).messages()
    assert "agno_nb: messages" not in capsys.readouterr().err
    monkeypatch.setattr(explorer, "PROGRESS_DELAY", 0.0)  # as if every load were slow
    agno_nb.connect(path).messages()
    assert "agno_nb: messages" in capsys.readouterr().err
    agno_nb.connect(path, progress=False).messages()
    assert "agno_nb" not in capsys.readouterr().err
    # tqdm's own switch, which CI and nbconvert runs set (tqdm.notebook ignores it)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    agno_nb.connect(path).messages()
    assert "agno_nb" not in capsys.readouterr().err


def test_columns_empty_in_the_first_thousand_rows_still_load(tmp_path):
    """ADBC's SQLite driver infers a column's type from its first rows; text appearing after
    1,024 NULLs (team_id, parent_run_id) must not break the load."""
    from agno_nb import AgentSession, Metrics, RunOutput

    db = SqliteDb(db_file=str(tmp_path / "late.db"))
    runs = [RunOutput(run_id=f"r{i:05d}", agent_id="a", status="COMPLETED", content="x",
                      metrics=Metrics(total_tokens=1)) for i in range(1100)]
    db.upsert_session(AgentSession(session_id="a-0", agent_id="a", runs=runs))
    team = Team(name="Crew", id="crew", db=db, members=[Agent(id="m", model=EchoModel())],
                model=ScriptedModel([tool_call("delegate_task_to_member", {"member_id": "m", "task": "t"}), "ok"]))
    team.run("go", session_id="z-team")
    for engine in ("auto", "sqlalchemy"):
        runs_df = agno_nb.connect(db, engine=engine).runs()
        assert len(runs_df) == 1102
        assert runs_df.team_id.dropna().tolist() == ["crew"] and runs_df.parent_run_id.notna().sum() == 1


def test_paths_with_uri_characters(tmp_path):
    odd = tmp_path / "my data #1 ?100%"
    odd.mkdir()
    path = odd / "agent db.sqlite"
    path.write_bytes((FIXTURES / "agno-3.1-sqlite.db").read_bytes())
    for engine in ("auto", "sqlalchemy"):
        assert len(agno_nb.connect(path, engine=engine).messages()) == 16
