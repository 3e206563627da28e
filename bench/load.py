"""Load benchmark (issue 3): stored sessions into DataFrames, agno_nb against what users do today.

    .venv/bin/python bench/load.py [--sessions 20000] [--runs-per-session 5] [--backends sqlite,postgres]
    .venv/bin/python bench/load.py --scaling 2000,10000,50000,100000     # SQLite only, separate run
    .venv/bin/python bench/load.py --sql       # repeated ex.sql() queries (SQLite), separate run
    .venv/bin/python bench/load.py --spans 300000 [--sessions 20000]   # spans() and offload resolution

Writes N synthetic sessions in the Agno 3.1 layout (bench/_synth.py: agno's own tables,
rows as agno 3.1.10 writes them, ~430-480 MB for 20k sessions x 5 runs), then measures,
each in a fresh process (bench/_measure.py), ``--reps`` times (median reported; the CPU
seconds too, steadier than wall time on a busy machine):

- ``agno_nb.connect(src).messages()``, ``.runs()``, ``.sessions()`` (SQLite: the safe path,
  Python's ``sqlite3`` only);
- for reference only, ``messages()`` through the old in-process ADBC SQLite driver (agno_nb as of
  commit ``ADBC_REF``, extracted with ``git archive``): UNSAFE, since a second SQLite library
  beside ``sqlite3`` lets an agent writing in the same process lose runs;
- real agno 3.1: ``SqliteDb/PostgresDb(...).get_sessions(deserialize=True)`` flattened into a
  messages DataFrame (same 19 columns);
- ``pandas.read_sql`` of the runs table + ``json.loads`` per run, flattened the same way.

Peak memory is the process's peak RSS (``ru_maxrss``) minus its RSS after imports, beside
the DataFrame's own size (``memory_usage(deep=True)``). Measurements are interleaved
(rep 1 of every operation, then rep 2, ...) so a burst of load on the machine spreads over
all of them; the 1-minute load average is recorded with each.

``--scaling`` measures ``messages()`` at each size (SQLite) and the filtered load
``ex.messages(agent_id=..., since=..., until=...)`` (the busiest agent, one week) on the
largest file, with SQLite's query plan.

SQLite files are kept in bench/out/data/ (``--data-dir`` to keep them elsewhere, e.g. a tmp
folder shared between checkouts) and reused (``--regenerate`` to rewrite). PostgreSQL:
$AGNO_NB_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test), a fresh
schema ``bench_<random>`` dropped at the end; unreachable: skipped. Results (merged, per
section): bench/out/load.json. Targets are printed with a verdict; the exit code is 0 either
way, since this measures rather than tests.

``--spans N`` (issue 18) writes a file with at least N spans in agno's own ``agno_traces`` /
``agno_spans`` (bench/_spans_synth.py: every trace a varied copy of one real agno 3.1.10
wrote in notebooks/data/agno-3.1-everything.db) and measures ``connect(path).spans()`` with
every column and with two ``columns=`` subsets, against real agno (``SqliteDb.get_spans()`` +
``get_traces(limit=None)`` into a DataFrame with the same 32 columns) and pandas
(``read_sql`` + ``json.loads`` per span); target: at least 10x agno and at most 2 s. It also
measures ``tool_calls()`` on the ``--sessions`` file (nothing offloaded there) with offloaded
results resolved (the default) and with resolution switched off: the difference should be
within the noise.

``--scaling`` also measures the Parquet export at the largest size (``--export-sessions N``
for another size, 0 to skip): full ``to_parquet``, ``since_last=True`` with nothing new and
after 100 new runs, and the export read by Dask's distributed scheduler (bench/_export_bench.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

os.environ["AGNO_TELEMETRY"] = "false"

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import _spans_synth  # noqa: E402
import _synth  # noqa: E402
from _servers import PG_URL, drop_schemas, reachable  # noqa: E402

OUT = BENCH / "out" / "load.json"
DATA = BENCH / "out" / "data"
GENERATOR_VERSION = 1  # bump when _synth changes what it writes, to regenerate cached files
SPANS_GENERATOR_VERSION = 1  # the same for _spans_synth

OPS = {
    "nb.messages": "agno_nb messages()",
    "nb.messages.adbc": "old in-process ADBC (UNSAFE) messages()",
    "nb.runs": "agno_nb runs()",
    "nb.sessions": "agno_nb sessions()",
    "agno.flatten": "agno get_sessions + flatten",
    "pandas.json": "pandas read_sql + json.loads",
}
TARGETS = {
    # backend: (max seconds for messages(), min x vs agno, min x vs pandas+json)
    "sqlite": (1.0, 20.0, 5.0),
    "postgres": (2.7, 10.0, None),
}
SPAN_OPS = {
    "nb.spans": "agno_nb spans() (every column)",
    "nb.spans.few": "agno_nb spans(columns=[span_kind, model, tokens, run_id, start_time])",
    "nb.spans.two": "agno_nb spans(columns=[span_id, duration_ms])",
    "agno.spans": "agno get_spans + get_traces -> DataFrame",
    "pandas.spans": "pandas read_sql + json.loads",
}
SPAN_COLUMNS = {
    "nb.spans.few": ["span_kind", "model", "input_tokens", "output_tokens", "run_id", "start_time"],
    "nb.spans.two": ["span_id", "duration_ms"],
}
MAX_SPANS_S = 2.0
MIN_SPANS_X_AGNO = 10.0
MAX_PEAK_OVER_DF = 3.0
MAX_FILTERED_S = 0.2
MAX_STEP_OVER_LINEAR = 1.25
FILTER_AGENT = "support-agent"  # the busiest agent (30% of sessions)
# The last commit that read SQLite through ADBC's driver in the user's process. That path is
# unsafe (a second SQLite library beside sqlite3: an agent writing in the same process loses
# runs, see tests/test_same_process_writer.py); it is measured, from that commit's code, only
# as the reference the safe sqlite3 path is held to.
ADBC_REF = "b58140e"


# -- data ----------------------------------------------------------------------------------

def cached_file(name: str, version: int, what: str, write, regenerate: bool) -> tuple[Path, dict]:
    """``name`` in the data folder, written by ``write(path) -> counts`` unless a copy by this
    generator ``version`` is there already (and ``regenerate`` is False)."""
    data = Path(os.environ.get("AGNO_NB_BENCH_DATA", DATA))
    data.mkdir(parents=True, exist_ok=True)
    path = data / name
    meta_path = path.with_suffix(".json")
    if not regenerate and path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("generator_version") == version:
            return path, meta
    print(f"  writing {path} ({what}) ...", flush=True)
    t0 = time.perf_counter()
    counts = write(str(path))
    meta = {"generator_version": version, **counts, "write_s": time.perf_counter() - t0,
            "bytes": path.stat().st_size}
    meta_path.write_text(json.dumps(meta))
    return path, meta


def sqlite_file(sessions: int, runs: int, seed: int, regenerate: bool) -> tuple[Path, dict]:
    return cached_file(f"agno3-{sessions}x{runs}-seed{seed}.db", GENERATOR_VERSION, f"{sessions} sessions x {runs} runs",
                       lambda path: _synth.write_sqlite(path, _synth.Generator(sessions, runs, seed=seed)), regenerate)


def spans_file(n_spans: int, seed: int, regenerate: bool) -> tuple[Path, dict]:
    """A SQLite file with at least ``n_spans`` spans in agno's tables (bench/_spans_synth.py), cached."""
    return cached_file(f"agno3-spans-{n_spans}-seed{seed}.db", SPANS_GENERATOR_VERSION, f"{n_spans} spans",
                       lambda path: _spans_synth.write_sqlite(path, _spans_synth.SpanGenerator(n_spans, seed=seed)),
                       regenerate)


