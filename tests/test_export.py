"""Parquet export that can be trusted: atomic, never mixing exports, never touching what is not
an export, every table readable (even empty) by pandas, DuckDB and ``agno_nb.connect``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import agno_nb
from agno_nb import Agent
from agno_nb.analysis import parquet
from agno_nb.analysis.columns import TABLES
from agno_nb.analysis.parquet import MARKER, ExportPathError
from agno_nb.db.sqlite import SqliteDb
from agno_nb.demo import build
from agno_nb.errors import AgnoNbError
from agno_nb.models import EchoModel

from test_analysis import DTYPES, write_sessions

PARTITIONINGS = [("agent_id", "date"), ("user_id",), ("team_id", "agent_id"), ()]


def snapshot(folder: Path) -> dict:
    """Every file and folder below ``folder``, with the bytes and mtime of the files."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.stat()
        out[str(p.relative_to(folder))] = (p.read_bytes(), st.st_mtime_ns) if p.is_file() else "dir"
    return out


def leftovers(parent: Path) -> list:
    return [p.name for p in parent.iterdir() if ".agno_nb-" in p.name]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build(tmp_path_factory.mktemp("demo") / "demo.db", sessions=20, seed=3)


@pytest.fixture
def mixed_db(tmp_path):
    """Agent, team and workflow sessions (team and workflow rows have a NULL agent_id),
    plus a user id that needs escaping in a folder name."""
    db = SqliteDb(db_file=str(tmp_path / "mixed.db"))
    write_sessions(db)
    Agent(id="odd", db=db, model=EchoModel()).run("hi", session_id="odd-1", user_id="ü/b c%=1?")
    return db


@pytest.fixture
def no_tools_db(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "no-tools.db"))
    Agent(id="echo", db=db, model=EchoModel()).run("hello", session_id="s-1", user_id="alice")
    return db


# -- one export at a time, whole -----------------------------------------------------------

def test_export_over_an_export_needs_overwrite_and_never_mixes(demo_db, tmp_path):
    ex = agno_nb.connect(demo_db)
    everything, alice = ex.runs(), ex.runs(user_id="alice")
    assert 0 < len(alice) < len(everything)
    out = tmp_path / "export"
    assert ex.to_parquet(out) == out
    assert len(agno_nb.connect(out).runs()) == len(everything)
    before = snapshot(out)

    with pytest.raises(ExportPathError) as err:
        ex.to_parquet(out, user_id="alice")
    assert str(out) in str(err.value) and "overwrite=True" in str(err.value)
    assert isinstance(err.value, AgnoNbError)
    assert snapshot(out) == before  # untouched

    ex.to_parquet(out, user_id="alice", overwrite=True)
    back = agno_nb.connect(out)
    assert len(back.runs()) == len(alice)  # not the earlier export's runs mixed in
    assert set(back.runs().run_id) == set(alice.run_id)
    assert set(back.messages().run_id) <= set(alice.run_id)
    marker = json.loads((out / MARKER).read_text())
    assert marker["filters"] == {"user_id": "alice"} and marker["tables"]["runs"]["rows"] == len(alice)
    assert marker["version"] == parquet.FORMAT_VERSION and marker["partition_by"] == ["agent_id", "date"]

    ex.to_parquet(out, partition_by=(), overwrite=True)  # another layout: nothing of the old one stays
    from agno_nb.analysis.stored import STORED  # Agno's other tables: one file each, in every layout

    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *(f"{n}.parquet" for n in [*TABLES, *STORED])])
    assert len(agno_nb.connect(out).runs()) == len(everything)
    assert leftovers(tmp_path) == []


def test_what_is_not_an_export_is_never_touched(demo_db, tmp_path):
    ex = agno_nb.connect(demo_db)
    mine = tmp_path / "my-folder"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes")
    (mine / "sub" / "data.parquet").write_bytes(b"PAR1 mine")
    a_file = tmp_path / "report.txt"
    a_file.write_text("not a folder")
    legacy = tmp_path / "old-export"  # an export without the marker: cannot be told from user data
    (legacy / "runs").mkdir(parents=True)
    (legacy / "runs" / "data_0.parquet").write_bytes(b"PAR1")
    before = {p: snapshot(p) for p in (mine, legacy)}
    file_before = (a_file.read_bytes(), a_file.stat().st_mtime_ns)

    for target in (mine, legacy):
        for overwrite in (False, True):
            with pytest.raises(ExportPathError, match="not an agno_nb export") as err:
                ex.to_parquet(target, overwrite=overwrite)
            assert str(target) in str(err.value)
    for overwrite in (False, True):
        with pytest.raises(ExportPathError, match="is a file") as err:
            ex.to_parquet(a_file, overwrite=overwrite)
        assert str(a_file) in str(err.value)
    assert {p: snapshot(p) for p in (mine, legacy)} == before
    assert (a_file.read_bytes(), a_file.stat().st_mtime_ns) == file_before

    # an export to which the user added a file of their own is not replaced either
    export = ex.to_parquet(tmp_path / "export")
    (export / "analysis.ipynb").write_text("{}")
    kept = snapshot(export)
    with pytest.raises(ExportPathError, match="analysis.ipynb"):
        ex.to_parquet(export, overwrite=True)
    assert snapshot(export) == kept

    # an empty folder, and a path whose parents do not exist yet, are fine
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "empty", tmp_path / "a" / "b" / "new"):
        assert len(agno_nb.connect(ex.to_parquet(target)).sessions()) == 20
    assert leftovers(tmp_path) == []


