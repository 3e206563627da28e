"""The db methods, against SQLite and the real PostgreSQL."""

import json

import pytest
import sqlalchemy as sa

from agno_nb import AgentSession, CorruptRowError, Metrics, RunOutput, SessionOwnershipError, TeamSession
from agno_nb.db.sqlite import SqliteDb
from agno_nb.records import Message, session_from_dict
from _store import store_run


def make_run(run_id, agent_id="a1", tokens=10, content="hi", **kw):
    return RunOutput(
        run_id=run_id, agent_id=agent_id, status="COMPLETED", content=content, input={"input_content": "q"},
        metrics=Metrics(input_tokens=tokens - 2, output_tokens=2, total_tokens=tokens),
        messages=[Message(role="user", content="q", id=f"{run_id}-u"),
                  Message(role="assistant", content=content, id=f"{run_id}-a")], **kw)


def test_tables_created_in_agno3_layout(db):
    store_run(db, "s1", make_run("r1"))
    insp = sa.inspect(db.engine)
    assert insp.has_table("agno_sessions", schema=db.db_schema)
    assert insp.has_table("agno_runs", schema=db.db_schema)
    assert insp.has_table("agno_schema_versions", schema=db.db_schema)
    cols = {c["name"] for c in insp.get_columns("agno_sessions", schema=db.db_schema)}
    assert "runs" not in cols
    run_cols = {c["name"] for c in insp.get_columns("agno_runs", schema=db.db_schema)}
    assert {"run_id", "session_id", "run_type", "parent_run_id", "status", "run_index", "run_data"} <= run_cols
    layout = db.tables()
    with db.engine.connect() as conn:
        versions = dict(conn.execute(sa.select(layout.versions.c.table_name, layout.versions.c.version)).all())
    assert versions == {"agno_sessions": "3.0.0", "agno_runs": "3.0.0"}


def test_custom_session_table_names_runs_table_after_it(make_db):
    support = make_db(session_table="support_sessions")
    sales = make_db(session_table="sales_sessions", runs_table="sales_log")
    store_run(support, "s1", make_run("r1"))
    store_run(sales, "s1", make_run("r2"))
    assert support.runs_table_name == "support_sessions_runs"
    insp = sa.inspect(support.engine)
    for name in ("support_sessions", "support_sessions_runs", "sales_sessions", "sales_log"):
        assert insp.has_table(name, schema=support.db_schema), name
    # side by side in one database, each sees only its own
    assert [r.run_id for r in support.get_session("s1").runs] == ["r1"]
    assert [r.run_id for r in sales.get_session("s1").runs] == ["r2"]


def test_upsert_run_assigns_run_index_and_keeps_it_on_replace(db):
    for i in range(3):
        store_run(db, "s1", make_run(f"r{i}", tokens=10 + i))
    session = db.get_session("s1")
    assert [r.run_id for r in session.runs] == ["r0", "r1", "r2"]
    # as in Agno, upsert_run writes the run's row only: the session's metrics are the caller's
    assert session.session_metrics.total_tokens == 0
    layout = db.tables()
    with db.engine.connect() as conn:
        idx = conn.execute(sa.select(layout.runs.c.run_index).order_by(layout.runs.c.run_index)).scalars().all()
    assert idx == [0, 1, 2]
    db.upsert_run(make_run("r1", tokens=1, content="edited"), "s1", run_index=7)
    session = db.get_session("s1")
    assert [r.run_id for r in session.runs] == ["r0", "r1", "r2"] and session.runs[1].content == "edited"


def test_append_runs_sums_metrics_and_replacing_a_run_adds_the_difference(db):
    header = AgentSession(session_id="s1", agent_id="a1")
    db.append_runs(header, [make_run(f"r{i}", tokens=10 + i) for i in range(3)])
    assert db.get_session("s1").session_metrics.total_tokens == 33
    db.append_runs(header, [make_run("r1", tokens=1, content="edited")])
    session = db.get_session("s1")
    assert session.session_metrics.total_tokens == 10 + 1 + 12
    assert session.runs[1].content == "edited"