def warm(path: Path) -> None:
    """Read the file once so every measurement starts from the OS page cache."""
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def pg_size(schema: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    with engine.connect() as conn:
        size = conn.execute(sa.text(
            "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = :s and c.relkind = 'r'"),
            {"s": schema}).scalar()
    engine.dispose()
    return int(size)


# -- measuring -----------------------------------------------------------------------------

def adbc_tree() -> str | None:
    """agno_nb as of ADBC_REF, extracted once into a tmp folder (None without git or that commit)."""
    global _ADBC_TREE
    if _ADBC_TREE is None:
        import tarfile
        import tempfile

        dest = Path(tempfile.mkdtemp(prefix="agno_nb-adbc-ref-"))
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ADBC_REF, "agno_nb"], capture_output=True)
        if archive.returncode != 0:
            print(f"  old ADBC path not measured: git archive {ADBC_REF} failed ({archive.stderr.decode()[:200]})")
            _ADBC_TREE = ""
        else:
            import io

            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(dest)
            _ADBC_TREE = str(dest)
    return _ADBC_TREE or None


_ADBC_TREE: str | None = None


def measure(op: str, source: str, schema: str | None = None, filters: dict | None = None) -> dict:
    env = None
    columns = SPAN_COLUMNS.get(op)
    if columns:
        op = "nb.spans"
    if op == "nb.messages.adbc":
        env = {**os.environ, "AGNO_NB_ROOT": adbc_tree()}
        op = "nb.messages"
    cmd = [sys.executable, str(BENCH / "_measure.py"), op, source]
    if schema:
        cmd += ["--schema", schema]
    if filters:
        cmd += ["--filters", json.dumps(filters)]
    if columns:
        cmd += ["--columns", json.dumps(columns)]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{op} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["load_before"] = load
    return result


