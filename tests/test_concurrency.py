"""Many writers, one session: every run kept, run_index distinct, metrics summed."""

import multiprocessing as mp
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from _writers import open_db, write_runs


@pytest.fixture
def spec(backend, tmp_path, request):
    if backend == "sqlite":
        return ("sqlite", str(tmp_path / "concurrent.db"), None)
    if backend == "mysql":  # tests/test_mysql.py
        return ("mysql", request.getfixturevalue("mysql_url"), request.getfixturevalue("mysql_schema"))
    return ("postgres", request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema"))


def _check(spec, session_ids, expected_per_session):
    with open_db(spec) as db:
        _check_db(db, session_ids, expected_per_session)


def _check_db(db, session_ids, expected_per_session):
    layout = db.tables()
    for sid in session_ids:
        session = db.get_session(sid)
        assert len(session.runs) == expected_per_session
        with db.engine.connect() as conn:
            idx = conn.execute(sa.select(layout.runs.c.run_index).where(layout.runs.c.session_id == sid)).scalars().all()
        assert sorted(idx) == list(range(expected_per_session))
        assert session.session_metrics.total_tokens == sum(r.metrics.total_tokens for r in session.runs)
        assert session.session_metrics.input_tokens == sum(r.metrics.input_tokens for r in session.runs)


def test_eight_processes_fifty_runs_one_session(spec):
    with open_db(spec) as db:
        db.tables()  # not required (creation is locked) but keeps the test about appends
    ctx = mp.get_context("spawn")
    with ctx.Pool(8) as pool:
        done = pool.starmap(write_runs, [(spec, "shared", 50, w) for w in range(8)])
    assert sum(done) == 400
    _check(spec, ["shared"], 400)
    with open_db(spec) as db:
        state = db.get_session("shared").session_state
    assert set(state) == {f"w{i}" for i in range(8)}  # every writer's state key merged, none overwritten


def test_eight_threads_same_and_different_sessions(spec):
    with ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(write_runs, spec, "same", 20, w) for w in range(4)]
        jobs += [pool.submit(write_runs, spec, f"own-{w}", 20, w) for w in range(4, 8)]
        assert sum(j.result() for j in jobs) == 160
    _check(spec, ["same"], 80)
    _check(spec, [f"own-{w}" for w in range(4, 8)], 20)
    with open_db(spec) as db:
        assert len(db.get_sessions()) == 5
