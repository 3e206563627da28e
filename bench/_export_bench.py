"""Export and distributed read at scale (issue 12 §3), the ``export`` part of ``load.py --scaling``.

On a copy of the synthetic SQLite file (agno 3.1's tables, bench/_synth.py), measured once each:

- ``ex.to_parquet(out)``: the full hive-partitioned export (size, files);
- ``ex.to_parquet(out, since_last=True)`` with nothing new (must change nothing), then after
  ``new_runs`` runs written by agno_nb's own Agent (EchoModel, offline), in old and new sessions;
- the export read by Dask's distributed scheduler: a ``LocalCluster`` of 2 worker processes x 1
  thread, ``dask.dataframe.read_parquet`` of each table (rows counted on the cluster, checked
  against the export's marker), and a group-by over ``messages``;
- the same counts through ``agno_nb.connect(export)`` (DuckDB, one process), for scale.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Dict

TABLE_NAMES = ("sessions", "runs", "messages", "tool_calls")


def _tree(folder: Path) -> Dict[str, int]:
    files = [p for p in folder.rglob("*.parquet")]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def export_and_distributed_read(db_path: Path, new_runs: int = 100) -> Dict[str, Any]:
    """Measure the export, an incremental export and a Dask read of ``db_path`` (copied first)."""
    import agno_nb
    from agno_nb import Agent
    from agno_nb.db.sqlite import SqliteDb
    from agno_nb.models import EchoModel

    work = Path(tempfile.mkdtemp(prefix="agno-nb-export-bench-"))
    out: Dict[str, Any] = {"source_bytes": db_path.stat().st_size, "new_runs": new_runs}
    try:
        db = work / "agents.db"
        shutil.copy(db_path, db)  # the cached file stays as generated
        ex = agno_nb.connect(db, progress=False)
        export = work / "export"

        t0 = time.perf_counter()
        ex.to_parquet(export)
        out["full_export_s"] = time.perf_counter() - t0
        out["full_export"] = _tree(export)
        marker = json.loads((export / "_agno_nb_export.json").read_text())
        out["rows"] = {n: marker["tables"][n]["rows"] for n in TABLE_NAMES}

        t0 = time.perf_counter()
        ex.to_parquet(export, since_last=True)
        out["since_last_nothing_new_s"] = time.perf_counter() - t0

        agent = Agent(id="bench-agent", db=SqliteDb(db_file=str(db)), model=EchoModel())
        old = ex.sessions().head(new_runs // 2)
        t0 = time.perf_counter()
        for row in old.itertuples():
            agent.run("one more", session_id=row.session_id, user_id=row.user_id)
        for i in range(new_runs - len(old)):
            agent.run("new", session_id=f"bench-new-{i}", user_id="bench")
        out["write_new_runs_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ex.to_parquet(export, since_last=True)
        out["since_last_s"] = time.perf_counter() - t0
        marker = json.loads((export / "_agno_nb_export.json").read_text())
        out["since_last_added"] = marker["incremental"]["last_added"]
        out["rows_after"] = {n: marker["tables"][n]["rows"] for n in TABLE_NAMES}

        t0 = time.perf_counter()
        back = agno_nb.connect(export, progress=False)
        out["connect_counts"] = {n: len(back.table(n)) for n in TABLE_NAMES}
        out["connect_read_s"] = time.perf_counter() - t0
        assert out["connect_counts"] == out["rows_after"], (out["connect_counts"], out["rows_after"])

        out["dask"] = _dask_read(export, out["rows_after"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _dask_read(export: Path, rows: Dict[str, int]) -> Dict[str, Any]:
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    res: Dict[str, Any] = {"n_workers": 2, "threads_per_worker": 1}
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        res["cluster_start_s"] = time.perf_counter() - t0
        assert os.getpid() not in client.run(os.getpid).values()
        # the workers' first task imports pandas and pyarrow: timed apart from the reads
        t0 = time.perf_counter()
        client.compute(dd.read_parquet(str(export / "sessions")).map_partitions(len).sum()).result()
        res["first_task_s"] = time.perf_counter() - t0
        counts, partitions, seconds = {}, {}, {}
        for name in TABLE_NAMES:
            t0 = time.perf_counter()
            ddf = dd.read_parquet(str(export / name), dtype_backend="numpy_nullable")
            partitions[name] = ddf.npartitions
            # every file read on the workers (len(ddf) alone would only count the footers' rows)
            counts[name] = int(client.compute(ddf.map_partitions(len).sum()).result())
            seconds[name] = time.perf_counter() - t0
        res["read_s"] = seconds
        res["read_all_tables_s"] = sum(seconds.values())
        res["counts"], res["partitions"] = counts, partitions
        assert counts == rows, (counts, rows)
        t0 = time.perf_counter()
        messages = dd.read_parquet(str(export / "messages"), dtype_backend="numpy_nullable")
        by_role = client.compute(messages.groupby("role").total_tokens.sum()).result()
        res["groupby_messages_s"] = time.perf_counter() - t0
        res["tokens_by_role"] = {str(k): int(v) for k, v in by_role.items()}
    return res


def print_export(section: Dict[str, Any]) -> None:
    e = section
    rows = e["rows"]
    print(f"\nexport at {e['sessions']} sessions ({e['source_bytes'] / 1e6:.0f} MB SQLite; "
          f"{rows['runs']} runs, {rows['messages']} messages)")
    print(f"  full to_parquet:            {e['full_export_s']:8.2f} s  ({e['full_export']['files']} files, "
          f"{e['full_export']['bytes'] / 1e6:.0f} MB)")
    print(f"  since_last, nothing new:    {e['since_last_nothing_new_s']:8.2f} s")
    print(f"  since_last, {e['new_runs']} new runs:  {e['since_last_s']:8.2f} s  (added {e['since_last_added']})")
    print(f"  connect(export) all tables: {e['connect_read_s']:8.2f} s")
    d = e["dask"]
    print(f"  Dask LocalCluster (2 processes x 1 thread): start {d['cluster_start_s']:.2f} s, first task "
          f"{d['first_task_s']:.2f} s; read every table {d['read_all_tables_s']:.2f} s "
          f"({', '.join(f'{n} {s:.2f}' for n, s in d['read_s'].items())}; {sum(d['partitions'].values())} "
          f"partitions), group-by over messages {d['groupby_messages_s']:.2f} s; row counts equal the export's")
