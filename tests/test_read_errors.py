"""Read-side failures get agno_nb's own errors, saying what happened and where (issue 13, section 7).

Each test builds the situation for real: a damaged page, a connection the server ends
mid-read, a writer killed mid-transaction, 100,000 session ids, ISO text timestamps, a
refused login, a missing driver.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import agno_nb
from agno_nb import Agent
from agno_nb.db.sqlite import SqliteDb
from agno_nb.errors import (AgnoNbError, ConnectionLostError, DatabaseCorruptError, DatabaseUnreachableError,
                            MissingDependencyError)
from agno_nb.models import EchoModel

ROOT = Path(__file__).resolve().parent.parent


def _write(db, n: int = 12, body: str = "") -> None:
    agent = Agent(id="echo", db=db, model=EchoModel())
    for i in range(n):
        agent.run(f"hello {i} {body}", session_id=f"s-{i % 4}", user_id="u")


# -- a damaged SQLite page ----------------------------------------------------------------

def _zero_page(path: str, page: int) -> None:
    con = sqlite3.connect(path)
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(b"\0" * size)


def _damaged(tmp_path, where: str) -> str:
    path = str(tmp_path / "damaged.db")
    db = SqliteDb(db_file=path)
    _write(db, n=40, body="x" * 6000)  # run_data spills into overflow pages
    db.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'agno_runs'").fetchone()[0]
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    _zero_page(path, root if where == "root" else pages * 2 // 3)
    return path


@pytest.mark.parametrize("where", ["root", "middle"])
def test_damaged_page_names_the_file(tmp_path, where):
    path = _damaged(tmp_path, where)
    before = Path(path).read_bytes()
    with pytest.raises(DatabaseCorruptError) as info:
        agno_nb.connect(path, progress=False).messages()
    text = str(info.value)
    assert repr(path) in text and "damaged" in text and ".recover" in text
    assert Path(path).read_bytes() == before


# -- PostgreSQL connection ended by the server mid-read -------------------------------------

def _big_pg(pg_url: str, schema: str, copies: int) -> None:
    from agno_nb.db.postgres import PostgresDb

    db = PostgresDb(pg_url, db_schema=schema)
    try:
        _write(db, n=1, body="y" * 2000)
    finally:
        db.close()
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        cols = [r[0] for r in conn.execute(sa.text(
            "select column_name from information_schema.columns where table_schema = :s and table_name = 'agno_runs' "
            "order by ordinal_position"), {"s": schema})]
        picked = ", ".join("r.run_id || '-' || g" if c == "run_id" else
                           "r.run_index + g" if c == "run_index" else f"r.{c}" for c in cols)
        conn.execute(sa.text(f'insert into "{schema}".agno_runs ({", ".join(cols)}) '
                             f'select {picked} from "{schema}".agno_runs r, generate_series(1, {copies}) g'))
    engine.dispose()


def test_postgres_connection_lost_mid_read(pg_url, pg_schema):
    _big_pg(pg_url, pg_schema, copies=30000)
    killer_engine = sa.create_engine(pg_url)
    ended = []

    def kill_the_read(stop: threading.Event):
        with killer_engine.connect() as conn:
            while not stop.is_set():
                pids = conn.execute(sa.text(
                    "select pid from pg_stat_activity where pid <> pg_backend_pid() and state = 'active' "
                    "and query like :q"), {"q": f"%{pg_schema}%agno_runs%"}).scalars().all()
                for pid in pids:
                    conn.execute(sa.text("select pg_terminate_backend(:p)"), {"p": pid})
                    ended.append(pid)
                    return
                conn.rollback()
                time.sleep(0.002)

    try:
        for _ in range(5):  # the load must be caught in the act: try again if it finished first
            ended.clear()
            ex = agno_nb.connect(pg_url, db_schema=pg_schema, progress=False)
            stop = threading.Event()
            killer = threading.Thread(target=kill_the_read, args=(stop,))
            killer.start()
            try:
                ex.messages()
                lost = None
            except ConnectionLostError as exc:
                lost = exc
            finally:
                stop.set()
                killer.join()
            if lost is not None:
                break
    finally:
        killer_engine.dispose()
    assert ended and lost is not None, "no load was caught reading"
    text = str(lost)
    url = sa.make_url(pg_url)
    assert "lost the connection" in text and "rollback" not in text.lower()
    assert f"user {url.username!r}" in text and repr(url.database) in text and str(url.host) in text
    assert isinstance(lost, DatabaseUnreachableError)


# -- a hot rollback journal left by a killed writer -----------------------------------------

_KILLED_WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA cache_size=1")  # changed pages spill into the file before the commit
    con.execute("BEGIN")
    con.execute("UPDATE agno_sessions SET runs = NULL, session_data = NULL")
    con.execute("INSERT INTO agno_sessions (session_id, session_type, created_at) "
                "SELECT 'ghost-' || value, 'agent', 1 FROM json_each('[1,2,3,4,5,6,7,8,9]')")
    print("mid-transaction", flush=True)
    time.sleep(60)
""")


