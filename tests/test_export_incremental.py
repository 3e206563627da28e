"""Incremental Parquet export (``to_parquet(..., since_last=True)``): after any number of
appends every table holds exactly the rows of a fresh full export; nothing new adds nothing;
a process killed mid-append leaves the previous export whole and readable."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import agno_nb
from agno_nb import Agent
from agno_nb.analysis import parquet
from agno_nb.analysis.columns import TABLES
from agno_nb.analysis.parquet import MARKER
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel

from test_analysis import write_sessions
from test_export import leftovers, snapshot

KEYS = {"sessions": ["session_id"], "runs": ["run_id"], "messages": ["run_id", "message_index"],
        "tool_calls": ["run_id", "tool_call_id"]}


def rows(source, name: str, **filters) -> pd.DataFrame:
    df = agno_nb.connect(source).table(name, **filters)
    return df.sort_values(KEYS[name], kind="stable").reset_index(drop=True)


def assert_same_as_full_export(ex, export: Path, tmp_path: Path, **filters) -> None:
    """Every table of ``export`` holds exactly the rows (values and dtypes) of a fresh full export."""
    layout = parquet.read_marker(export)["partition_by"]
    fresh = ex.to_parquet(tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}", partition_by=layout, **filters)
    for name in TABLES:
        got, want = rows(export, name), rows(fresh, name)
        assert len(got) > 0, name
        pd.testing.assert_frame_equal(got, want, obj=name)
        # pandas reads the hive folders too, with no row twice
        target = export / name if (export / name).is_dir() else export / f"{name}.parquet"
        assert len(pd.read_parquet(target)) == len(want), name


def more_runs(db: SqliteDb, tag: str) -> None:
    """New runs in an old session (w-1, e-1) and in a new session, by agno_nb's own Agent."""
    Agent(id="echo", db=db, model=EchoModel()).run(f"again {tag}", session_id="e-1", user_id="bob")
    Agent(id="echo", db=db, model=EchoModel()).run(f"new {tag}", session_id=f"n-{tag}", user_id="alice")
    Agent(id="weather", db=db, model=EchoModel()).run(f"more {tag}", session_id="w-1", user_id="alice")


@pytest.fixture
def store(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "agents.db"))
    write_sessions(db)  # agent, team and workflow sessions, tool calls, member runs
    return db


@pytest.mark.parametrize("partition_by", [("agent_id", "date"), ()], ids=["partitioned", "files"])
def test_since_last_adds_the_new_runs_and_equals_a_full_export(store, tmp_path, partition_by):
    ex = agno_nb.connect(store)
    out = ex.to_parquet(tmp_path / "export", partition_by=partition_by)
    first = json.loads((out / MARKER).read_text())["incremental"]
    assert first["appends"] == 0 and first["watermark"] == int(ex.sessions().updated_at.max().timestamp())
    runs_before = len(ex.runs())

    more_runs(store, "1")
    assert ex.to_parquet(out, since_last=True) == out
    marker = json.loads((out / MARKER).read_text())
    assert marker["incremental"]["appends"] == 1
    assert marker["incremental"]["last_added"]["runs"] == len(ex.runs()) - runs_before == 3
    assert marker["tables"]["runs"]["rows"] == len(ex.runs())
    assert_same_as_full_export(ex, out, tmp_path)
    back = agno_nb.connect(out).sessions().set_index("session_id")
    assert back.index.is_unique  # an old session with new runs is replaced, never added twice
    assert back.loc["e-1", "n_runs"] == 2 and "n-1" in back.index
    if partition_by:  # the new runs are new files beside the old ones, which are untouched
        assert list(out.glob("runs/**/append1_*.parquet")) and list(out.glob("runs/**/data_0.parquet"))

    # nothing new: nothing changes, byte for byte
    kept = snapshot(out)
    ex.to_parquet(out, since_last=True)
    assert snapshot(out) == kept

    more_runs(store, "2")  # a second append
    ex.to_parquet(out, since_last=True)
    assert json.loads((out / MARKER).read_text())["incremental"]["appends"] == 2
    assert_same_as_full_export(ex, out, tmp_path)
    assert leftovers(tmp_path) == []


