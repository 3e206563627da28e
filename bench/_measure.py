"""One measured load, in a fresh process (run by bench/load.py): prints one JSON line.

    python bench/_measure.py OP SOURCE [--schema S] [--filters JSON]

OP is one of ``nb.messages``, ``nb.runs``, ``nb.sessions`` (``agno_nb.connect(SOURCE).X()``,
connect included), ``nb.messages.filtered`` (``ex.messages(**filters)`` on an open ``ex``),
``agno.flatten`` (real agno 3.1: ``SqliteDb``/``PostgresDb(...).get_sessions(deserialize=True)``
flattened into a messages DataFrame) and ``pandas.json`` (``pandas.read_sql`` of the runs
table, ``json.loads`` per row, flattened the same way).

Spans (SQLite): ``nb.spans`` (``connect(SOURCE).spans()``, ``--columns JSON`` for a subset),
``agno.spans`` (real agno 3.1: ``SqliteDb.get_spans()`` and ``get_traces(limit=None)`` turned
into a DataFrame with the same 32 columns: kind, model, tokens and tool from the attributes,
run and session inherited from the nearest ancestor span, times parsed) and ``pandas.spans``
(``pandas.read_sql`` of both tables, ``json.loads`` per span, the same columns).
``nb.tool_calls`` / ``nb.tool_calls.noresolve``: ``tool_calls()`` with offloaded results
resolved (the default) and with resolution switched off.

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


# the columns of agno_nb's spans table (describe("spans")), built by hand the way a user would today
SPAN_FIELDS = ("span_id", "trace_id", "parent_span_id", "name", "span_kind", "otel_kind", "status", "status_message",
               "start_time", "end_time", "duration_ms", "model", "provider", "input_tokens", "output_tokens",
               "stored_total_tokens", "tool_name", "input_value", "output_value", "attr_run_id", "attr_session_id",
               "trace_run_id", "trace_session_id", "user_id", "agent_id", "team_id", "workflow_id", "attributes",
               "created_at", "total_tokens", "run_id", "session_id")
_TRACE_FIELDS = ("run_id", "session_id", "user_id", "agent_id", "team_id", "workflow_id")


def _text(v):
    return v if isinstance(v, str) or v is None else json.dumps(v)


def _span_rows(spans, traces):
    """``spans``: (span_id, trace_id, parent, name, otel kind, status, message, start, end, duration,
    attributes dict, created); ``traces``: trace_id -> its six ids. One row per span, with run and
    session inherited from the nearest ancestor span that has them, as agno_nb's spans() does."""
    own = {s[0]: (s[2], (s[10] or {}).get("agno.run.id"), (s[10] or {}).get("session.id")) for s in spans}

    def inherited(span_id, i):
        seen = 0
        parent, *vals = own[span_id]
        while vals[i] is None and parent in own and seen < 256:
            parent, *vals = own[parent]
            seen += 1
        return vals[i]

    rows = []
    for s in spans:
        a = s[10] or {}
        t = traces.get(s[1]) or (None,) * 6
        run, session = inherited(s[0], 0), inherited(s[0], 1)
        prompt, completion, total = (a.get("llm.token_count.prompt"), a.get("llm.token_count.completion"),
                                     a.get("llm.token_count.total"))
        if total is None and prompt is not None and completion is not None:
            total_all = prompt + completion
        else:
            total_all = total
        rows.append((s[0], s[1], s[2], s[3], a.get("openinference.span.kind"), s[4], s[5], s[6], s[7], s[8],
                     float(s[9]), a.get("llm.model_name"), a.get("llm.provider"), prompt, completion, total,
                     a.get("tool.name"), _text(a.get("input.value")), _text(a.get("output.value")), run, session,
                     *t, s[10], s[11], total_all, run if run is not None else t[0],
                     t[1] if t[1] is not None else session))
    df = pd.DataFrame.from_records(rows, columns=SPAN_FIELDS)
    for col in ("start_time", "end_time", "created_at"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    for col in ("input_tokens", "output_tokens", "stored_total_tokens", "total_tokens"):
        df[col] = df[col].astype("Int64")
    return df


def agno_spans(source: str):
    """Real agno 3.1: every span and trace as agno's objects (``get_spans()``, ``get_traces(limit=None)``),
    then one row per span with the kind, model, tokens, tool and run read from its attributes."""
    db = SqliteDb(db_file=source)
    traces = {t.trace_id: tuple(getattr(t, k) for k in _TRACE_FIELDS) for t in db.get_traces(limit=None)[0]}
    spans = [(s.span_id, s.trace_id, s.parent_span_id, s.name, s.span_kind, s.status_code, s.status_message,
              s.start_time, s.end_time, s.duration_ms, s.attributes, s.created_at) for s in db.get_spans()]
    db.db_engine.dispose()
    return _span_rows(spans, traces)


def pandas_spans(source: str):
    """pandas alone: read both tables with read_sql, json.loads each span's attributes."""
    engine = sa.create_engine(f"sqlite:///{source}")
    spans = pd.read_sql("SELECT * FROM agno_spans", engine)
    traces = pd.read_sql("SELECT * FROM agno_traces", engine)
    engine.dispose()
    tmap = dict(zip(traces.trace_id, zip(*(traces[k].where(traces[k].notna(), None) for k in _TRACE_FIELDS))))
    rows = list(zip(spans.span_id, spans.trace_id, spans.parent_span_id.where(spans.parent_span_id.notna(), None),
                    spans.name, spans.span_kind, spans.status_code,
                    spans.status_message.where(spans.status_message.notna(), None), spans.start_time,
                    spans.end_time, spans.duration_ms, [json.loads(a) if a else None for a in spans.attributes],
                    spans.created_at))
    df = _span_rows(rows, tmap)
    df["attributes"] = spans.attributes.values  # the JSON text, as agno_nb gives it
    return df


def tool_calls(source: str, resolve: bool):
    """``connect(source).tool_calls()``; ``resolve=False``: with offload resolution switched off
    (the source says its results are resolved already, as a Parquet export's does)."""
    ex = agno_nb.connect(source, progress=False)
    if not resolve:
        ex.source.results_resolved = True
    return ex.tool_calls()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("op")
    ap.add_argument("source")
    ap.add_argument("--schema")
    ap.add_argument("--filters", default="{}")
    ap.add_argument("--columns", default=None, help="nb.spans: a JSON list of columns")
    args = ap.parse_args()
    filters = json.loads(args.filters)
    opts = {"progress": False, **({"db_schema": args.schema} if args.schema else {})}
    ex = agno_nb.connect(args.source, **opts) if args.op == "nb.messages.filtered" else None

    base = peak_rss_bytes()
    cpu0 = time.process_time()  # every thread's CPU: on a busy machine a steadier figure than wall time
    t0 = time.perf_counter()
    if args.op == "nb.spans":
        cols = json.loads(args.columns) if args.columns else None
        df = agno_nb.connect(args.source, **opts).spans(**({"columns": cols} if cols else {}))
    elif args.op == "agno.spans":
        df = agno_spans(args.source)
    elif args.op == "pandas.spans":
        df = pandas_spans(args.source)
    elif args.op in ("nb.tool_calls", "nb.tool_calls.noresolve"):
        df = tool_calls(args.source, args.op == "nb.tool_calls")
    elif args.op.startswith("nb.") and ex is None:
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
