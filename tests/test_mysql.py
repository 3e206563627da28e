"""MySQL / MariaDB: MySQLDb writes agno 3.1's MySQL layout, and connect() reads it.

Against the machine's real server (fixtures ``mysql_url`` / ``mysql_schema`` in conftest:
a fresh database per test, dropped at the end of the run). The storage, compatibility,
interop and concurrency scenarios of the SQLite/PostgreSQL test modules run here again
with ``backend`` = "mysql" (imported below), beside the MySQL-only checks.
"""

from __future__ import annotations

import os
import sys

import pandas as pd
import pytest
import sqlalchemy as sa

os.environ.setdefault("AGNO_TELEMETRY", "false")

import agno.db.mysql as agno_mysql  # noqa: E402
from agno.session import AgentSession as AgnoAgentSession  # noqa: E402

import agno_nb  # noqa: E402
from agno_nb import Agent, DatabaseUnreachableError, SessionOwnershipError  # noqa: E402
from agno_nb.errors import MissingDependencyError  # noqa: E402
from agno_nb.db.mysql import MySQLDb  # noqa: E402
from agno_nb.db.sqlite import SqliteDb  # noqa: E402
from agno_nb.models import ScriptedModel, tool_call  # noqa: E402
from agno_nb.records import session_from_dict  # noqa: E402

# The shared scenarios, collected again here on MySQL (the `backend` fixture below).
from test_compat_db import (  # noqa: E402,F401
    SESSION_METHODS,
    SESSIONS,
    _check_signature,
    pair,
    same,
    test_create_and_read,
    test_filter,
    test_rename,
    test_runs_limit_gives_the_last_context_relevant_runs,
    test_runs_need_their_session_and_deletes_cascade,
    test_runs_queries,
    test_sort_and_page,
    test_strings_and_agnos_enums_are_accepted_too,
    test_upsert_session_also_stores_its_runs,
    test_upsert_sessions_and_preserve_updated_at,
    test_user_isolation,
)
from test_concurrency import (  # noqa: E402,F401
    spec,
    test_eight_processes_fifty_runs_one_session,
    test_eight_threads_same_and_different_sessions,
)
from test_interop import test_agno_nb_reads_what_real_agno_wrote, test_real_agno_reads_what_agno_nb_wrote  # noqa: E402,F401
from test_storage import (  # noqa: E402,F401
    make_run,
    test_append_runs_sums_metrics_and_replacing_a_run_adds_the_difference,
    test_custom_session_table_names_runs_table_after_it,
    test_delete_and_rename,
    test_a_sessions_table_without_its_runs_table_is_not_remembered_as_complete,
    test_run_round_trips_unknown_keys,
    test_tables_created_in_agno3_layout,
    test_upsert_run_assigns_run_index_and_keeps_it_on_replace,
    test_upsert_session_get_sessions_filters_sort_and_paging,
    test_user_cannot_read_or_overwrite_another_users_session,
)
from _helpers import get_weather  # noqa: E402


@pytest.fixture
def backend():
    return "mysql"


@pytest.mark.parametrize("method", ("__init__", *SESSION_METHODS))
def test_signature_matches_agnos_mysqldb(method):
    _check_signature(getattr(MySQLDb, method), getattr(agno_mysql.MySQLDb, method), ("MySQLDb", method))


def test_deserialize_false_returns_dicts_and_total(pair):
    """test_compat_db's scenario, less ``include_runs`` (agno's MySQLDb.get_sessions has no such parameter)."""
    rows, total = same(pair, lambda x: x.db.get_sessions(limit=2, page=1, sort_by="created_at", sort_order="asc",
                                                         deserialize=False))
    assert total == len(SESSIONS) and [r["session_id"] for r in rows] == ["s1", "s2"]
    assert [r["run_id"] for r in rows[0]["runs"]] == ["s1-r1", "s1-r2", "s1-r3", "s1-r4"]
    same(pair, lambda x: x.db.get_sessions(x.T.TEAM, deserialize=False))
    same(pair, lambda x: x.db.get_run("t1-m1", deserialize=False))
    same(pair, lambda x: x.db.get_runs(session_id="s1", deserialize=False))
    same(pair, lambda x: x.db.get_runs(deserialize=False, limit=3, page=2))


def _create_tables(conn, schema):
    """SHOW CREATE TABLE of the three session tables, as sets of definition lines."""
    out = {}
    for table in ("agno_sessions", "agno_runs", "agno_schema_versions"):
        ddl = conn.execute(sa.text(f"show create table `{schema}`.`{table}`")).one()[1]
        out[table] = {line.strip().rstrip(",") for line in ddl.splitlines()}
    return out