def summarize(samples: list[dict]) -> dict:
    secs = [s["seconds"] for s in samples]
    cpu = [s["cpu_s"] for s in samples if "cpu_s" in s]
    peaks = [s["peak_mb"] for s in samples]
    df_mb = samples[0]["df_mb"]
    return {"median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs),
            "median_cpu_s": statistics.median(cpu) if cpu else None,
            "rows": samples[0]["rows"], "df_mb": df_mb, "peak_mb": statistics.median(peaks),
            "peak_over_df": statistics.median(peaks) / df_mb if df_mb else None,
            "load_avg": [s["load_before"] for s in samples], "samples": samples}


def run_ops(ops: list[str], source: str, reps: int, schema: str | None = None, labels: dict | None = None) -> dict:
    measure(ops[0] if labels else "nb.messages", source, schema)  # warm-up: caches, lazily loaded libraries on disk
    labels = labels or OPS
    samples: dict[str, list] = {op: [] for op in ops}
    for rep in range(reps):
        for op in ops:
            r = measure(op, source, schema)
            samples[op].append(r)
            print(f"    rep {rep + 1}/{reps} {labels.get(op, op):32s} {r['seconds']:8.3f} s  cpu {r['cpu_s']:7.3f} s  "
                  f"peak {r['peak_mb']:7.0f} MB"
                  f"  (load {r['load_before']:.2f})", flush=True)
    return {op: summarize(v) for op, v in samples.items()}


# -- sections ------------------------------------------------------------------------------

def compare(args) -> dict:
    section = {"sessions": args.sessions, "runs_per_session": args.runs_per_session, "reps": args.reps,
               "seed": args.seed, "backends": {}}
    ops = list(OPS) if not args.skip_alternatives else ["nb.messages", "nb.runs", "nb.sessions"]
    if "nb.messages.adbc" in ops and adbc_tree() is None:
        ops.remove("nb.messages.adbc")
    # what any agno_nb load costs in a fresh process whatever its size (DuckDB's instance,
    # the ADBC driver, SQLAlchemy's inspection): the peak of a 10-session load
    tiny, _ = sqlite_file(10, args.runs_per_session, args.seed, args.regenerate)
    fixed = [measure("nb.sessions", str(tiny))["peak_mb"] for _ in range(args.reps)]
    section["fixed_overhead_mb"] = statistics.median(fixed)
    print(f"  fixed overhead (peak of a 10-session sessions() load): {section['fixed_overhead_mb']:.0f} MB", flush=True)
    for backend in args.backends:
        print(f"{backend}: {args.sessions} sessions x {args.runs_per_session} runs", flush=True)
        if backend == "sqlite":
            path, meta = sqlite_file(args.sessions, args.runs_per_session, args.seed, args.regenerate)
            warm(path)
            entry = {"data": {**meta, "path": str(path)}}
            entry["results"] = run_ops(ops, str(path), args.reps)
        else:
            ops = [op for op in ops if op != "nb.messages.adbc"]  # PostgreSQL reads through ADBC anyway
            why = reachable(PG_URL)
            if why is not None:
                print(f"  postgres: skipped, cannot connect ({why})")
                section["backends"][backend] = {"skipped": why}
                continue
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            try:
                print(f"  writing schema {schema} (COPY) ...", flush=True)
                t0 = time.perf_counter()
                counts = _synth.write_postgres(PG_URL, schema, _synth.Generator(
                    args.sessions, args.runs_per_session, seed=args.seed))
                entry = {"data": {**counts, "write_s": time.perf_counter() - t0, "bytes": pg_size(schema),
                                  "schema": schema}}
                entry["results"] = run_ops(ops, PG_URL, args.reps, schema)
            finally:
                drop_schemas(PG_URL, [schema])
        res = entry["results"]
        nb = res["nb.messages"]["median_s"]
        entry["ratios"] = {alt: res[alt]["median_s"] / nb for alt in ("agno.flatten", "pandas.json", "nb.messages.adbc")
                           if alt in res}
        section["backends"][backend] = entry
    return section


