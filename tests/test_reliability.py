"""Crashes, connection loss, readers beside writers, malformed and hostile data."""

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import agno_nb
from agno_nb import Agent, DatabaseUnreachableError, Message, Metrics, RunOutput
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel
from _store import store_run

HERE = Path(__file__).parent
KILLS = 5


def _start_writer(path, session_id, payload_kb=256):
    return subprocess.Popen([sys.executable, str(HERE / "_writers.py"), path, session_id, str(payload_kb)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE)


@pytest.mark.slow
def test_sigkill_mid_write_loses_no_committed_run(tmp_path):
    path = str(tmp_path / "crash.db")
    committed = []
    rng = random.Random(7)
    for kill in range(KILLS):
        proc = _start_writer(path, "crash")
        # wait for a few commits, then kill at a random moment, most likely inside a write
        # (each run carries a 256 KB message, so a write takes a while)
        target = len(committed) + rng.randint(3, 8)
        while len(committed) < target:
            line = proc.stdout.readline()
            assert line, f"writer died on its own: {proc.stderr.read()}"
            committed.append(line.strip())
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        committed += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
        stored = [r.run_id for r in SqliteDb(db_file=path).get_session("crash").runs]
        assert set(committed) <= set(stored), f"kill {kill}: a committed run is missing"
    # the next writer goes on where the last one stopped
    db = SqliteDb(db_file=path)
    before = len(db.get_session("crash").runs)
    Agent(id="after", model=EchoModel(), db=db).run("still here", session_id="crash")
    session = db.get_session("crash")
    assert len(session.runs) == before + 1 and session.runs[-1].content == "Echo: still here"
    with db.engine.connect() as conn:
        idx = conn.exec_driver_sql("select run_index from agno_runs order by run_index").scalars().all()
    assert idx == list(range(len(idx)))


def test_postgres_connection_cut_mid_write_then_reconnects(pg_url, pg_schema, request):
    from agno_nb.db.postgres import PostgresDb

    db = PostgresDb(pg_url, db_schema=pg_schema)
    request.addfinalizer(db.close)
    agent = Agent(id="a", model=EchoModel(), db=db)
    agent.run("first", session_id="s1")
    killer = sa.create_engine(pg_url)
    cut = {"armed": True}

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def cut_connection(conn, cursor, statement, parameters, context, executemany):
        # terminate our own backend from outside, right as the run row is being inserted
        if cut["armed"] and statement.lstrip().upper().startswith("INSERT INTO") and "agno_runs" in statement:
            cut["armed"] = False
            pid = conn.exec_driver_sql("select pg_backend_pid()").scalar()
            with killer.connect() as k:
                k.execute(sa.text("select pg_terminate_backend(:pid)"), {"pid": pid})

    with pytest.raises(DatabaseUnreachableError, match="lost the connection.*rolled back") as err:
        agent.run("second", session_id="s1")
    lost = err.value.runs[0]  # the run is not lost: the error carries it
    assert lost.content == "Echo: second"
    assert [r.content for r in db.get_session("s1").runs] == ["Echo: first"]
    db.append_runs(err.value.session, err.value.runs)  # the next write reconnects
    agent.run("third", session_id="s1")
    assert [r.content for r in db.get_session("s1").runs] == ["Echo: first", "Echo: second", "Echo: third"]
    killer.dispose()


def test_reader_beside_a_writer_sees_consistent_snapshots(tmp_path):
    path = str(tmp_path / "live.db")
    Agent(id="w", model=EchoModel(), db=SqliteDb(db_file=path)).run("seed", session_id="live")
    proc = _start_writer(path, "live", payload_kb=4)
    written = []
    reader = threading.Thread(target=lambda: written.extend(l.strip() for l in proc.stdout))
    reader.start()
    loads = 0
    try:
        # counted, not timed: on a loaded machine a load may take seconds; 60 s is only a backstop
        deadline = time.time() + 60
        while (loads < 3 or len(written) <= 20) and time.time() < deadline:
            ex = agno_nb.connect(path, progress=False, errors="raise")
            messages = ex.messages()
            per_run = messages.groupby("run_id")["message_index"].agg(["count", "max"])
            # every run the snapshot holds is whole: indices 0..n-1, user + assistant
            assert (per_run["count"] == per_run["max"] + 1).all() and (per_run["count"] == 2).all()
            loads += 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join()
    assert loads >= 3 and len(written) > 20  # the writer kept going while we read
    stored = SqliteDb(db_file=path).get_session("live").runs
    assert set(written) <= {r.run_id for r in stored}


def _run(run_id, content="ok", **kw):
    return RunOutput(run_id=run_id, agent_id="a", status="COMPLETED", content=content,
                     input={"input_content": "q"}, metrics=Metrics(input_tokens=1, output_tokens=1, total_tokens=2),
                     messages=[Message(role="user", content="q"), Message(role="assistant", content=content)], **kw)


ODD_TEXTS = {
    "emoji": "🦉 owls 👩🏽‍🚀",
    "rtl": "שלום עולם مرحبا",
    "nul": "before\x00after",
    "surrogate": "lone \ud800 surrogate",
    "big": "x" * (10 * 1024 * 1024),
}


def test_malformed_and_odd_rows_load_and_are_reported(tmp_path):
    path = str(tmp_path / "odd.db")
    db = SqliteDb(db_file=path)
    for name, text in ODD_TEXTS.items():
        store_run(db, "odd", _run(name, content=text))
    store_run(db, "odd", _run("good"))
    store_run(db, "odd", _run("ms-time", created_at=1795546619123))
    store_run(db, "bad", _run("invalid-json"))
    store_run(db, "bad", _run("wrong-shape"))
    store_run(db, "bad", _run("no-role"))
    db.engine.dispose()
    con = sqlite3.connect(path)
    con.execute("update agno_runs set run_data = '{\"run_id\": \"invalid-json\", ' where run_id = 'invalid-json'")
    con.execute("update agno_runs set run_data = json_set(run_data, '$.messages', 'a string') where run_id = 'wrong-shape'")
    con.execute("update agno_runs set run_data = json_remove(run_data, '$.messages[0].role') where run_id = 'no-role'")
    con.commit()
    con.close()

    ex = agno_nb.connect(path)
    with pytest.warns(RuntimeWarning) as caught:
        messages = ex.messages()
    text = " ".join(str(w.message) for w in caught)
    assert "run_id='invalid-json'" in text and "run_id='wrong-shape'" in text and "skipped 2 bad row" in text
    by_run = messages.groupby("run_id")["content"].last().to_dict()
    for name in ("emoji", "rtl", "nul", "big"):
        assert by_run[name] == ODD_TEXTS[name], name
    assert by_run["surrogate"] == "lone \ufffd surrogate"  # DuckDB cannot hold it; replaced, not dropped
    assert {"good", "ms-time", "no-role"} <= set(by_run)
    assert messages[messages.run_id == "no-role"].role.isna().sum() == 1
    runs = agno_nb.connect(path, errors="ignore").runs()
    assert runs.set_index("run_id").loc["ms-time", "created_at"].year == 2026
    with pytest.raises(agno_nb.CorruptRowError, match="run_id='invalid-json'"):
        agno_nb.connect(path, errors="raise").messages()
    # the db methods name the bad row too
    with pytest.raises(agno_nb.CorruptRowError, match="session_id='bad'.*run_id='invalid-json'"):
        SqliteDb(db_file=path).get_session("bad")


def test_postgres_stores_what_jsonb_cannot_hold_without_losing_the_run(pg_url, pg_schema, request):
    from agno_nb.db.postgres import PostgresDb

    db = PostgresDb(pg_url, db_schema=pg_schema)
    request.addfinalizer(db.close)
    for name, text in ODD_TEXTS.items():
        store_run(db, "odd", _run(name, content=text))
    runs = {r.run_id: r.content for r in db.get_session("odd").runs}
    assert runs["nul"] == "before\ufffdafter" and runs["surrogate"] == "lone \ufffd surrogate"
    assert runs["emoji"] == ODD_TEXTS["emoji"] and runs["rtl"] == ODD_TEXTS["rtl"] and len(runs["big"]) == 10 * 1024 * 1024
    messages = agno_nb.connect(db).messages()
    assert set(messages.run_id) == set(ODD_TEXTS)


def test_null_run_data_is_reported(tmp_path):
    """A table written by some other tool, without Agno's NOT NULL on run_data."""
    path = str(tmp_path / "nulls.db")
    db = SqliteDb(db_file=path)
    store_run(db, "s", _run("good"))
    db.engine.dispose()
    con = sqlite3.connect(path)
    con.executescript("""
        alter table agno_runs rename to old_runs;
        create table agno_runs (run_id varchar primary key, session_id varchar, run_type varchar, agent_id varchar,
          team_id varchar, workflow_id varchar, user_id varchar, parent_run_id varchar, status varchar,
          run_index bigint, run_data json, created_at bigint, updated_at bigint);
        insert into agno_runs select * from old_runs;
        insert into agno_runs (run_id, session_id, run_type, run_index, run_data, created_at)
          values ('null-data', 's', 'agent', 1, null, 1);
    """)
    con.commit()
    con.close()
    with pytest.warns(RuntimeWarning, match="run_id='null-data': run_data is NULL"):
        runs = agno_nb.connect(path).runs()
    assert list(runs.run_id) == ["good"]