def test_hot_journal_of_a_killed_writer_is_read_as_of_the_last_commit(tmp_path, fixture_copy):
    path = fixture_copy("agno-2.9-sqlite.db")  # Agno 2.x: rollback journal, not WAL
    expected = agno_nb.connect(path, progress=False)
    want = {name: expected.table(name) for name in ("sessions", "runs", "messages")}

    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, path], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "mid-transaction"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    journal = Path(path + "-journal")
    assert journal.stat().st_size > 0, "no hot journal was left"
    before = (Path(path).read_bytes(), journal.read_bytes())
    plain = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):  # what the user met before
        plain.execute("select count(*) from agno_sessions").fetchall()
    plain.close()

    copies_before = _copies()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = agno_nb.connect(path, progress=False)
        got = {name: ex.table(name) for name in want}
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name])
    assert any("hot rollback journal" in str(w.message) and "open it once with a writer" in str(w.message)
               for w in caught)
    assert (Path(path).read_bytes(), journal.read_bytes()) == before  # the user's files untouched
    assert _copies() == copies_before, "a recovered copy was left behind"


def _copies() -> set:
    return set(Path(tempfile.gettempdir()).glob("agno_nb-recovered-*"))


# -- more ids than SQL has parameters -------------------------------------------------------

def test_hundred_thousand_session_ids(make_db):
    db = make_db()
    _write(db, n=8)
    wanted = ["s-1", "s-3"]
    ids = [f"nope-{i}" for i in range(100_000)] + wanted
    for engine in ("auto", "sqlalchemy"):
        ex = agno_nb.connect(db, engine=engine, progress=False)
        for name in ("sessions", "runs", "messages"):
            got = ex.table(name, session_ids=ids)
            assert set(got.session_id) == set(wanted), (engine, name)
            pd.testing.assert_frame_equal(got, ex.table(name, session_ids=wanted))


# -- values of another SQLite type than the column's ------------------------------------------

def test_numbers_and_blobs_in_text_columns_read_as_text(tmp_path):
    """SQLite keeps each value's own type: an id written as a number, run JSON written as a
    BLOB. The read path takes values as stored (no CAST inside SQLite) and must still give
    the same text as the SQLAlchemy path, which casts."""
    path = str(tmp_path / "types.db")
    db = SqliteDb(db_file=path)
    _write(db, n=8)
    db.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE agno_runs SET user_id = 42, agent_id = 7.5 WHERE session_id = 's-1'")
    con.execute("UPDATE agno_runs SET run_data = CAST(run_data AS BLOB) WHERE session_id = 's-2'")
    con.execute("UPDATE agno_sessions SET user_id = 42, session_data = CAST(session_data AS BLOB) WHERE session_id = 's-1'")
    con.commit()
    assert con.execute("SELECT count(*) FROM agno_runs WHERE typeof(run_data) = 'blob'").fetchone()[0] == 2
    con.close()
    frames = {}
    for engine in ("auto", "sqlalchemy"):
        ex = agno_nb.connect(path, engine=engine, progress=False)
        frames[engine] = {name: ex.table(name) for name in ("sessions", "runs", "messages", "tool_calls")}
        msgs = frames[engine]["messages"]
        assert set(msgs.loc[msgs.session_id == "s-1", "user_id"]) == {"42"}, engine
        assert set(msgs.loc[msgs.session_id == "s-1", "agent_id"]) == {"7.5"}, engine
        assert len(msgs[msgs.session_id == "s-2"]) == 2 * 2, engine  # two runs, user + assistant each
        assert frames[engine]["sessions"].set_index("session_id").loc["s-1", "user_id"] == "42"
    for name in frames["auto"]:
        pd.testing.assert_frame_equal(frames["auto"][name], frames["sqlalchemy"][name], check_like=False)


# -- timestamps stored as ISO text ----------------------------------------------------------