def scaling(args) -> dict:
    section = {"sizes": args.scaling, "runs_per_session": args.runs_per_session, "reps": args.reps,
               "seed": args.seed, "points": []}
    for n in args.scaling:
        print(f"sqlite scaling: {n} sessions x {args.runs_per_session} runs", flush=True)
        path, meta = sqlite_file(n, args.runs_per_session, args.seed, args.regenerate)
        warm(path)
        res = run_ops(["nb.messages"], str(path), args.reps)["nb.messages"]
        section["points"].append({"sessions": n, "bytes": meta["bytes"], **res})
    pts = section["points"]
    if len(pts) >= 2:
        xs = [p["rows"] for p in pts]
        ys = [p["median_s"] for p in pts]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
        icpt = my - slope * mx
        ss_res = sum((y - (icpt + slope * x)) ** 2 for x, y in zip(xs, ys))
        ss_tot = sum((y - my) ** 2 for y in ys)
        steps = [{"from": a["sessions"], "to": b["sessions"], "data_x": b["rows"] / a["rows"],
                  "time_x": b["median_s"] / a["median_s"]} for a, b in zip(pts, pts[1:])]
        section["fit"] = {"intercept_s": icpt, "us_per_message": slope * 1e6,
                          "r2": 1 - ss_res / ss_tot if ss_tot else 1.0,
                          "us_per_message_at": {str(p["sessions"]): p["median_s"] / p["rows"] * 1e6 for p in pts},
                          "steps": steps,
                          # linear: no step grows the time more than 25% faster than the data
                          "linear": all(st["time_x"] <= MAX_STEP_OVER_LINEAR * st["data_x"] for st in steps)}
    # filtered load on the largest file: one agent, one week (the third of the six)
    n = max(args.scaling)
    path, _ = sqlite_file(n, args.runs_per_session, args.seed, False)
    since = dt.datetime.fromtimestamp(_synth.START + 14 * 86400, dt.timezone.utc)
    filters = {"agent_id": FILTER_AGENT, "since": since.isoformat(),
               "until": (since + dt.timedelta(days=7)).isoformat()}
    print(f"sqlite filtered load on {n} sessions: {filters}", flush=True)
    warm(path)
    samples = []
    for rep in range(args.reps):
        r = measure("nb.messages.filtered", str(path), filters=filters)
        samples.append(r)
        print(f"    rep {rep + 1}/{args.reps} ex.messages(filtered)            {r['seconds']:8.3f} s  "
              f"rows {r['rows']}  (load {r['load_before']:.2f})", flush=True)
    section["filtered"] = {"sessions": n, "filters": filters, "plan": query_plan(path, filters),
                           **summarize(samples)}
    return section


def query_plan(path: Path, filters: dict) -> list[str]:
    """SQLite's plan for the runs query agno_nb sends for ``filters``."""
    import sqlite3

    import agno_nb
    from agno_nb.analysis.filters import Filters

    ex = agno_nb.connect(str(path), progress=False)
    sql, params = ex.source._compiled(ex.source.run_query(Filters.build(**filters)))
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    plan = [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql, params)]
    con.close()
    return plan


# -- repeated SQL (issue 11 §1; isolated: --sql) ----------------------------------------------

