"""``python -m agno_nb.demo PATH`` never replaces a file of the user's: only an earlier demo
database nobody has written to since, or anything with ``--force``."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import agno_nb
from agno_nb import Agent, demo
from agno_nb.db.sqlite import SqliteDb
from agno_nb.errors import AgnoNbError
from agno_nb.models import EchoModel

from conftest import FIXTURES

os.environ.setdefault("AGNO_TELEMETRY", "false")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # the agno_nb this test imported, whatever the subprocess's working directory
    package_root = str(Path(agno_nb.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "agno_nb.demo", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def state(path: Path):
    return path.read_bytes(), path.stat().st_mtime_ns


def user_files(tmp_path: Path) -> dict:
    """Files a user may have where the demo is asked to write."""
    text = tmp_path / "notes.txt"
    text.write_text("my notes\n")
    empty = tmp_path / "empty.db"
    empty.touch()
    agent_db = tmp_path / "agent.db"  # a real agno 3.1 database
    shutil.copy(FIXTURES / "agno-3.1-sqlite.db", agent_db)
    used = tmp_path / "used-demo.db"  # a demo database the user then ran their own agent on
    demo.build(used, sessions=3)
    Agent(id="mine", db=SqliteDb(db_file=str(used)), model=EchoModel()).run("my question", session_id="mine-1")
    return {"text file": text, "empty file": empty, "agno database": agent_db, "demo database written to": used}


def test_refuses_to_replace_what_it_did_not_build(tmp_path):
    files = user_files(tmp_path)
    before = {name: state(p) for name, p in files.items()}
    listing = sorted(os.listdir(tmp_path))
    for name, path in files.items():
        with pytest.raises(demo.DemoPathError) as err:
            demo.build(path, sessions=2)
        assert isinstance(err.value, AgnoNbError)
        assert str(path) in str(err.value) and "--force" in str(err.value), name
        assert demo.main([str(path), "--sessions", "2"]) == 1
    assert {name: state(p) for name, p in files.items()} == before
    assert sorted(os.listdir(tmp_path)) == listing  # no temporary or -wal/-shm files left behind
    assert "may hold your sessions" in demo.not_a_demo(files["demo database written to"])

    out = cli("agent.db", cwd=tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "refusing to replace 'agent.db'" in out.stderr and "--force" in out.stderr
    assert state(files["agno database"]) == before["agno database"]


def test_force_replaces_anything(tmp_path):
    files = user_files(tmp_path)
    assert demo.main([str(files["text file"]), "--sessions", "2", "--force"]) == 0
    demo.build(files["agno database"], sessions=2, force=True)
    for path in (files["text file"], files["agno database"]):
        assert len(agno_nb.sessions_df(path)) == 2
        assert demo.not_a_demo(path) is None


def test_an_earlier_demo_database_is_replaced_without_force(tmp_path):
    path = demo.build(tmp_path / "demo.db", sessions=3)
    assert demo.not_a_demo(path) is None
    # reading it (analysis, agno_nb's and real agno's db API) is not writing to it
    agno_nb.connect(path).messages()
    assert len(SqliteDb(db_file=str(path)).get_sessions()) == 3
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb

    agno_db = AgnoSqliteDb(db_file=str(path))
    assert len(agno_db.get_sessions(session_type=None)) == 3
    agno_db.db_engine.dispose()
    assert demo.build(path, sessions=5, seed=9) == path  # the Python API, then the CLI, as scripts/demo.sh does
    assert len(agno_nb.sessions_df(path)) == 5
    out = cli(str(path), "--sessions", "4", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert len(agno_nb.sessions_df(path)) == 4
    assert not [p for p in os.listdir(tmp_path) if "agno-nb-demo" in p]  # no build folder left


def test_demo_database_is_marked_and_stays_a_valid_agno_database(tmp_path):
    path = demo.build(tmp_path / "demo.db", sessions=4, session_table="my_sessions")
    with open(path, "rb") as f:
        header = f.read(100)
    assert int.from_bytes(header[68:72], "big") == demo.DEMO_APPLICATION_ID
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("PRAGMA application_id").fetchone() == (demo.DEMO_APPLICATION_ID,)
    con.close()
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb

    agno_db = AgnoSqliteDb(db_file=str(path), session_table="my_sessions")
    sessions = agno_db.get_sessions(session_type=None)
    assert len(sessions) == 4 and all(s.runs for s in sessions)
    agno_db.db_engine.dispose()
    assert demo.not_a_demo(path) is None  # a custom session table is checked too


def test_missing_folder_or_a_folder_is_a_clear_error(tmp_path):
    asked = tmp_path / "no" / "such" / "demo.db"
    with pytest.raises(demo.DemoPathError) as err:
        demo.build(asked)
    message = str(err.value)
    assert str(asked) in message and "does not exist" in message and "agno-nb-demo-" not in message
    with pytest.raises(demo.DemoPathError, match="is a folder"):
        demo.build(tmp_path)
    out = cli("missing/demo.db", cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr and out.stderr.count("\n") == 1
    assert "'missing/demo.db'" in out.stderr and "'missing' does not exist" in out.stderr
    assert os.listdir(tmp_path) == []  # nothing created


def test_a_symbolic_link_is_not_followed_without_force(tmp_path):
    real = demo.build(tmp_path / "real.db", sessions=2)
    link = tmp_path / "link.db"
    link.symlink_to(real)
    with pytest.raises(demo.DemoPathError, match="symbolic link"):
        demo.build(link, sessions=2)
    assert link.is_symlink()


def strip_marker(path: Path) -> None:
    """Make ``path`` look like a demo database built before they were marked (agno_nb 0.1)."""
    con = sqlite3.connect(path)
    con.execute(f"DROP TABLE {demo.DEMO_TABLE}")
    con.execute("PRAGMA application_id = 0")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def test_a_demo_database_from_before_the_marker_is_still_recognised(tmp_path):
    """Clones that ran scripts/demo.sh before this change hold an unmarked notebooks/demo.db;
    the script must still rebuild it, and still refuse it once the user has written to it."""
    old = demo.build(tmp_path / "old.db", sessions=6, seed=4)
    strip_marker(old)
    assert demo.not_a_demo(old) is None
    assert sorted(os.listdir(tmp_path)) == ["old.db"]  # checking it left no -wal/-shm behind
    assert demo.main([str(old), "--sessions", "3"]) == 0 and demo.not_a_demo(old) is None

    used = demo.build(tmp_path / "used.db", sessions=6, seed=4)
    strip_marker(used)
    db = SqliteDb(db_file=str(used))
    Agent(id="weather-agent", db=db, model=EchoModel()).run("mine", session_id="mine-1", user_id="alice")
    db.engine.dispose()
    before = state(used)
    assert "did not write" in demo.not_a_demo(used)
    with pytest.raises(demo.DemoPathError):
        demo.build(used, sessions=2)
    assert state(used) == before