def test_runs_at_or_before_the_watermark_are_neither_lost_nor_doubled(store, tmp_path):
    """Runs stored in the watermark's own second, or committed a little after the time they
    carry (a session ``updated_at`` just before the watermark), are still added, once."""
    ex = agno_nb.connect(store)
    out = ex.to_parquet(tmp_path / "export")
    watermark = json.loads((out / MARKER).read_text())["incremental"]["watermark"]
    # a session whose stored updated_at is 10 s before the watermark, as a slow commit leaves it
    late = agno_nb.connect(store).sessions(session_ids=["e-1"])
    assert len(late) == 1
    db2 = SqliteDb(db_file=str(tmp_path / "other.db"))
    Agent(id="echo", db=db2, model=EchoModel()).run("late", session_id="late-1", user_id="bob")
    (session,) = db2.get_sessions()
    session.updated_at = watermark - 10
    session.created_at = watermark - 20
    store.upsert_sessions([session], preserve_updated_at=True)
    # and a run in the watermark's own second, in a session already exported
    Agent(id="echo", db=store, model=EchoModel()).run("same second", session_id="e-1", user_id="bob")
    ex.to_parquet(out, since_last=True)
    assert_same_as_full_export(ex, out, tmp_path)
    assert {"late-1", "e-1"} <= set(agno_nb.connect(out).runs().session_id)


def test_since_last_keeps_the_exports_filters_and_layout(store, tmp_path):
    ex = agno_nb.connect(store)
    out = ex.to_parquet(tmp_path / "alice", partition_by=("user_id",), user_id="alice")
    more_runs(store, "1")
    with pytest.raises(ValueError, match="partitioned by"):
        ex.to_parquet(out, since_last=True, partition_by=("agent_id",))
    with pytest.raises(ValueError, match="own filters"):
        ex.to_parquet(out, since_last=True, user_id="bob")
    with pytest.raises(ValueError, match="choose one"):
        ex.to_parquet(out, since_last=True, overwrite=True)
    ex.to_parquet(out, since_last=True)  # the export's own filters and partitioning
    got = rows(out, "runs")
    assert set(got.user_id) == {"alice"} and "n-1" in set(got.session_id) and "e-1" not in set(got.session_id)
    assert_same_as_full_export(ex, out, tmp_path, user_id="alice")

    # no export there yet: since_last writes a full one
    new = ex.to_parquet(tmp_path / "new", since_last=True)
    assert_same_as_full_export(ex, new, tmp_path)


def test_a_run_changed_after_its_export_is_named_in_a_warning(store, tmp_path):
    ex = agno_nb.connect(store)
    out = ex.to_parquet(tmp_path / "export")
    session = store.get_session(session_id="e-1", session_type="agent")
    run = session.runs[0]
    run.status = "ERROR"  # stored again under its run_id
    store.upsert_run(run, session_id="e-1")
    with pytest.warns(RuntimeWarning, match=f"changed in the source.*{run.run_id}"):
        ex.to_parquet(out, since_last=True)