SQL_QUERIES = {
    "messages by agent": "SELECT agent_id, count(*) AS n, sum(total_tokens) AS tokens FROM messages GROUP BY 1 ORDER BY 1",
    "slowest runs": "SELECT run_id, agent_id, duration FROM runs ORDER BY duration DESC LIMIT 20",
}
SQL_REPEATS = 10
MAX_REPEATED_SQL_S = 0.050
MIN_SQL_SPEEDUP = 10.0
# One fresh process: connect, then each query once (it loads its tables) and SQL_REPEATS times
# more (kept tables, a change check each); prints one JSON line.
_SQL_SCRIPT = """
import json, statistics, sys, time
import agno_nb
queries = json.loads(sys.argv[2])
ex = agno_nb.connect(sys.argv[1], progress=False)
out = {}
for label, q in queries.items():
    t = time.perf_counter(); rows = len(ex.sql(q)); first = time.perf_counter() - t
    again, cpu = [], []
    for _ in range(int(sys.argv[3])):
        t, c = time.perf_counter(), time.process_time(); ex.sql(q)
        again.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
    out[label] = {"first_s": first, "repeat_s": statistics.median(again), "repeat_cpu_s": statistics.median(cpu),
                  "rows": rows}
print(json.dumps(out))
"""


def sql_repeat(args) -> dict:
    """``ex.sql()`` on the SQLite file: the first query (loads its tables) and repeats of it."""
    path, meta = sqlite_file(args.sessions, args.runs_per_session, args.seed, args.regenerate)
    warm(path)
    samples = []
    for rep in range(args.reps):
        proc = subprocess.run([sys.executable, "-c", _SQL_SCRIPT, str(path), json.dumps(SQL_QUERIES),
                               str(SQL_REPEATS)], capture_output=True, text=True, timeout=900, cwd=ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f"sql measurement failed:\n{proc.stderr[-3000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        samples.append(r)
        print(f"    rep {rep + 1}/{args.reps} " + "; ".join(
            f"{k}: first {v['first_s']:.3f} s, repeated {v['repeat_s'] * 1e3:.1f} ms" for k, v in r.items()), flush=True)
    results = {}
    for label in SQL_QUERIES:
        first = statistics.median(s[label]["first_s"] for s in samples)
        again = statistics.median(s[label]["repeat_s"] for s in samples)
        cpu = statistics.median(s[label]["repeat_cpu_s"] for s in samples)
        results[label] = {"query": SQL_QUERIES[label], "first_s": first, "repeat_s": again, "repeat_cpu_s": cpu,
                          "speedup": first / again, "rows": samples[0][label]["rows"]}
    return {"sessions": args.sessions, "runs_per_session": args.runs_per_session, "reps": args.reps,
            "repeats": SQL_REPEATS, "data": {**meta, "path": os.path.relpath(path, ROOT)}, "results": results}


def print_sql(section: dict) -> None:
    print(f"\nsqlite ex.sql(), {section['sessions']} sessions x {section['runs_per_session']} runs; "
          f"median of {section['reps']} fresh processes, repeated = median of {section['repeats']}")
    for label, r in section["results"].items():
        ok = r["repeat_s"] <= MAX_REPEATED_SQL_S and r["speedup"] >= MIN_SQL_SPEEDUP
        print(f"  {label:18s} first {r['first_s']:.3f} s, repeated {r['repeat_s'] * 1e3:.1f} ms "
              f"(CPU {r['repeat_cpu_s'] * 1e3:.1f} ms) = {r['speedup']:.0f}x "
              f"(target <= {MAX_REPEATED_SQL_S * 1e3:.0f} ms and >= {MIN_SQL_SPEEDUP:.0f}x): {verdict(ok)}")


# -- spans and offload resolution (issue 18; separate run: --spans N) -------------------------

def spans_section(args) -> dict:
    path, meta = spans_file(args.spans, args.seed, args.regenerate)
    print(f"spans: {meta['spans']} spans in {meta['traces']} traces, {meta['bytes'] / 1e6:.0f} MB", flush=True)
    warm(path)
    section = {"spans": args.spans, "reps": args.reps, "seed": args.seed,
               "data": {**meta, "path": os.path.relpath(path, ROOT), "attributes": _attr_stats(path)},
               "columns": SPAN_COLUMNS}
    ops = list(SPAN_OPS) if not args.skip_alternatives else [op for op in SPAN_OPS if op.startswith("nb.")]
    res = run_ops(ops, str(path), args.reps, labels=SPAN_OPS)
    nb = res["nb.spans"]["median_s"]
    section["results"] = res
    section["ratios"] = {alt: res[alt]["median_s"] / nb for alt in ("agno.spans", "pandas.spans") if alt in res}
    section["cpu_ratios"] = {alt: res[alt]["median_cpu_s"] / res["nb.spans"]["median_cpu_s"]
                             for alt in ("agno.spans", "pandas.spans") if alt in res}
    # offload resolution where nothing is offloaded: tool_calls() on the sessions file, on and off
    spath, smeta = sqlite_file(args.sessions, args.runs_per_session, args.seed, args.regenerate)
    print(f"offload resolution: tool_calls() on {args.sessions} sessions x {args.runs_per_session} runs "
          f"(nothing offloaded)", flush=True)
    warm(spath)
    off = run_ops(["nb.tool_calls", "nb.tool_calls.noresolve"], str(spath), max(args.reps, 5),
                  labels={"nb.tool_calls": "tool_calls() resolving", "nb.tool_calls.noresolve": "tool_calls() not resolving"})
    section["offload"] = {"sessions": args.sessions, "runs_per_session": args.runs_per_session,
                          "data": {**smeta, "path": os.path.relpath(spath, ROOT)}, "results": off}
    return section


def _attr_stats(path: Path) -> dict:
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        n, avg, mx, err, llm = con.execute(
            "SELECT count(*), avg(length(attributes)), max(length(attributes)), sum(status_code = 'ERROR'), "
            "sum(json_extract(attributes, '$.\"openinference.span.kind\"') = 'LLM') FROM agno_spans").fetchone()
        outside = con.execute("SELECT count(*) FROM agno_spans s JOIN agno_traces t USING (trace_id) "
                              "WHERE t.run_id IS NULL").fetchone()[0]
    finally:
        con.close()
    return {"avg_chars": avg, "max_chars": mx, "error_spans": err, "llm_spans": llm, "spans_in_traces_outside_runs": outside,
            "total_chars": int(avg * n) if avg else 0}


def print_spans(section: dict) -> None:
    d, a, res = section["data"], section["data"]["attributes"], section["results"]
    print(f"\nsqlite spans(): {d['spans']} spans in {d['traces']} traces, {d['bytes'] / 1e6:.0f} MB on disk; attributes "
          f"{a['avg_chars'] / 1e3:.1f} KB on average ({a['total_chars'] / 1e9:.2f} GB); {a['llm_spans']} LLM spans, "
          f"{a['error_spans']} ERROR, {a['spans_in_traces_outside_runs']} in traces outside runs; median of {section['reps']}")
    print(f"{'operation':72s} {'median s':>9s} {'cpu s':>7s} {'min s':>7s} {'max s':>7s} {'rows':>7s} {'peak MB':>8s}")
    for op, label in SPAN_OPS.items():
        if op in res:
            r = res[op]
            print(f"{label:72s} {r['median_s']:9.3f} {r['median_cpu_s']:7.3f} {r['min_s']:7.3f} {r['max_s']:7.3f} "
                  f"{r['rows']:7d} {r['peak_mb']:8.0f}")
    for op in ("nb.spans", "nb.spans.few", "nb.spans.two"):
        if op in res:
            t = res[op]["median_s"]
            print(f"  {SPAN_OPS[op]}: {t:.3f} s (target <= {MAX_SPANS_S:.0f} s): {verdict(t <= MAX_SPANS_S)}")
    for alt in ("agno.spans", "pandas.spans"):
        if alt in section["ratios"]:
            x, xc = section["ratios"][alt], section["cpu_ratios"][alt]
            want = MIN_SPANS_X_AGNO if alt == "agno.spans" else None
            print(f"  {SPAN_OPS[alt]} / agno_nb spans() = {x:.1f}x (CPU {xc:.1f}x)"
                  + (f" (target >= {want:.0f}x): {verdict(x >= want)}" if want else ""))
    off = section["offload"]
    on, no = off["results"]["nb.tool_calls"], off["results"]["nb.tool_calls.noresolve"]
    spread = max(on["max_s"] - on["min_s"], no["max_s"] - no["min_s"])
    diff = on["median_s"] - no["median_s"]
    print(f"\noffload resolution, tool_calls() on {off['sessions']} sessions x {off['runs_per_session']} runs "
          f"({on['rows']} tool calls, nothing offloaded), median of {len(on['samples'])}:")
    print(f"  resolving {on['median_s']:.3f} s (CPU {on['median_cpu_s']:.3f}), not resolving {no['median_s']:.3f} s "
          f"(CPU {no['median_cpu_s']:.3f}): difference {diff * 1e3:+.0f} ms ({diff / no['median_s'] * 100:+.1f}%), "
          f"CPU {(on['median_cpu_s'] - no['median_cpu_s']) * 1e3:+.0f} ms; spread of the reps {spread * 1e3:.0f} ms: "
          f"{'within the noise' if abs(diff) <= spread else 'MEASURABLE'}")


# -- report --------------------------------------------------------------------------------

def verdict(ok) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def print_compare(section: dict) -> None:
    for backend, entry in section["backends"].items():
        if "skipped" in entry:
            print(f"\n{backend}: skipped ({entry['skipped']})")
            continue
        d = entry["data"]
        res = entry["results"]
        n_msgs = res["nb.messages"]["rows"]
        print(f"\n{backend}: {section['sessions']} sessions x {section['runs_per_session']} runs = {d['runs']} runs, "
              f"{n_msgs} messages, {d['bytes'] / 1e6:.0f} MB on disk; median of {section['reps']}")
        print(f"{'operation':42s} {'median s':>9s} {'cpu s':>7s} {'min s':>7s} {'max s':>7s} {'rows':>8s} {'df MB':>7s} "
              f"{'peak MB':>8s} {'peak/df':>7s}")
        for op, label in OPS.items():
            if op not in res:
                continue
            r = res[op]
            cpu = f"{r['median_cpu_s']:7.3f}" if r.get("median_cpu_s") is not None else f"{'':7s}"
            print(f"{label:42s} {r['median_s']:9.3f} {cpu} {r['min_s']:7.3f} {r['max_s']:7.3f} {r['rows']:8d} "
                  f"{r['df_mb']:7.1f} {r['peak_mb']:8.0f} {r['peak_over_df']:7.2f}")
        fixed = section.get("fixed_overhead_mb")
        max_s, x_agno, x_pandas = TARGETS[backend]
        nb = res["nb.messages"]["median_s"]
        print(f"  messages() {nb:.3f} s (target <= {max_s} s): {verdict(nb <= max_s)}")
        if "nb.messages.adbc" in entry["ratios"]:
            x = entry["ratios"]["nb.messages.adbc"]
            print(f"  safe sqlite3 path: {1 / x:.2f}x the time of the old in-process ADBC path (UNSAFE, reference only)")
        for alt, want in (("agno.flatten", x_agno), ("pandas.json", x_pandas)):
            if alt in entry["ratios"]:
                x = entry["ratios"][alt]
                print(f"  {OPS[alt]} / agno_nb messages() = {x:.1f}x"
                      + (f" (target >= {want:.0f}x): {verdict(x >= want)}" if want else ""))
        for op in ("nb.messages", "nb.runs", "nb.sessions"):
            r = res[op]
            extra = (f"; less the fixed {fixed:.0f} MB: {(r['peak_mb'] - fixed) / r['df_mb']:.2f}x"
                     if fixed is not None else "")
            print(f"  {OPS[op]} peak {r['peak_mb']:.0f} MB = {r['peak_over_df']:.2f}x its DataFrame "
                  f"(target <= {MAX_PEAK_OVER_DF:.0f}x): {verdict(r['peak_over_df'] <= MAX_PEAK_OVER_DF)}{extra}")


def print_scaling(section: dict) -> None:
    print(f"\nsqlite scaling, messages(), median of {section['reps']}")
    print(f"{'sessions':>9s} {'file MB':>8s} {'messages':>9s} {'median s':>9s} {'us/msg':>7s} {'peak MB':>8s} "
          f"{'df MB':>7s} {'peak/df':>7s}")
    for p in section["points"]:
        print(f"{p['sessions']:9d} {p['bytes'] / 1e6:8.0f} {p['rows']:9d} {p['median_s']:9.3f} "
              f"{p['median_s'] / p['rows'] * 1e6:7.2f} {p['peak_mb']:8.0f} {p['df_mb']:7.0f} {p['peak_over_df']:7.2f}")
    fit = section.get("fit")
    if fit:
        print(f"  least-squares line: {fit['intercept_s']:.3f} s + {fit['us_per_message']:.2f} us/message, "
              f"R^2 = {fit['r2']:.4f}")
        for st in fit["steps"]:
            print(f"  {st['from']} -> {st['to']} sessions: data x{st['data_x']:.2f}, time x{st['time_x']:.2f}")
        print(f"  linear (no step's time grows more than {MAX_STEP_OVER_LINEAR:.2f}x its data's growth): "
              f"{verdict(fit['linear'])}")
    f = section["filtered"]
    print(f"  filtered load ({f['sessions']} sessions; agent_id={f['filters']['agent_id']!r}, "
          f"{f['filters']['since'][:10]}..{f['filters']['until'][:10]}): {f['median_s']:.3f} s, {f['rows']} messages "
          f"(target <= {MAX_FILTERED_S} s): {verdict(f['median_s'] <= MAX_FILTERED_S)}")
    print("  SQLite plan: " + " | ".join(f["plan"]))


def export_section(args) -> dict:
    """The export and its distributed read (bench/_export_bench.py), on the synthetic file."""
    from _export_bench import export_and_distributed_read

    n = args.export_sessions or max(args.scaling)
    path, _ = sqlite_file(n, args.runs_per_session, args.seed, False)
    print(f"export and distributed read: {n} sessions x {args.runs_per_session} runs", flush=True)
    return {"sessions": n, **export_and_distributed_read(path)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20000)
    ap.add_argument("--runs-per-session", type=int, default=5)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--scaling", default=None, help="session counts, e.g. 2000,10000,50000,100000 (SQLite only)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--regenerate", action="store_true", help="rewrite cached SQLite files")
    ap.add_argument("--data-dir", default=None, help=f"where the SQLite files are kept (default {DATA})")
    ap.add_argument("--skip-alternatives", action="store_true", help="measure agno_nb only")
    ap.add_argument("--sql", action="store_true", help="measure repeated ex.sql() queries only (SQLite)")
    ap.add_argument("--spans", type=int, nargs="?", const=300000, default=None,
                    help="measure spans() on a file of at least N spans (default 300000) and offload resolution")
    ap.add_argument("--export-sessions", type=int, default=None,
                    help="with --scaling: sessions for the export + Dask read (default: the largest; 0: skip)")
    args = ap.parse_args()
    if args.data_dir:
        os.environ["AGNO_NB_BENCH_DATA"] = str(Path(args.data_dir).resolve())
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgres"}
    if unknown:
        ap.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    if args.scaling:
        args.scaling = sorted(int(x) for x in args.scaling.split(","))
    if args.spans is not None and args.spans < 1:
        ap.error("--spans must be at least 1")
    if args.sessions < 1 or args.runs_per_session < 1 or args.reps < 1:
        ap.error("--sessions, --runs-per-session and --reps must be at least 1")

    from importlib.metadata import version

    import agno_nb

    started = time.perf_counter()
    results = json.loads(OUT.read_text()) if OUT.is_file() else {}
    env = {"agno_nb_version": agno_nb.__version__, "agno_version": version("agno"), "duckdb": version("duckdb"),
           "pyarrow": version("pyarrow"), "pandas": version("pandas"), "python": platform.python_version(),
           "platform": platform.platform(), "cpus": os.cpu_count(),
           "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_avg_at_start": os.getloadavg()}
    key = "spans" if args.spans else "sql" if args.sql else "scaling" if args.scaling else "compare"
    section = (spans_section(args) if args.spans else sql_repeat(args) if args.sql else scaling(args) if args.scaling
               else compare(args))
    if args.scaling and args.export_sessions != 0:
        section["export"] = export_section(args)
    section["env"] = env
    section["wall_s"] = time.perf_counter() - started
    section["load_avg_at_end"] = os.getloadavg()
    results[key] = section
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1))
    if args.spans:
        print_spans(section)
    else:
        print_sql(section) if args.sql else print_scaling(section) if args.scaling else print_compare(section)
    if "export" in section:
        from _export_bench import print_export

        print_export(section["export"])
    la = env["load_avg_at_start"]
    print(f"\nload average (1/5/15 min) at start {la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f}, at end "
          f"{section['load_avg_at_end'][0]:.2f}/{section['load_avg_at_end'][1]:.2f}/{section['load_avg_at_end'][2]:.2f} "
          f"on {os.cpu_count()} cores")
    print(f"wrote {OUT.relative_to(ROOT)}; total wall time {section['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