def test_tables_are_exactly_agnos(mysql_url, mysql_schema):
    """Columns, types, VARCHAR lengths, JSON columns, indexes (by name), foreign key: as agno 3.1 creates them."""
    theirs = agno_mysql.MySQLDb(db_url=mysql_url, db_schema=f"{mysql_schema}_agno")
    theirs.upsert_session(AgnoAgentSession(session_id="s1", agent_id="a", created_at=1))
    theirs.upsert_run({"run_id": "r1", "agent_id": "a", "created_at": 2}, "s1")
    ours = MySQLDb(db_url=mysql_url, db_schema=f"{mysql_schema}_nb")
    ours.upsert_session(session_from_dict({"session_id": "s1", "agent_id": "a"}))
    with ours.engine.connect() as conn:
        agno_ddl, our_ddl = _create_tables(conn, f"{mysql_schema}_agno"), _create_tables(conn, f"{mysql_schema}_nb")
        versions = conn.execute(sa.text(f"select table_name, version from `{mysql_schema}_nb`.agno_schema_versions"
                                        " order by 1")).all()
    assert our_ddl == agno_ddl
    assert "`session_id` varchar(128) NOT NULL" in our_ddl["agno_runs"]
    assert any(line.startswith("KEY `agno_runs_runs_session_id_run_index`") for line in our_ddl["agno_runs"])
    assert any("FOREIGN KEY (`session_id`) REFERENCES `agno_sessions` (`session_id`) ON DELETE CASCADE" in line
               for line in our_ddl["agno_runs"])
    assert versions == [("agno_runs", "3.0.0"), ("agno_sessions", "3.0.0")]
    theirs.db_engine.dispose()
    ours.close()


def test_defaults_and_arguments_in_agnos_order(mysql_url, mysql_schema):
    db = MySQLDb(None, None, mysql_schema, mysql_url, "my_sessions")
    assert (db.db_schema, db.db_url, db.session_table_name, db.runs_table_name) == (
        mysql_schema, mysql_url, "my_sessions", "my_sessions_runs")
    assert MySQLDb(db_url=mysql_url).db_schema == "ai" == MySQLDb(db_url=mysql_url, db_schema=None).db_schema
    # Agno's id: derived from URL and database, so the same place gets the same id
    assert MySQLDb(db_url=mysql_url, db_schema="x").id == MySQLDb(db_url=mysql_url, db_schema="x").id \
        != MySQLDb(db_url=mysql_url, db_schema="y").id
    assert MySQLDb(id="mine", db_url=mysql_url).id == "mine"
    assert MySQLDb(db_url=mysql_url, memory_table="mem").other_tables["memory_table"] == "mem"
    for bad in ({}, {"db_url": mysql_url, "db_engine": sa.create_engine(mysql_url)}):
        with pytest.raises(ValueError, match="db_url or db_engine"):
            MySQLDb(**bad)
    with pytest.raises(ValueError, match="mysql://"):
        MySQLDb(db_url="postgresql://u@h/db")
    db.close()


def test_a_plain_mysql_url_means_pymysql(mysql_url, mysql_schema):
    url = sa.make_url(mysql_url).set(drivername="mysql")
    db = MySQLDb(db_url=url.render_as_string(hide_password=False), db_schema=mysql_schema)
    assert db.engine.url.drivername == "mysql+pymysql"
    db.upsert_session(session_from_dict({"session_id": "s1", "agent_id": "a"}))
    assert db.get_session("s1").agent_id == "a"
    db.close()


def test_a_callers_engine_is_used_as_it_is(mysql_url, mysql_schema):
    """db_engine= keeps SQLAlchemy's defaults (REPEATABLE READ, CLIENT_FOUND_ROWS): the upsert rules still hold."""
    engine = sa.create_engine(mysql_url)
    db = MySQLDb(db_engine=engine, db_schema=mysql_schema)
    assert db.db_engine is engine and db.db_url is None
    first = db.upsert_session(session_from_dict({"session_id": "s1", "agent_id": "a", "user_id": "u",
                                                 "created_at": 100}), deserialize=False)
    assert first["updated_at"] == first["created_at"] == 100  # a new row: inserted, not updated
    again = db.upsert_session(session_from_dict({"session_id": "s1", "agent_id": "b", "user_id": "u",
                                                 "created_at": 100}), deserialize=False)
    assert again["agent_id"] == "b" and again["updated_at"] > 100  # an existing row: updated
    with pytest.raises(SessionOwnershipError, match="s1"):
        db.upsert_session(session_from_dict({"session_id": "s1", "agent_id": "evil", "user_id": "mallory"}))
    Agent(id="a", model=ScriptedModel(["one", "two"]), db=db).run("hi", session_id="s1", user_id="u")
    theirs = agno_mysql.MySQLDb(db_engine=engine, db_schema=mysql_schema)
    assert [r.content for r in theirs.get_session("s1", None).runs] == ["one"]
    engine.dispose()