def test_run_round_trips_unknown_keys(db):
    run = RunOutput.from_dict({"run_id": "r1", "agent_id": "a", "content": "x", "future_key": {"nested": [1, 2]},
                               "messages": [{"role": "user", "content": "q", "brand_new": True}]})
    store_run(db, "s1", run)
    back = db.get_session("s1").runs[0]
    assert back.extra["future_key"] == {"nested": [1, 2]}
    assert back.messages[0].extra["brand_new"] is True
    assert back.to_dict()["future_key"] == {"nested": [1, 2]}


def test_upsert_session_get_sessions_filters_sort_and_paging(db):
    for i in range(5):
        db.upsert_session(AgentSession(
            session_id=f"s{i}", agent_id="a1" if i % 2 == 0 else "a2", user_id="alice" if i < 3 else "bob",
            created_at=1000 + i, session_data={"session_name": f"n{i}"}, runs=[make_run(f"r{i}")]))
    db.upsert_session(TeamSession(session_id="t1", team_id="crew", created_at=2000))
    assert [s.session_id for s in db.get_sessions(session_type="team")] == ["t1"]
    assert {s.session_id for s in db.get_sessions(user_id="bob")} == {"s3", "s4"}
    assert {s.session_id for s in db.get_sessions(component_id="a2")} == {"s1", "s3"}
    assert {s.session_id for s in db.get_sessions(start_timestamp=1002, end_timestamp=1003)} == {"s2", "s3"}
    asc = db.get_sessions(session_type="agent", sort_by="created_at", sort_order="asc", limit=2, page=2)
    assert [s.session_id for s in asc] == ["s2", "s3"]
    desc = db.get_sessions(session_type="agent", limit=2)
    assert [s.session_id for s in desc] == ["s4", "s3"]
    assert desc[0].runs[0].run_id == "r4"
    assert db.get_session("s2").session_name == "n2"
    with pytest.raises(ValueError, match="sort_by"):
        db.get_sessions(sort_by="runs; drop table x")


def test_delete_and_rename(db):
    for i in range(3):
        store_run(db, f"s{i}", make_run(f"r{i}"), user_id="alice")
    assert db.rename_session("s0", None, "Trip planning").session_name == "Trip planning"
    assert db.rename_session("missing", None, "x") is None
    assert db.delete_session("s0", user_id="mallory") is False
    assert db.delete_session("s0") is True
    assert db.get_session("s0") is None
    assert db.delete_sessions(["s1", "s2", "nope"]) == 2
    assert db.get_sessions() == []
    layout = db.tables()
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(layout.runs)).scalar() == 0


def test_user_cannot_read_or_overwrite_another_users_session(db):
    store_run(db, "s1", make_run("r1"), user_id="alice")
    assert db.get_session("s1", user_id="bob") is None
    with pytest.raises(SessionOwnershipError, match="s1"):
        store_run(db, "s1", make_run("r2"), user_id="bob")
    with pytest.raises(SessionOwnershipError):
        db.upsert_session(AgentSession(session_id="s1", user_id="bob", agent_id="evil"))
    session = db.get_session("s1")
    assert [r.run_id for r in session.runs] == ["r1"] and session.agent_id == "a1"


@pytest.mark.parametrize("bad", ['x"; drop table agno_sessions; --', "a b", "a--b", "t/*c*/", "1abc", "", "ä"])
def test_hostile_table_names_refused_before_sql(bad, tmp_path):
    path = tmp_path / "never.db"
    for kwargs in ({"session_table": bad}, {"runs_table": bad}):
        with pytest.raises(ValueError, match="plain SQL identifier"):
            SqliteDb(db_file=str(path), **kwargs)
    assert not path.exists()
    from agno_nb.db.postgres import PostgresDb

    with pytest.raises(ValueError, match="db_schema"):
        PostgresDb("postgresql+psycopg://u:secret@127.0.0.1:1/x", db_schema=bad)


