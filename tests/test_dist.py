"""A real distributed engine reads the Parquet export: Dask's distributed scheduler, on a
LocalCluster of worker processes, sees the same rows, values and types as ``connect()``.

(Spark in local mode was measured and left out of CI: see docs/reliability.md.)
"""

from __future__ import annotations

import logging
import os
import time

import pandas as pd
import pytest

import agno_nb
from agno_nb import Agent
from agno_nb.analysis.columns import TABLES
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel

from test_analysis import write_sessions

# Dask is imported in the tests (the test extra installs agno_nb[dist]): conftest.py's scheduler
# runs this module on one pytest-xdist worker (one LocalCluster), so only that one imports Dask

KEYS = {"sessions": ["session_id"], "runs": ["run_id"], "messages": ["run_id", "message_index"],
        "tool_calls": ["run_id", "tool_call_id"]}


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    started = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as c:
        c.wait_for_workers(2, timeout=60)
        print(f"LocalCluster up in {time.perf_counter() - started:.1f} s")
        yield c


@pytest.fixture
def store(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "mixed.db"))
    write_sessions(db)  # agent, team and workflow sessions: NULL agent_id, NULL tokens, tool calls
    return db


def read_with_dask(client, export, name: str) -> pd.DataFrame:
    """One table, read by Dask's ``read_parquet`` (hive folders) and computed on the cluster."""
    import dask.dataframe as dd

    target = export / name if (export / name).is_dir() else export / f"{name}.parquet"
    ddf = dd.read_parquet(str(target), dtype_backend="numpy_nullable")
    assert ddf.npartitions >= 1
    return client.compute(ddf).result()


def dask_dtype(dtype) -> str:
    """The dtype Dask gives a column of connect()'s ``dtype`` (nullable floats: Float64)."""
    return "Float64" if str(dtype) == "float64" else str(dtype)


def comparable(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """The declared columns in key order; Dask's nullable Float64 as connect()'s float64."""
    out = df[[c.name for c in TABLES[name]]].sort_values(KEYS[name], kind="stable").reset_index(drop=True)
    return out.astype({c: "float64" for c in out.columns if str(out[c].dtype) == "Float64"})


def test_the_workers_are_separate_processes(client):
    pids = client.run(os.getpid)
    assert len(pids) == 2 and os.getpid() not in pids.values() and len(set(pids.values())) == 2


@pytest.mark.parametrize("partition_by", [("agent_id", "date"), ("user_id",), ()], ids=["agent+date", "user", "files"])
def test_dask_reads_every_table_like_connect(client, store, tmp_path, partition_by):
    ex = agno_nb.connect(store)
    export = ex.to_parquet(tmp_path / "export", partition_by=partition_by)
    # and an incremental append on top: its extra files read like the rest
    Agent(id="echo", db=store, model=EchoModel()).run("more", session_id="e-1", user_id="bob")
    ex.to_parquet(export, since_last=True)
    for name in TABLES:
        want = agno_nb.connect(export).table(name)
        assert len(want) == len(ex.table(name)) > 0, name
        got = read_with_dask(client, export, name)
        assert len(got) == len(want), name
        for col in want.columns:
            assert str(got[col].dtype) == dask_dtype(want[col].dtype), (name, col)
        assert str(got["created_at"].dtype) == "datetime64[us, UTC]"
        pd.testing.assert_frame_equal(comparable(got, name), comparable(want, name), obj=name)


def test_a_distributed_aggregation_matches_pandas(client, store, tmp_path):
    import dask.dataframe as dd

    ex = agno_nb.connect(store)
    export = ex.to_parquet(tmp_path / "export")
    runs = dd.read_parquet(str(export / "runs"), dtype_backend="numpy_nullable")
    by_dask = client.compute(runs.groupby("run_type").total_tokens.sum()).result().sort_index()
    by_pandas = ex.runs().groupby("run_type").total_tokens.sum().sort_index()
    pd.testing.assert_series_equal(by_dask, by_pandas, check_dtype=False, check_names=False)


def test_an_empty_table_reads_with_its_types(client, tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "no-tools.db"))
    Agent(id="echo", db=db, model=EchoModel()).run("hello", session_id="s-1", user_id="alice")
    ex = agno_nb.connect(db)
    export = ex.to_parquet(tmp_path / "export")
    got, want = read_with_dask(client, export, "tool_calls"), ex.tool_calls()
    assert len(got) == len(want) == 0
    assert [str(got[c].dtype) for c in want.columns] == [dask_dtype(t) for t in want.dtypes]