KILL_POINTS = {
    # after the first table's new files are written into the folder being assembled
    "mid-append": "real = parquet._add_rows\n"
                  "def hook(*a, **k):\n    real(*a, **k)\n    os._exit(9)\n"
                  "parquet._add_rows = hook",
    # everything written and synced, just before the swap
    "before-swap": "parquet._swap_in = lambda *a, **k: os._exit(9)",
}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_mid_append_leaves_the_previous_export_whole(store, tmp_path, point):
    ex = agno_nb.connect(store)
    out = ex.to_parquet(tmp_path / "export")
    before, tables = snapshot(out), {n: rows(out, n) for n in TABLES}
    more_runs(store, "1")
    script = "import os\nimport agno_nb\nfrom agno_nb.analysis import parquet\n" + KILL_POINTS[point] + textwrap.dedent(f"""
        agno_nb.connect({str(tmp_path / "agents.db")!r}).to_parquet({str(out)!r}, since_last=True)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert snapshot(out) == before  # not one file added, changed or removed
    for name in TABLES:
        pd.testing.assert_frame_equal(rows(out, name), tables[name], obj=name)
    (partial,) = [p for p in tmp_path.iterdir() if ".export.agno_nb-writing-" in p.name]
    assert parquet.read_marker(partial) is None or point == "before-swap"
    # the next append starts again from the intact export and adds everything once
    ex.to_parquet(out, since_last=True)
    assert_same_as_full_export(ex, out, tmp_path)


def test_since_last_on_every_backend(make_db, tmp_path):
    """SQLite and the real PostgreSQL: same watermark, same rows as a full export."""
    db = make_db()
    write_sessions(db)
    ex = agno_nb.connect(db)
    out = ex.to_parquet(tmp_path / "export")
    more_runs(db, "1")
    ex.to_parquet(out, since_last=True)
    assert json.loads((out / MARKER).read_text())["incremental"]["last_added"]["runs"] == 3
    assert_same_as_full_export(ex, out, tmp_path)
    kept = snapshot(out)
    ex.to_parquet(out, since_last=True)
    assert snapshot(out) == kept


def test_a_session_dated_in_the_future_does_not_hide_later_runs(store, tmp_path):
    """One ``updated_at`` an hour ahead (a writer's clock, a copied row) must not move the
    watermark past the runs stored meanwhile: it is never later than the export's own clock."""
    db2 = SqliteDb(db_file=str(tmp_path / "other.db"))
    Agent(id="echo", db=db2, model=EchoModel()).run("from the future", session_id="future-1", user_id="bob")
    (session,) = db2.get_sessions()
    session.updated_at = int(time.time()) + 3600
    store.upsert_sessions([session], preserve_updated_at=True)
    ex = agno_nb.connect(store)
    out = ex.to_parquet(tmp_path / "export")
    assert json.loads((out / MARKER).read_text())["incremental"]["watermark"] <= time.time()
    more_runs(store, "1")
    ex.to_parquet(out, since_last=True)
    assert_same_as_full_export(ex, out, tmp_path)


def test_two_appends_at_once_never_lose_one(store, tmp_path, monkeypatch):
    """An append that finds the export changed under it (another exporter swapped in first)
    stops with ExportPathError and leaves the other one's export, which is complete."""
    ex = agno_nb.connect(store)
    out = ex.to_parquet(tmp_path / "export")
    more_runs(store, "1")
    real, nested = parquet._sync_tree, []

    def another_export_meanwhile(folder):
        real(folder)
        if not nested:
            nested.append(1)
            ex.to_parquet(out, since_last=True)  # the other exporter, done first

    monkeypatch.setattr(parquet, "_sync_tree", another_export_meanwhile)
    with pytest.raises(parquet.ExportPathError, match="changed while this append"):
        ex.to_parquet(out, since_last=True)
    monkeypatch.undo()
    assert json.loads((out / MARKER).read_text())["incremental"]["appends"] == 1
    assert_same_as_full_export(ex, out, tmp_path)
    assert leftovers(tmp_path) == []


def test_an_export_without_a_watermark_is_not_appended_to(store, tmp_path):
    ex = agno_nb.connect(store)
    out = ex.to_parquet(tmp_path / "export")
    marker = json.loads((out / MARKER).read_text())
    del marker["incremental"]  # as written before incremental export existed
    (out / MARKER).write_text(json.dumps(marker))
    kept = snapshot(out)
    with pytest.raises(parquet.ExportPathError, match="without incremental export") as err:
        ex.to_parquet(out, since_last=True)
    assert str(out) in str(err.value) and snapshot(out) == kept