def test_create_schema_false_leaves_the_database_to_the_user(mysql_url, mysql_schema):
    db = MySQLDb(db_url=mysql_url, db_schema=mysql_schema, create_schema=False)
    with pytest.raises(sa.exc.OperationalError, match="Unknown database"):
        db.upsert_session(session_from_dict({"session_id": "s1"}))
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"create database `{mysql_schema}`"))
    db = MySQLDb(db_url=mysql_url, db_schema=mysql_schema, create_schema=False)
    db.upsert_session(session_from_dict({"session_id": "s1"}))
    assert db.get_session("s1").session_id == "s1"
    db.close()


def test_wrong_password_names_host_database_and_user_never_the_password(mysql_url, mysql_schema):
    url = sa.make_url(mysql_url).set(password="Sekr1t-pw").render_as_string(hide_password=False)
    db = MySQLDb(db_url=url, db_schema=mysql_schema)
    with pytest.raises(DatabaseUnreachableError) as err:
        db.get_session("s1")
    text = str(err.value)
    host = sa.make_url(mysql_url).host
    assert "Sekr1t-pw" not in text and "Access denied" in text
    assert f"MySQL database {mysql_schema!r} on {host}:" in text and "user 'root'" in text and "password" in text
    with pytest.raises(DatabaseUnreachableError) as err:
        agno_nb.connect(url, db_schema=mysql_schema).sessions()
    assert "Sekr1t-pw" not in str(err.value) and f"MySQL database {mysql_schema!r} on {host}:" in str(err.value)
    assert "user 'root'" in str(err.value)
    db.close()


def test_an_id_longer_than_agnos_varchar_is_refused_not_cut(mysql_url, mysql_schema):
    db = MySQLDb(db_url=mysql_url, db_schema=mysql_schema)
    long_id = "s" * 129
    with pytest.raises(ValueError, match=r"session_id.*128 characters") as err:
        db.upsert_session(session_from_dict({"session_id": long_id, "agent_id": "a"}))
    assert f"MySQL database {mysql_schema!r}" in str(err.value)
    assert db.get_sessions() == []  # nothing stored, not even a truncated id
    db.upsert_session(session_from_dict({"session_id": "s" * 128, "agent_id": "a"}))
    assert [s.session_id for s in db.get_sessions()] == ["s" * 128]
    db.close()


def test_connect_to_a_missing_database_lists_the_ones_there(mysql_url, mysql_schema):
    with pytest.raises(LookupError, match=rf"MySQL database '{mysql_schema}' on .* does not exist; databases there: .*'test'"):
        agno_nb.connect(mysql_url, db_schema=mysql_schema)
    db = MySQLDb(db_url=mysql_url, db_schema=mysql_schema)
    db.upsert_session(session_from_dict({"session_id": "s1", "agent_id": "a"}))
    with pytest.raises(LookupError, match="no table 'nope'.*agno_sessions"):
        agno_nb.connect(mysql_url, db_schema=mysql_schema, session_table="nope")
    db.close()


def test_missing_driver_names_the_extra(monkeypatch, mysql_url):
    monkeypatch.setitem(sys.modules, "pymysql", None)  # `import pymysql` now fails
    with pytest.raises(MissingDependencyError, match=r'agno_nb\[mysql\]'):
        MySQLDb(db_url=mysql_url)


def _frames(ex, **filters):
    """The four DataFrames, rows in a stable order."""
    keys = {"sessions": ["session_id"], "runs": ["run_id"], "messages": ["run_id", "message_index"],
            "tool_calls": ["tool_call_id"]}
    return {name: getattr(ex, name)(**filters).sort_values(key).reset_index(drop=True) for name, key in keys.items()}