def test_a_failed_export_leaves_the_previous_one(demo_db, tmp_path):
    ex = agno_nb.connect(demo_db)
    out = ex.to_parquet(tmp_path / "export")
    before = snapshot(out)

    def fail_on_tool_calls(name, filters, derived):
        if name == "tool_calls":
            raise RuntimeError("source went away")

    stop = ex.on_load(fail_on_tool_calls)
    with pytest.raises(RuntimeError, match="source went away"):
        ex.to_parquet(out, user_id="alice", overwrite=True)
    stop()
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []
    with pytest.raises(TypeError):  # a wrong filter fails before anything is written
        ex.to_parquet(tmp_path / "never", agent="x")
    assert not (tmp_path / "never").exists() and leftovers(tmp_path) == []


def test_the_swap_is_atomic_where_the_system_can(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "from-a").touch(), (b / "from-b").touch()
    assert sys.platform.startswith("linux")  # the CI machine: renameat2(RENAME_EXCHANGE) is there
    assert parquet.exchange(a, b) is True
    assert os.listdir(a) == ["from-b"] and os.listdir(b) == ["from-a"]


def test_two_rename_fallback_always_leaves_a_whole_export(demo_db, tmp_path, monkeypatch):
    """Where paths cannot be exchanged atomically: at every step, a complete export (old or new)
    is at the path or beside it; a failed second rename puts the previous export back."""
    ex = agno_nb.connect(demo_db)
    out = ex.to_parquet(tmp_path / "export")
    monkeypatch.setattr(parquet, "exchange", lambda a, b: False)
    real_rename = os.rename
    seen = []

    def complete_exports() -> list:
        found = [p for p in tmp_path.iterdir() if p.name == "export" or p.name.startswith(".export.agno_nb-")]
        return [p for p in found if parquet.read_marker(p) and all((p / n).is_dir() for n in TABLES)]

    def checked_rename(src, dst):
        seen.append(Path(src).name)
        assert complete_exports(), "no complete export anywhere"
        real_rename(src, dst)
        assert complete_exports(), "no complete export anywhere"

    monkeypatch.setattr(os, "rename", checked_rename)
    ex.to_parquet(out, user_id="alice", overwrite=True)
    assert len(seen) == 2 and len(agno_nb.connect(out).runs()) == len(ex.runs(user_id="alice"))
    assert leftovers(tmp_path) == []

    before = snapshot(out)

    def second_rename_fails(src, dst):
        if ".agno_nb-writing-" in str(src):
            raise OSError("disk unplugged")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", second_rename_fails)
    with pytest.raises(OSError, match="disk unplugged"):
        ex.to_parquet(out, overwrite=True)
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_killed_between_the_two_renames_both_exports_survive(demo_db, tmp_path):
    ex = agno_nb.connect(demo_db)
    out = ex.to_parquet(tmp_path / "export", user_id="alice")
    script = textwrap.dedent(f"""
        import os
        import agno_nb
        from agno_nb.analysis import parquet
        parquet.exchange = lambda a, b: False
        real = os.rename
        def rename(src, dst):
            real(src, dst)
            os._exit(9)  # killed right after moving the previous export aside
        os.rename = rename
        agno_nb.connect({str(demo_db)!r}).to_parquet({str(out)!r}, overwrite=True)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert not out.exists()
    (old,) = [p for p in tmp_path.iterdir() if ".export.agno_nb-replaced-" in p.name]
    (new,) = [p for p in tmp_path.iterdir() if ".export.agno_nb-writing-" in p.name]
    assert len(agno_nb.connect(old).runs()) == len(ex.runs(user_id="alice"))
    assert len(agno_nb.connect(new).runs()) == len(ex.runs())


# -- every table reads back, in every reader -----------------------------------------------

def read_three_ways(export: Path, name: str):
    """The table read by pandas (pyarrow), by DuckDB with hive partitioning, and by agno_nb."""
    folder = export / name
    target = folder if folder.is_dir() else export / f"{name}.parquet"
    by_pandas = pd.read_parquet(target)
    glob = str(folder / "**" / "*.parquet") if folder.is_dir() else str(target)
    by_duckdb = duckdb.connect().execute("SELECT * FROM read_parquet(?, hive_partitioning = true)", [glob]).df()
    by_agno_nb = agno_nb.connect(export).table(name)
    return by_pandas, by_duckdb, by_agno_nb


@pytest.mark.parametrize("partition_by", PARTITIONINGS, ids=lambda p: "+".join(p) or "none")
def test_pandas_duckdb_and_connect_read_every_table_alike(mixed_db, tmp_path, partition_by):
    ex = agno_nb.connect(mixed_db)
    assert ex.runs().agent_id.isna().any()  # team and workflow runs
    for filters, label in (({}, "all"), ({"session_ids": ["e-1", "odd-1"]}, "no tool calls")):
        export = ex.to_parquet(tmp_path / label, partition_by=partition_by, **filters)
        for name, columns in TABLES.items():
            source = ex.table(name, **filters)
            pandas_df, duckdb_df, agno_df = read_three_ways(export, name)
            assert len(pandas_df) == len(duckdb_df) == len(agno_df) == len(source), (label, name)
            declared = [c.name for c in columns]
            assert list(agno_df.columns) == declared
            for df in (pandas_df, duckdb_df):
                assert set(declared) <= set(df.columns), (label, name)
                # NULL stays NULL (team runs' agent_id), values are the source's, in every reader
                for col in ("agent_id", "user_id", "team_id"):
                    if col in declared:
                        assert df[col].isna().sum() == source[col].isna().sum(), (label, name, col)
                        assert set(df[col].dropna()) == set(source[col].dropna()), (label, name, col)
            for c in columns:
                assert str(agno_df[c.name].dtype) == DTYPES[c.duckdb_type], (name, c.name)
        if label == "no tool calls":
            assert len(source) == 0  # the last table, tool_calls, was empty and still read back


@pytest.mark.parametrize("partition_by", [("agent_id", "date"), ()], ids=["partitioned", "files"])
def test_empty_tables_read_back_with_their_columns(no_tools_db, tmp_path, partition_by):
    ex = agno_nb.connect(no_tools_db)
    export = ex.to_parquet(tmp_path / "export", partition_by=partition_by)
    back = agno_nb.connect(export)
    calls = back.tool_calls()
    assert len(calls) == 0
    assert calls.dtypes.to_dict() == ex.tool_calls().dtypes.to_dict()
    assert list(calls.columns) == [c.name for c in TABLES["tool_calls"]]
    assert agno_nb.replay(back, "s-1").data.runs  # the replay widget loads tool calls too
    assert len(back.messages()) == len(ex.messages()) > 0

    nothing = ex.to_parquet(tmp_path / "nothing", partition_by=partition_by, user_id="nobody")
    for name, columns in TABLES.items():
        pandas_df, duckdb_df, agno_df = read_three_ways(nothing, name)
        assert len(pandas_df) == len(duckdb_df) == len(agno_df) == 0
        assert {c.name for c in columns} <= set(pandas_df.columns) & set(duckdb_df.columns)
        assert [str(t) for t in agno_df.dtypes] == [DTYPES[c.duckdb_type] for c in columns]


def test_filters_on_a_partition_column_read_only_its_folders(tmp_path):
    """A filter on a partition column also tests the folder label, so DuckDB skips the other
    folders; labels stay text, so ids that look like numbers work too."""
    db = SqliteDb(db_file=str(tmp_path / "ids.db"))
    for user in ("1", "2", "alice"):
        Agent(id=f"agent-{user}", db=db, model=EchoModel()).run("hi", session_id=f"s-{user}", user_id=user)
    ex = agno_nb.connect(db)
    export = ex.to_parquet(tmp_path / "export", partition_by=("user_id",))
    back = agno_nb.connect(export)
    for user in ("1", "2", "alice", "nobody"):
        for name in TABLES:
            assert len(back.table(name, user_id=user)) == len(ex.table(name, user_id=user)), (name, user)
    (garbage,) = (export / "runs" / "user_id_part=2").glob("*.parquet")
    garbage.write_bytes(b"not parquet")  # a folder the filter must not open
    assert len(back.runs(user_id="1")) == 1
    with pytest.raises(duckdb.Error):
        back.runs()  # ... while a read without the filter opens it
