"""One measured load, in a fresh process (run by bench/load.py): prints one JSON line.

    python bench/_measure.py OP SOURCE [--schema S] [--filters JSON]

OP is one of ``nb.messages``, ``nb.runs``, ``nb.sessions`` (``agno_nb.connect(SOURCE).X()``,
connect included), ``nb.messages.filtered`` (``ex.messages(**filters)`` on an open ``ex``),
``agno.flatten`` (real agno 3.1: ``SqliteDb``/``PostgresDb(...).get_sessions(deserialize=True)``
flattened into a messages DataFrame) and ``pandas.json`` (``pandas.read_sql`` of the runs
table, ``json.loads`` per row, flattened the same way).

Peak memory is the peak RSS (so Arrow and DuckDB memory counts) at the end minus the peak
RSS after every library the operation needs has been imported. It is read from
``/proc/self/status`` (``VmHWM``, this process's own high-water mark) where there is one:
``getrusage(RUSAGE_SELF).ru_maxrss`` carries the parent's peak over fork and exec, so a child
of a large parent would report that. Elsewhere ``ru_maxrss`` is used.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("AGNO_TELEMETRY", "false")
# $AGNO_NB_ROOT: another agno_nb tree to measure (bench/load.py's reference: the old in-process ADBC path)
sys.path.insert(0, os.environ.get("AGNO_NB_ROOT") or str(Path(__file__).resolve().parent.parent))

# Every import an operation needs happens before the baseline.
import adbc_driver_postgresql.dbapi  # noqa: E402,F401
if os.environ.get("AGNO_NB_ROOT"):
    import adbc_driver_sqlite.dbapi  # noqa: E402,F401  (the old path's driver; agno_nb itself never loads it)
import duckdb  # noqa: E402,F401
import pandas as pd  # noqa: E402
import pyarrow  # noqa: E402,F401
import tqdm.auto  # noqa: E402,F401  (agno_nb's progress bar)
import sqlalchemy as sa  # noqa: E402

import agno_nb  # noqa: E402
from agno.db.postgres import PostgresDb  # noqa: E402
from agno.db.sqlite import SqliteDb  # noqa: E402

# the columns of agno_nb's messages table, built by hand the way a user would today
MESSAGE_FIELDS = ("session_id", "run_id", "message_index", "message_id", "role", "content", "tool_call_id",
                  "tool_name", "tool_calls", "from_history", "created_at", "input_tokens", "output_tokens",
                  "total_tokens", "duration", "time_to_first_token", "agent_id", "team_id", "user_id")


def peak_rss_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _frame(rows):
    df = pd.DataFrame.from_records(rows, columns=MESSAGE_FIELDS)
    df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
    return df


def agno_flatten(source: str, schema: str | None):
    """Real agno 3.1: every session with its runs as objects, then one row per message."""
    db = PostgresDb(db_url=source, db_schema=schema) if "://" in source else SqliteDb(db_file=source)
    rows = []
    for s in db.get_sessions(deserialize=True):
        for run in s.runs or []:
            for i, m in enumerate(run.messages or []):
                mm = m.metrics
                rows.append((run.session_id or s.session_id, run.run_id, i, m.id, m.role,
                             m.content if isinstance(m.content, str) or m.content is None else json.dumps(m.content),
                             m.tool_call_id, m.tool_name, json.dumps(m.tool_calls) if m.tool_calls else None,
                             m.from_history, m.created_at, mm.input_tokens if mm else None,
                             mm.output_tokens if mm else None, mm.total_tokens if mm else None,
                             mm.duration if mm else None, mm.time_to_first_token if mm else None,
                             run.agent_id, getattr(run, "team_id", None), run.user_id or s.user_id))
    db.db_engine.dispose()
    return _frame(rows)


def pandas_json(source: str, schema: str | None):
    """What a user writes with pandas alone: read the runs table, json.loads each run, flatten."""
    if "://" in source:
        engine, table = sa.create_engine(source), f'"{schema}".agno_runs'
    else:
        engine, table = sa.create_engine(f"sqlite:///{source}"), "agno_runs"
    runs = pd.read_sql(f"SELECT * FROM {table}", engine)
    rows = []
    for session_id, run_id, agent_id, team_id, user_id, data in zip(
            runs.session_id, runs.run_id, runs.agent_id, runs.team_id, runs.user_id, runs.run_data):
        doc = json.loads(data) if isinstance(data, str) else data  # psycopg already decodes JSONB
        for i, m in enumerate(doc.get("messages") or []):
            mm = m.get("metrics") or {}
            content = m.get("content")
            rows.append((session_id, run_id, i, m.get("id"), m.get("role"),
                         content if isinstance(content, str) or content is None else json.dumps(content),
                         m.get("tool_call_id"), m.get("tool_name"),
                         json.dumps(m["tool_calls"]) if m.get("tool_calls") else None,
                         m.get("from_history"), m.get("created_at"), mm.get("input_tokens"), mm.get("output_tokens"),
                         mm.get("total_tokens"), mm.get("duration"), mm.get("time_to_first_token"),
                         agent_id, team_id, user_id))
    engine.dispose()
    return _frame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("op")
    ap.add_argument("source")
    ap.add_argument("--schema")
    ap.add_argument("--filters", default="{}")
    args = ap.parse_args()
    filters = json.loads(args.filters)
    opts = {"progress": False, **({"db_schema": args.schema} if args.schema else {})}
    ex = agno_nb.connect(args.source, **opts) if args.op == "nb.messages.filtered" else None

    base = peak_rss_bytes()
    cpu0 = time.process_time()  # every thread's CPU: on a busy machine a steadier figure than wall time
    t0 = time.perf_counter()
    if args.op.startswith("nb.") and ex is None:
        df = getattr(agno_nb.connect(args.source, **opts), args.op[3:])()
    elif ex is not None:
        df = ex.messages(**filters)
    elif args.op == "agno.flatten":
        df = agno_flatten(args.source, args.schema)
    elif args.op == "pandas.json":
        df = pandas_json(args.source, args.schema)
    else:
        raise SystemExit(f"unknown op {args.op!r}")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    peak = peak_rss_bytes() - base
    print(json.dumps({"op": args.op, "seconds": seconds, "cpu_s": cpu, "rows": len(df), "peak_mb": peak / 1e6,
                      "df_mb": float(df.memory_usage(deep=True).sum()) / 1e6, "columns": len(df.columns)}))


if __name__ == "__main__":
    main()
