"""Durability and storage edge cases (issue 13, §3, §6 and the storage side of §7).

NaN and ±Infinity in a run, SQLite's synchronous / foreign_keys / WAL-on-open, and how
PostgresDb behaves without psycopg and at interpreter exit.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

import agno_nb
from agno_nb.db.sqlite import SqliteDb
from agno_nb.records import Message, Metrics, RunOutput, ToolExecution, session_from_dict

NAN, INF = float("nan"), float("inf")
ROOT = Path(__file__).resolve().parent.parent


def _refuse_constant(name):
    raise ValueError(f"non-standard JSON token {name}")


def _strict_json(text):
    """Parse as standard JSON: NaN / Infinity tokens are an error."""
    return json.loads(text, parse_constant=_refuse_constant)


def _nan_run(run_id, cost=NAN):
    return RunOutput(
        run_id=run_id, agent_id="a", status="COMPLETED", content="ok",
        metrics=Metrics(input_tokens=1, total_tokens=1, cost=cost, duration=INF, time_to_first_token=-INF),
        messages=[
            Message(role="user", content="q"),
            Message(role="assistant", tool_calls=[{"id": "c1", "type": "function",
                                                   "function": {"name": "f", "arguments": '{"x": NaN}'}}],
                    metrics=Metrics(duration=NAN)),
            Message(role="tool", tool_call_id="c1", tool_name="f", tool_args={"x": NAN, "y": [INF, -INF, 1.5]},
                    content="r"),
        ],
        tools=[ToolExecution(tool_call_id="c1", tool_name="f", tool_args={"x": NAN, "y": [INF, -INF, 1.5]},
                             result="r", metrics={"duration": NAN})],
    )


def _append(db, session_id, run):
    """Store ``run`` as an agent does: the session is created if missing and its metrics summed."""
    db.append_runs(session_from_dict({"session_id": session_id, "session_type": "agent"}), [run])


def _raw_run_data(db, run_id):
    layout = db.tables()
    t = layout.runs
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.cast(t.c.run_data, sa.Text)).where(t.c.run_id == run_id)).scalar_one()


# -- §3: NaN and Infinity ------------------------------------------------------------------


def test_nan_and_infinity_are_stored_as_null_on_both_backends(make_db):
    db = make_db()
    _append(db, "s", _nan_run("r1"))  # PostgreSQL refused this whole run (DataError) before
    _append(db, "s", _nan_run("r1"))  # and writing it again
    _append(db, "s", _nan_run("r2", cost=0.25))

    # what is stored is standard JSON, on both backends
    stored = _strict_json(_raw_run_data(db, "r1"))
    assert stored["metrics"]["cost"] is None and stored["metrics"]["duration"] is None
    assert stored["tools"][0]["tool_args"] == {"x": None, "y": [None, None, 1.5]}

    session = db.get_session("s")
    r1, r2 = session.runs
    assert (r1.metrics.cost, r1.metrics.duration, r1.metrics.time_to_first_token) == (None, None, None)
    assert r1.metrics.total_tokens == 1 and r2.metrics.cost == 0.25
    assert r1.tools[0].tool_args == {"x": None, "y": [None, None, 1.5]} and r1.tools[0].metrics == {"duration": None}
    assert r1.messages[2].tool_args == {"x": None, "y": [None, None, 1.5]}
    # the model's own argument text is a string, and stays as it was
    assert r1.messages[1].tool_calls[0]["function"]["arguments"] == '{"x": NaN}'
    # the session's metrics are the sum of what the runs read back: a NaN does not wipe the sum
    metrics = session.session_data["session_metrics"]
    assert metrics["cost"] == 0.25 and metrics["total_tokens"] == 2 and metrics.get("duration") is None

    ex = agno_nb.connect(db)
    runs = ex.runs().set_index("run_id")
    assert runs.loc["r1", "duration"] != runs.loc["r1", "duration"]  # NaN in pandas: missing
    assert math.isnan(runs.loc["r1", "time_to_first_token"]) and runs.loc["r1", "total_tokens"] == 1
    calls = ex.tool_calls()
    assert list(calls.tool_args) == ['{"x":null,"y":[null,null,1.5]}'] * 2
    assert calls.duration.isna().all()
    messages = ex.messages()
    assert len(messages) == 6 and messages.duration.isna().all()


def test_nan_rows_written_by_real_agno_on_sqlite_read_as_null(tmp_path):
    """Real agno 3.1 writes NaN / Infinity tokens into SQLite; they read back as null everywhere."""
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb
    from agno.metrics import RunMetrics
    from agno.models.message import Message as AgnoMessage
    from agno.models.response import ToolExecution as AgnoToolExecution
    from agno.run.agent import RunOutput as AgnoRunOutput
    from agno.session import AgentSession

    path = str(tmp_path / "agno.db")
    theirs = AgnoSqliteDb(db_file=path)
    run = AgnoRunOutput(
        run_id="r1", agent_id="a", session_id="s", content="ok",
        metrics=RunMetrics(input_tokens=1, total_tokens=1, cost=NAN, duration=INF, time_to_first_token=-INF),
        tools=[AgnoToolExecution(tool_call_id="c1", tool_name="f", result="r",
                                 tool_args={"x": NAN, "y": [INF, -INF, 1.5], "note": 'NaN "Infinity"'})],
        messages=[AgnoMessage(role="user", content="q"),
                  AgnoMessage(role="tool", tool_call_id="c1", tool_name="f", tool_args={"x": NAN}, content="r")])
    theirs.upsert_session(AgentSession(session_id="s", agent_id="a", created_at=1,
                                       session_data={"session_metrics": {"cost": NAN, "total_tokens": 1}}))
    theirs.upsert_run(run, session_id="s", run_index=0)
    theirs.db_engine.dispose()
    raw = sqlite3.connect(path).execute("select run_data from agno_runs").fetchone()[0]
    assert "NaN" in raw and "Infinity" in raw  # what real agno leaves on disk

    ours = SqliteDb(db_file=path)
    session = ours.get_session("s")
    (r1,) = session.runs
    assert (r1.metrics.cost, r1.metrics.duration, r1.metrics.time_to_first_token) == (None, None, None)
    assert r1.tools[0].tool_args == {"x": None, "y": [None, None, 1.5], "note": 'NaN "Infinity"'}
    assert session.session_data["session_metrics"]["cost"] is None
    ours.close()

    ex = agno_nb.connect(path, errors="raise")
    runs = ex.runs()
    assert list(runs.run_id) == ["r1"] and runs.duration.isna().all() and runs.time_to_first_token.isna().all()
    # the tokens become null; the same words inside a string stay
    assert list(ex.tool_calls().tool_args) == ['{"x":null,"y":[null,null,1.5],"note":"NaN \\"Infinity\\""}']
    assert len(ex.messages()) == 2
    # and a new run appended by agno_nb to that session keeps the sum right
    ours = SqliteDb(db_file=path)
    _append(ours, "s", _nan_run("r2", cost=0.5))
    assert ours.get_session("s").session_data["session_metrics"]["cost"] == 0.5
    ours.close()


# -- §6: SQLite durability -----------------------------------------------------------------


def _pragma(db, name):
    with db.engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_synchronous_is_full_by_default_and_normal_on_request(tmp_path):
    full = SqliteDb(db_file=str(tmp_path / "full.db"))
    normal = SqliteDb(db_file=str(tmp_path / "normal.db"), synchronous="NORMAL")
    try:
        assert _pragma(full, "synchronous") == 2  # FULL: a committed run survives a power loss
        assert _pragma(normal, "synchronous") == 1
        assert _pragma(full, "journal_mode") == "wal" and _pragma(full, "foreign_keys") == 1
    finally:
        full.close()
        normal.close()
    with pytest.raises(ValueError, match="synchronous"):
        SqliteDb(db_file=str(tmp_path / "x.db"), synchronous="SOMETIMES")


def test_sqlite_plain_sql_delete_of_a_session_cascades_to_its_runs(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "fk.db"))
    _append(db, "gone", RunOutput(run_id="g1", agent_id="a", content="x"))
    _append(db, "gone", RunOutput(run_id="g2", agent_id="a", content="y"))
    _append(db, "kept", RunOutput(run_id="k1", agent_id="a", content="z"))
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM agno_sessions WHERE session_id = 'gone'")
    with db.engine.connect() as conn:
        left = [r[0] for r in conn.exec_driver_sql("SELECT run_id FROM agno_runs ORDER BY run_id")]
    db.close()
    assert left == ["k1"]


def test_opening_a_new_file_waits_while_another_process_holds_its_write_lock(tmp_path):
    """The deterministic form of the race below: the switch to WAL must wait, not fail at once."""
    path = str(tmp_path / "held.db")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys, time
        con = sqlite3.connect({path!r}, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        con.execute("CREATE TABLE other_tool (x)")
        print("holding", flush=True)
        time.sleep(1.5)
        con.execute("COMMIT")
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        db = SqliteDb(db_file=path)
        _append(db, "s", RunOutput(run_id="r1", agent_id="a", content="hi"))  # failed: "database is locked"
        assert [r.run_id for r in db.get_session("s").runs] == ["r1"]
        assert _pragma(db, "journal_mode") == "wal"
        db.close()
    finally:
        assert holder.wait(timeout=60) == 0
        holder.stdout.close()


def _open_and_write(path, barrier, worker, out):
    try:
        barrier.wait(timeout=60)
        db = SqliteDb(db_file=path)
        _append(db, "s", RunOutput(run_id=f"w{worker}", agent_id="a", content="hi"))
        db.close()
        out.put((worker, None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        out.put((worker, f"{type(exc).__name__}: {exc}"))


def test_ten_processes_opening_a_new_sqlite_file_at_once_all_succeed(tmp_path):
    """Switching a new file to WAL does not wait on the busy timeout; agno_nb must."""
    ctx = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(10):
        path = str(tmp_path / f"new-{round_}.db")
        barrier, out = ctx.Barrier(10), ctx.Queue()
        procs = [ctx.Process(target=_open_and_write, args=(path, barrier, w, out)) for w in range(10)]
        for p in procs:
            p.start()
        results = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        failures += [f"round {round_} worker {w}: {err}" for w, err in results if err]
        if not any(err for _, err in results):
            con = sqlite3.connect(path)
            assert con.execute("select count(*) from agno_runs").fetchone()[0] == 10
            assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
            con.close()
    assert not failures, "\n".join(failures)


# -- §7: PostgresDb without psycopg, and at exit -------------------------------------------


def _python(code, *flags, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, *flags, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=120, **kw)


def test_missing_psycopg_says_which_extra_to_install():
    done = _python("""
        import sys
        sys.modules["psycopg"] = None  # as if it were not installed
        from agno_nb.errors import AgnoNbError
        from agno_nb.db.postgres import PostgresDb
        try:
            PostgresDb("postgresql://postgres:s3cret@127.0.0.1:5432/test")
        except AgnoNbError as exc:
            print(type(exc).__name__, exc)
        """)
    assert done.returncode == 0, done.stderr
    assert 'pip install "agno_nb[postgres]"' in done.stdout and "psycopg" in done.stdout
    assert "s3cret" not in done.stdout + done.stderr and "ModuleNotFoundError" not in done.stderr


def test_postgres_leaves_no_connection_open_at_exit(pg_url, pg_schema):
    done = _python(f"""
        from agno_nb.db.postgres import PostgresDb
        from agno_nb.records import RunOutput, session_from_dict
        db = PostgresDb({pg_url!r}, db_schema={pg_schema!r})
        db.append_runs(session_from_dict(dict(session_id="s", session_type="agent")), [RunOutput(run_id="r1", agent_id="a", content="hi")])
        assert db.get_session("s").runs[0].content == "hi"
        print("written")
        """, "-W", "error::ResourceWarning", "-X", "dev")
    assert done.returncode == 0 and done.stdout.strip() == "written", done.stderr
    assert "ResourceWarning" not in done.stderr and "still open" not in done.stderr, done.stderr