def test_unreachable_postgres_names_host_and_database_not_password():
    from agno_nb import DatabaseUnreachableError
    from agno_nb.db.postgres import PostgresDb

    db = PostgresDb("postgresql+psycopg://bob:hunter2@127.0.0.1:1/analytics")
    with pytest.raises(DatabaseUnreachableError) as err:
        db.get_session("s1")
    text = str(err.value)
    assert "127.0.0.1:1" in text and "analytics" in text and "hunter2" not in text
    assert "hunter2" not in repr(db)


def test_sqlite_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SqliteDb(db_file=str(tmp_path / "no" / "such" / "dir.db"))


def test_corrupt_run_json_names_session_and_run(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "c.db"))
    store_run(db, "s1", make_run("good"))
    store_run(db, "s1", make_run("bad"))
    with db.engine.begin() as conn:
        conn.exec_driver_sql("update agno_runs set run_data = '{not json' where run_id = 'bad'")
    with pytest.raises(CorruptRowError) as err:
        db.get_session("s1")
    assert "s1" in str(err.value) and "bad" in str(err.value) and err.value.run_id == "bad"
    with db.engine.begin() as conn:
        conn.exec_driver_sql("""update agno_runs set run_data = '"just a string"' where run_id = 'bad'""")
    with pytest.raises(CorruptRowError, match="run_id='bad'"):
        db.get_session("s1")


def test_wrong_shape_in_postgres_jsonb_names_the_row(pg_url, pg_schema):
    from agno_nb.db.postgres import PostgresDb

    with PostgresDb(pg_url, db_schema=pg_schema) as db:
        store_run(db, "s1", make_run("r1"))
        with db.engine.begin() as conn:
            conn.execute(sa.text(f'update "{db.db_schema}".agno_sessions set session_data = \'[1, 2]\'::jsonb'))
        with pytest.raises(CorruptRowError, match="session_data"):
            db.get_session("s1")


def test_reads_agno_31_fixture(fixture_copy):
    db = SqliteDb(db_file=fixture_copy("agno-3.1-sqlite.db"))
    sessions = {s.session_id: s for s in db.get_sessions()}
    assert set(sessions) == {"lit-0", "lit-1", "picnic-1"}
    lit = sessions["lit-0"]
    assert lit.user_id == "alice" and len(lit.runs) == 3
    assert [len(r.messages) for r in lit.runs] == [2, 2, 2]
    assert sum(r.metrics.total_tokens for r in lit.runs) == lit.session_metrics.total_tokens == 203
    picnic = sessions["picnic-1"]
    assert [m.role for m in picnic.runs[0].messages] == ["user", "assistant", "tool", "assistant"]
    tool = picnic.runs[0].tools[0]
    assert (tool.tool_name, tool.tool_args, tool.result) == ("get_weather", {"city": "Paris"}, "Sunny in Paris, 21C")
    assert "requires_confirmation" in tool.extra  # keys we do not model are kept


def test_reads_and_appends_agno_29_fixture_in_its_own_layout(fixture_copy):
    path = fixture_copy("agno-2.9-sqlite.db")
    db = SqliteDb(db_file=path)
    session = db.get_session("lit-0")
    assert len(session.runs) == 3 and session.runs[0].messages[0].content.startswith("Summarise")
    assert db.get_session("picnic-1").runs[0].tools[0].result == "Sunny in Paris, 21C"
    db.append_runs(AgentSession(session_id="lit-0", agent_id="echo-agent"), [make_run("new-run", agent_id="echo-agent")])
    session = db.get_session("lit-0")
    assert [r.run_id for r in session.runs][-1] == "new-run" and len(session.runs) == 4
    assert session.session_metrics.total_tokens == 213
    insp = sa.inspect(db.engine)
    assert not insp.has_table("agno_runs")  # nothing migrated
    with db.engine.connect() as conn:
        raw, data = conn.exec_driver_sql("select runs, session_data from agno_sessions where session_id='lit-0'").one()
    # written back double-encoded, as Agno 2.x wrote it
    assert isinstance(json.loads(raw), str) and isinstance(json.loads(json.loads(raw)), list)
    assert isinstance(json.loads(data), str) and json.loads(json.loads(data))["session_metrics"]["total_tokens"] == 213