def test_connect_reads_mysql_like_sqlite(mysql_url, mysql_schema, tmp_path):
    """The same sessions in SQLite and MySQL: connect() gives the same four DataFrames, filtered the same."""
    lite = SqliteDb(db_file=str(tmp_path / "a.db"))
    for agent_id, user in (("weather", "alice"), ("weather", "bob"), ("other", "alice")):
        agent = Agent(id=agent_id, db=lite, tools=[get_weather],
                      model=ScriptedModel([tool_call("get_weather", {"city": "Oslo"}), "Sunny, go."], cycle=True))
        for q in ("Picnic?", "Tomorrow?"):
            agent.run(q, session_id=f"{agent_id}-{user}", user_id=user)
    db = MySQLDb(db_url=mysql_url, db_schema=mysql_schema)
    db.upsert_sessions(lite.get_sessions(), preserve_updated_at=True)

    every = ({}, {"agent_id": "weather"}, {"user_id": "alice"}, {"session_ids": ["other-alice"]},
             {"agent_id": "weather", "user_id": "bob"}, {"since": "2000-01-01"}, {"until": "2000-01-01"})
    lite_ex = agno_nb.connect(lite.db_file)
    wanted = [_frames(lite_ex, **filters) for filters in every]
    for source in (db, agno_nb.connect(mysql_url, db_schema=mysql_schema)):
        ex = agno_nb.connect(source) if isinstance(source, MySQLDb) else source
        assert "MySQL database" in repr(ex)
        for filters, want in zip(every, wanted):
            mine = _frames(ex, **filters)
            for name in want:
                pd.testing.assert_frame_equal(mine[name], want[name], check_dtype=True, obj=f"{name} {filters}")
        frames = _frames(ex)
        assert len(frames["sessions"]) == 3 and len(frames["runs"]) == 6 and len(frames["tool_calls"]) == 6
        assert set(frames["tool_calls"].result) == {"Sunny in Oslo, 21C"}
        assert len(_frames(ex, user_id="alice")["runs"]) == 4 and _frames(ex, user_id="nobody")["runs"].empty
        assert ex.sql("select count(*) as n from messages where role = 'tool'").n[0] == 6
    lite.close()
    db.close()


def test_connect_reads_in_a_read_only_transaction(mysql_url, mysql_schema):
    db = MySQLDb(db_url=mysql_url, db_schema=mysql_schema)
    db.upsert_session(session_from_dict({"session_id": "s1", "agent_id": "a"}))
    source = agno_nb.connect(mysql_url, db_schema=mysql_schema).source
    table = db.tables().sessions
    with pytest.raises(sa.exc.DBAPIError, match="READ ONLY"):
        source._fetch_sqlalchemy([table.update().values(agent_id="changed")])
    assert db.get_session("s1").agent_id == "a"
    with pytest.raises(ValueError, match="engine='sqlalchemy'"):
        agno_nb.connect(mysql_url, db_schema=mysql_schema, engine="adbc")
    db.close()


def test_a_reader_waits_for_another_process_creating_the_tables(mysql_url, mysql_schema):
    """MySQL commits each CREATE TABLE on its own: a reader that sees the sessions table but not
    yet the runs table waits for the creator's lock instead of failing on the missing table."""
    import threading

    from agno_nb.db.schema import runs_table, sessions_table

    creator = MySQLDb(db_url=mysql_url, db_schema=mysql_schema)
    reader = MySQLDb(db_url=mysql_url, db_schema=mysql_schema)
    metadata = sa.MetaData(schema=mysql_schema)
    sessions = sessions_table(metadata, "agno_sessions", dialect="mysql")
    runs = runs_table(metadata, "agno_runs", "agno_sessions", dialect="mysql")
    got = {}
    with creator.engine.connect() as conn:
        creator._lock_ddl(conn)  # as the creating process holds it
        sessions.create(conn)
        conn.execute(sessions.insert().values(session_id="s1", session_type="agent", created_at=1))
        conn.commit()
        thread = threading.Thread(target=lambda: got.update(runs=reader.get_runs(session_id="s1")))
        thread.start()
        thread.join(1.0)
        assert thread.is_alive()  # waiting for the creator, not failing on the missing runs table
        runs.create(conn)
        creator._unlock_ddl(conn)
    thread.join(30)
    assert got == {"runs": []} and reader.tables().complete
    creator.close()
    reader.close()


@pytest.fixture(scope="module")
def mysql_prop_db(mysql_url):
    from conftest import RUN_TAG

    with MySQLDb(db_url=mysql_url, db_schema=f"{RUN_TAG}_{os.getpid()}_prop") as db:
        yield db


def test_mysql_round_trip(mysql_prop_db):
    """tests/test_properties.py on MySQL: any session reads back equal (JSON stored as on PostgreSQL)."""
    from hypothesis import HealthCheck, given, settings

    from test_properties import _check, sessions

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(session=sessions)
    def round_trip(session):
        _check(mysql_prop_db, session, pg=True)

    round_trip()
