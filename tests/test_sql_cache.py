"""``ex.sql()`` keeps the tables it loaded until the source changes (issue 11 §1).

Loads are counted by wrapping the explorer's own loader; the sources are real SQLite files,
a real PostgreSQL schema and a real Parquet export, written by agno_nb's Agent or by hand.
"""

import os
import sqlite3

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import agno_nb
from agno_nb import Agent
from agno_nb.analysis.explorer import referenced_tables
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel


def counting(ex):
    """Count the explorer's loads of a table for a query, by table.

    (``derive=False`` loads are the runs read inside a sessions load, for its cost column.)
    """
    loads = []
    ex.on_load(lambda name, filters, derived: loads.append(name) if derived else None)
    return loads


def connect_beside_writer(db):
    """An explorer on ``db`` while ``db``'s writer connection is open in this process.

    On SQLite it reads through Python's sqlite3 (engine="sqlalchemy"): ADBC's driver links a
    second SQLite library, which cannot see this process's locks and rebuilds the WAL index
    under the writer (issue 13 §1), so the data version moves without any write.
    """
    return agno_nb.connect(db, engine="sqlalchemy" if db.dialect == "sqlite" else "auto")


def n_runs(ex):
    return int(ex.sql("SELECT count(*) AS n FROM runs")["n"][0])


def test_repeated_sql_reuses_the_tables_until_the_source_changes(db):
    agent = Agent(id="echo", db=db, model=EchoModel())
    agent.run("one", session_id="s1", user_id="u")
    ex = connect_beside_writer(db)
    loads = counting(ex)
    assert n_runs(ex) == 1 and loads == ["runs"]
    assert n_runs(ex) == 1 and loads == ["runs"]  # kept
    ex.sql("SELECT count(*) FROM messages")
    assert loads == ["runs", "messages"]
    agent.run("two", session_id="s1", user_id="u")  # same session: its updated_at moves
    assert n_runs(ex) == 2 and loads == ["runs", "messages", "runs"]
    assert int(ex.sql("SELECT count(*) AS n FROM messages WHERE content = 'two' AND role = 'user'")["n"][0]) == 1
    agent.run("three", session_id="s2", user_id="u")  # a new session
    assert n_runs(ex) == 3
    del loads[:]
    assert n_runs(ex) == 3 and loads == []
    ex.refresh()
    assert n_runs(ex) == 3 and loads == ["runs"]


def test_relation_without_filters_is_the_kept_table(db):
    Agent(id="echo", db=db, model=EchoModel()).run("one", session_id="s1", user_id="u")
    ex = connect_beside_writer(db)
    loads = counting(ex)
    ex.sql("SELECT count(*) FROM runs")
    assert ex.relation("runs").aggregate("count(*)").fetchall() == [(1,)] and loads == ["runs"]
    assert ex.relation("runs", user_id="nobody").aggregate("count(*)").fetchall() == [(0,)]


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_an_update_in_place_of_the_same_size_is_seen(tmp_path, journal):
    path = tmp_path / "a.db"
    db = SqliteDb(db_file=str(path))
    Agent(id="echo", db=db, model=EchoModel()).run("one", session_id="s1", user_id="u")
    db.engine.dispose()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA journal_mode={journal}")
    ex = agno_nb.connect(path)
    assert ex.sql("SELECT status FROM runs")["status"].tolist() == ["COMPLETED"]
    # same length, same page count: only the data version (and maybe the mtime) tells
    with con:
        con.execute("UPDATE agno_sessions SET user_id = 'v'")
        con.execute("UPDATE agno_runs SET status = 'CANCELLED', user_id = 'v'")
    assert ex.sql("SELECT status, user_id FROM runs").to_dict("records") == [{"status": "CANCELLED", "user_id": "v"}]
    con.close()


def test_a_file_replaced_whole_is_seen(tmp_path):
    paths = []
    for name, n in (("a.db", 1), ("b.db", 2)):
        db = SqliteDb(db_file=str(tmp_path / name))
        agent = Agent(id="echo", db=db, model=EchoModel())
        for i in range(n):
            agent.run(f"run {i}", session_id="s1", user_id="u")
        db.engine.dispose()
        paths.append(tmp_path / name)
    ex = agno_nb.connect(paths[0])
    assert n_runs(ex) == 1
    os.replace(paths[1], paths[0])
    assert n_runs(ex) == 2


def test_a_changed_parquet_export_is_seen(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "a.db"))
    Agent(id="echo", db=db, model=EchoModel()).run("one", session_id="s1", user_id="u")
    agno_nb.connect(db).to_parquet(tmp_path / "export")
    ex = agno_nb.connect(tmp_path / "export")
    assert n_runs(ex) == 1
    files = [p for p in (tmp_path / "export").rglob("*.parquet")
             if p.relative_to(tmp_path / "export").parts[0] in ("runs", "runs.parquet")]
    table = pq.read_table(files[0], partitioning=None)
    pq.write_table(pa.concat_tables([table, table]), files[0])
    assert n_runs(ex) == 2


def test_only_tables_the_query_reads_are_loaded(fixture_copy):
    ex = agno_nb.connect(fixture_copy("agno-3.1-sqlite.db"))
    loads = counting(ex)
    ex.sql("SELECT 'runs' AS a, $$messages$$ AS b, 1 AS \"tool_calls\" -- sessions")
    assert loads == []
    ex.sql("SELECT count(*) FROM sessions WHERE session_id <> 'runs'")
    assert loads == ["sessions"]
    ex.sql("SELECT * FROM messages m WHERE EXISTS (SELECT 1 FROM tool_calls t WHERE t.run_id = m.run_id)")
    assert sorted(loads) == ["messages", "sessions", "tool_calls"]
    assert referenced_tables("select 'runs' from sessions") == ["sessions"]
    # a query DuckDB cannot serialize (? and $name mixed) falls back to identifiers, never to strings
    assert referenced_tables("select 'sessions', ? from runs where x = $a") == ["runs"]