def test_upgraded_database_table_copy_wins(fixture_copy):
    """A 3.x database that still holds a legacy runs column: the runs table wins on run_id."""
    path = fixture_copy("agno-2.9-sqlite.db")
    import sqlite3

    con = sqlite3.connect(path)
    runs = json.loads(json.loads(con.execute("select runs from agno_sessions where session_id='lit-0'").fetchone()[0]))
    first = dict(runs[0], content="from the runs table")
    con.execute("""create table agno_runs (run_id varchar primary key, session_id varchar not null,
        run_type varchar not null, agent_id varchar, team_id varchar, workflow_id varchar, user_id varchar,
        parent_run_id varchar, status varchar, run_index bigint, run_data json not null,
        created_at bigint not null, updated_at bigint)""")
    con.execute("insert into agno_runs values (?, 'lit-0', 'agent', 'echo-agent', null, null, 'alice', null,"
                " 'COMPLETED', 0, ?, 1, 1)", (first["run_id"], json.dumps(first)))
    con.commit()
    con.close()
    session = SqliteDb(db_file=path).get_session("lit-0")
    assert len(session.runs) == 3
    assert session.runs[0].content == "from the runs table"


def test_sqlite_path_with_uri_characters(tmp_path):
    odd = tmp_path / "my data #1 ?100%"
    odd.mkdir()
    db = SqliteDb(db_file=str(odd / "agent db.sqlite"))
    store_run(db, "s1", make_run("r1"))
    assert (odd / "agent db.sqlite").is_file()
    assert SqliteDb(db_file=str(odd / "agent db.sqlite")).get_session("s1").runs[0].run_id == "r1"


def test_a_sessions_table_without_its_runs_table_is_not_remembered_as_complete(tmp_path):
    """A read that finds only the sessions table must not keep that layout: the next write creates the runs table.

    (On MySQL, where each CREATE TABLE commits on its own, another process creating the
    tables shows exactly this state for a moment: tests/test_mysql.py.)
    """
    from agno_nb.db.schema import sessions_table

    db = SqliteDb(db_file=str(tmp_path / "half.db"))
    sessions_table(sa.MetaData(), "agno_sessions").create(db.engine)
    assert db.get_session("s1") is None
    db.append_runs(AgentSession(session_id="s1", agent_id="a1"), [make_run("r1")])
    assert [r.run_id for r in db.get_session("s1").runs] == ["r1"]
    db.close()


def test_a_nul_in_an_id_is_refused_on_postgres_and_kept_on_sqlite(make_db, backend):
    """PostgreSQL's text columns cannot hold NUL: the session is refused with agno_nb's error,
    naming the column and the session, before anything is written. SQLite keeps the value."""
    from agno_nb.errors import UnstorableValueError

    db = make_db()
    db.upsert_session(session_from_dict({"session_id": "kept", "agent_id": "a"}))
    bad = session_from_dict({"session_id": "s-nul", "agent_id": "a", "user_id": "u\x00x",
                             "runs": [{"run_id": "r1", "agent_id": "a", "status": "COMPLETED", "messages": []}]})
    if backend == "postgres":
        with pytest.raises(UnstorableValueError) as err:
            db.upsert_session(bad)
        assert "user_id" in str(err.value) and "s-nul" in str(err.value) and "PostgreSQL" in str(err.value)
        assert db.get_session("s-nul") is None and db.get_session("kept") is not None
        run = RunOutput(run_id="r2", agent_id="a\x00b", status="COMPLETED")
        with pytest.raises(UnstorableValueError, match="agent_id.*run_id='r2'"):
            db.upsert_run(run, session_id="kept")
        assert [r.run_id for r in db.get_session("kept").runs or []] == []
    else:
        db.upsert_session(bad)
        assert db.get_session("s-nul", user_id="u\x00x").user_id == "u\x00x"