def test_iso_text_created_at(tmp_path):
    path = str(tmp_path / "iso.db")
    db = SqliteDb(db_file=path)
    _write(db, n=4)
    db.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE agno_sessions SET created_at = '2026-01-02 03:04:05', updated_at = '2026-01-02T04:00:00+01:00' "
                "WHERE session_id = 's-1'")
    con.execute("UPDATE agno_runs SET created_at = '2026-01-02 03:04:05' WHERE session_id = 's-1'")
    con.commit()
    con.close()
    when = pd.Timestamp("2026-01-02 03:04:05", tz="UTC")
    for engine in ("auto", "sqlalchemy"):
        ex = agno_nb.connect(path, engine=engine, progress=False)
        sessions = ex.sessions().set_index("session_id")
        assert sessions.loc["s-1", "created_at"] == when, engine
        assert sessions.loc["s-1", "updated_at"] == pd.Timestamp("2026-01-02 03:00:00", tz="UTC"), engine
        assert (sessions.created_at > pd.Timestamp("2000-01-01", tz="UTC")).all()
        runs = ex.runs()
        assert (runs[runs.session_id == "s-1"].created_at == when).all() and len(runs[runs.session_id == "s-1"]) == 1
        # filters see the right date too
        assert set(ex.runs(since="2026-01-02", until="2026-01-03").session_id) >= {"s-1"}
        assert "s-1" not in set(ex.runs(until="2026-01-02").session_id)
        assert "s-1" in set(ex.sessions(since="2026-01-02", until="2026-01-03").session_id)
        assert "s-1" not in set(ex.sessions(since="2026-01-03").session_id)


def test_iso_text_created_at_inside_the_json(fixture_copy):
    """Agno 2.x's runs list (run and message times) and 3.x's run_data (message times)."""
    import json

    when = pd.Timestamp("2026-01-02 03:04:05", tz="UTC")
    legacy = fixture_copy("agno-2.9-sqlite.db")
    con = sqlite3.connect(legacy)
    sid, text = con.execute("SELECT session_id, runs FROM agno_sessions WHERE runs IS NOT NULL LIMIT 1").fetchone()
    runs = json.loads(json.loads(text))  # Agno 2.x encoded this column twice
    runs[0]["created_at"] = "2026-01-02 03:04:05"
    for m in runs[0]["messages"]:
        m["created_at"] = "2026-01-02T03:04:05Z"
    con.execute("UPDATE agno_sessions SET runs = ? WHERE session_id = ?", (json.dumps(json.dumps(runs)), sid))
    con.commit()
    con.close()
    ex = agno_nb.connect(legacy, progress=False)
    got = ex.runs(session_ids=[sid]).set_index("run_id")
    assert got.loc[runs[0]["run_id"], "created_at"] == when
    msgs = ex.messages(session_ids=[sid])
    assert (msgs[msgs.run_id == runs[0]["run_id"]].created_at == when).all()
    assert (msgs[msgs.run_id != runs[0]["run_id"]].created_at > pd.Timestamp("2000-01-01", tz="UTC")).all()

    current = fixture_copy("agno-3.1-sqlite.db")
    con = sqlite3.connect(current)
    run_id = con.execute("SELECT run_id FROM agno_runs LIMIT 1").fetchone()[0]
    con.execute("UPDATE agno_runs SET run_data = json_set(run_data, '$.messages[0].created_at', '2026-01-02 03:04:05') "
                "WHERE run_id = ?", (run_id,))
    con.commit()
    con.close()
    msgs = agno_nb.connect(current, progress=False).messages()
    assert msgs[msgs.run_id == run_id].sort_values("message_index").created_at.iloc[0] == when


# -- connect()'s PostgreSQL errors name the user, never the password -----------------------

@pytest.mark.parametrize("change", ["database", "user"])
def test_postgres_errors_name_the_user_not_the_password(pg_url, change):
    url = sa.make_url(pg_url)
    url = (url.set(database="agno_nb_no_such_db", password="s3cret-pw") if change == "database"
           else url.set(username="agno_nb_no_such_role", password="s3cret-pw"))
    with pytest.raises(DatabaseUnreachableError) as info:
        agno_nb.connect(url.render_as_string(hide_password=False), progress=False)
    text = str(info.value)
    assert "s3cret-pw" not in text
    assert f"user {url.username!r}" in text and repr(url.database) in text
    assert f"{url.host}:{url.port or 5432}" in text


# -- a missing PostgreSQL driver -----------------------------------------------------------

@pytest.mark.parametrize("missing,engine", [("psycopg", "auto"), ("adbc_driver_postgresql", "adbc")])
def test_missing_postgres_driver_says_what_to_install(pg_url, missing, engine):
    code = textwrap.dedent(f"""
        import sys
        sys.modules[{missing!r}] = None  # as if it were not installed
        import agno_nb
        from agno_nb.errors import AgnoNbError, MissingDependencyError
        try:
            agno_nb.connect({pg_url!r}, engine={engine!r}, progress=False).messages()
        except MissingDependencyError as exc:
            assert isinstance(exc, AgnoNbError) and isinstance(exc, ImportError)
            print("ERROR", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ERROR") and 'pip install "agno_nb[postgres]"' in out.stdout, out.stdout
    assert "PostgreSQL database" in out.stdout

