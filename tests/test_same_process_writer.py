"""An agent writing a SQLite file from a thread while agno_nb loads it in the same process (issue 13, section 1).

Two SQLite libraries in one process cannot see each other's POSIX locks (and closing either
one's descriptor drops the other's), so reading with a second library while SQLAlchemy +
``sqlite3`` writes lost committed runs and corrupted the file. agno_nb reads SQLite through
``sqlite3`` only; these tests hold it to that under load: 20 rounds of loads on the main
thread while a writer thread runs, with agno_nb's own Agent and with real agno 3.1's.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Callable, List


import agno_nb
from agno_nb import Agent
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel

os.environ.setdefault("AGNO_TELEMETRY", "false")

ROUNDS = 20
BODY = "lorem ipsum " * 150  # ~1.8 kB per message: runs span several pages, loads take a while


def _seed(path: str) -> None:
    """Some history first, so each load reads many pages while the writer commits."""
    agent = Agent(id="seed", db=SqliteDb(db_file=path), model=EchoModel())
    for i in range(40):
        agent.run(f"seed {i} {BODY}", session_id=f"seed-{i % 10}", user_id="u")


def _check_load(path: str, with_sessions: bool = True) -> dict:
    """One round of loads; returns the number of messages per run_id that messages() saw."""
    ex = agno_nb.connect(path, progress=False, errors="raise")  # a half-written run would raise here
    # each load is one snapshot; the writer commits between them, and runs are only ever
    # added: what an earlier load saw, a later one holds too
    messages = ex.messages()
    runs = ex.runs()
    assert set(messages.run_id) <= set(runs.run_id)
    if with_sessions:
        assert set(runs.session_id) <= set(ex.sessions().session_id)
    by_run = messages.groupby("run_id").size().to_dict()
    # a run is stored whole (its row and all its messages) or not at all
    assert set(by_run) == set(messages.run_id) and all(n >= 2 for n in by_run.values())
    return by_run


def _hammer(path: str, write_one: Callable[[int], str]) -> None:
    """ROUNDS loads on this thread while ``write_one`` runs in a loop on another."""
    committed: List[str] = []
    failed: List[BaseException] = []
    stop = threading.Event()

    def writer():
        i = 0
        try:
            while not stop.is_set():
                committed.append(write_one(i))
                i += 1
        except BaseException as exc:  # noqa: BLE001 - reported on the main thread
            failed.append(exc)

    thread = threading.Thread(target=writer, daemon=True)
    seen: List[dict] = []
    thread.start()
    try:
        while len(committed) < 2 and thread.is_alive():
            time.sleep(0.01)
        for i in range(ROUNDS):
            seen.append(_check_load(path, with_sessions=i % 4 == 0))
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failed, f"the writer failed: {failed[0]!r}"
    assert len(committed) >= ROUNDS // 2, f"the writer hardly wrote ({len(committed)} runs): the test proves little"

    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = {r for (r,) in con.execute("SELECT run_id FROM agno_runs")}
    finally:
        con.close()
    missing = [r for r in committed if r not in stored]
    assert not missing, f"{len(missing)} of {len(committed)} committed runs lost"
    final = _check_load(path)
    assert set(committed) <= set(final)
    for counts in seen:  # a run, once completed, never changes: each load saw it whole
        assert {r: final[r] for r in counts} == counts


def test_agno_nb_agent_writing_in_the_same_process(tmp_path):
    path = str(tmp_path / "agent.db")
    _seed(path)
    agent = Agent(id="writer", db=SqliteDb(db_file=path), model=EchoModel())

    def write_one(i: int) -> str:
        return agent.run(f"message {i} {BODY}", session_id=f"live-{i % 7}", user_id="u").run_id

    _hammer(path, write_one)


def test_real_agno_agent_writing_in_the_same_process(tmp_path, openai_server):
    from agno.agent import Agent as AgnoAgent
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb
    from agno.models.openai.like import OpenAILike

    path = str(tmp_path / "agno.db")
    db = AgnoSqliteDb(db_file=path)
    agent = AgnoAgent(id="agno-writer", db=db, telemetry=False,
                      model=OpenAILike(id="fake-model", base_url=openai_server.base_url, api_key="sk-test"))
    agent.run(f"first {BODY}", session_id="live-0", user_id="u")  # agno creates its tables

    def write_one(i: int) -> str:
        return agent.run(f"message {i} {BODY}", session_id=f"live-{i % 7}", user_id="u").run_id

    try:
        _hammer(path, write_one)
    finally:
        db.db_engine.dispose()


def test_loads_never_open_a_second_sqlite_library(tmp_path):
    """The rule itself: no ADBC SQLite driver (or DuckDB sqlite extension) in the process after loads."""
    import subprocess
    import sys

    path = str(tmp_path / "agent.db")
    _seed(path)
    code = ("import sys, agno_nb\n"
            f"ex = agno_nb.connect({path!r}, progress=False)\n"
            "for name in ('sessions', 'runs', 'messages', 'tool_calls'): ex.table(name)\n"
            "mods = [m for m in sys.modules if m.startswith('adbc_driver_sqlite')]\n"
            "exts = ex.con.sql(\"select extension_name from duckdb_extensions() where loaded\").fetchall()\n"
            "print(mods, [e for (e,) in exts if 'sqlite' in e])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[] []"


def test_adbc_engine_is_refused_on_sqlite(tmp_path):
    """The in-process ADBC SQLite path is gone; asking for it says why (PostgreSQL keeps ADBC)."""
    import pytest

    path = str(tmp_path / "agent.db")
    _seed(path)
    with pytest.raises(ValueError, match="second SQLite library"):
        agno_nb.connect(path, engine="adbc")
    assert len(agno_nb.connect(path, engine="sqlalchemy", progress=False).messages()) == \
        len(agno_nb.connect(path, progress=False).messages())
