"""Write benchmark: per-run latency of one long session, agno_nb against the real agno 3.1.

    .venv/bin/python bench/write.py [--runs 400] [--backends sqlite,postgres,mysql]

Both systems run N turns into one session through ``OpenAILike`` against the same local
OpenAI-compatible server (agno_nb.testing.FakeOpenAIServer), with history of the last 3
runs in context, each on a fresh database. Every run's wall time is measured; "run k" is
the median of runs k-2..k+2 (shifted inward at the ends: run 1 is runs 1..5), so one GC
pause or fsync does not decide a row; every run's time is kept in the JSON.

Targets (issue): agno_nb at the last run no slower than agno 3.1, and agno_nb's last run
within 1.5x of its run 10, on SQLite, PostgreSQL and MySQL. The verdict is printed; the exit
code is 0 either way, since this measures rather than tests. Results: bench/out/write.json.

PostgreSQL: $AGNO_NB_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
each system gets its own throwaway schema, dropped at the end. Unreachable: skipped.
MySQL/MariaDB (``--backends ...,mysql``): $AGNO_NB_BENCH_MYSQL_URL (default
mysql+pymysql://root@127.0.0.1:3306/test), a throwaway database per system, likewise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# Must be set before agno is imported: agno reads it when an agent is built, and a
# telemetry call to the network inside a run would be measured as agno's latency.
os.environ["AGNO_TELEMETRY"] = "false"


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from agno_nb.testing import FakeOpenAIServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import MYSQL_URL, PG_URL, drop_schemas, reachable  # noqa: E402

SESSION = "bench"
MAX_NB_OVER_AGNO = 1.0   # agno_nb at the last run / agno at the last run
MAX_LAST_OVER_10 = 1.5   # agno_nb at the last run / agno_nb at run 10


def make_agno_nb(base_url, backend, tmp, schema):
    from agno_nb import Agent
    from agno_nb.models import OpenAILike

    if backend == "sqlite":
        from agno_nb.db.sqlite import SqliteDb
        db = SqliteDb(db_file=str(tmp / "agno_nb.db"))
    elif backend == "mysql":
        from agno_nb.db.mysql import MySQLDb
        db = MySQLDb(db_url=MYSQL_URL, db_schema=schema)
    else:
        from agno_nb.db.postgres import PostgresDb
        db = PostgresDb(db_url=PG_URL, db_schema=schema)
    agent = Agent(model=OpenAILike(id="fake", base_url=base_url), db=db,
                  add_history_to_context=True, num_history_runs=3)
    return agent, db.engine


def make_agno(base_url, backend, tmp, schema):
    from agno.agent import Agent
    from agno.models.openai.like import OpenAILike

    if backend == "sqlite":
        from agno.db.sqlite import SqliteDb
        db = SqliteDb(db_file=str(tmp / "agno.db"))
    elif backend == "mysql":
        from agno.db.mysql import MySQLDb
        db = MySQLDb(db_url=MYSQL_URL, db_schema=schema)
    else:
        from agno.db.postgres import PostgresDb
        db = PostgresDb(db_url=PG_URL, db_schema=schema)
    agent = Agent(model=OpenAILike(id="fake", base_url=base_url, api_key="not-provided"), db=db,
                  add_history_to_context=True, num_history_runs=3, telemetry=False)
    return agent, db.db_engine


SYSTEMS = {"agno_nb": make_agno_nb, "agno": make_agno}


def status_of(out) -> str:
    s = getattr(out, "status", None)
    return str(getattr(s, "value", s)).upper()


def bench_one(system, backend, base_url, runs, tmp, schema):
    """Per-run wall times in ms, and the number of runs the session holds afterwards."""
    agent, engine = SYSTEMS[system](base_url, backend, tmp, schema)
    times, failed = [], 0
    try:
        for i in range(1, runs + 1):
            text = f"Question {i}: what is the capital of France?"
            t0 = time.perf_counter()
            out = agent.run(text, session_id=SESSION)
            times.append((time.perf_counter() - t0) * 1000)
            failed += status_of(out) != "COMPLETED"
        session = agent.get_session(session_id=SESSION)
        stored = len(session.runs or []) if session is not None else 0
    finally:
        engine.dispose()
    if failed or stored != runs:
        # A benchmark of runs that errored or were not stored would measure nothing useful.
        print(f"  WARNING {backend}/{system}: {failed} runs not COMPLETED, {stored}/{runs} runs stored",
              file=sys.stderr)
    return times, {"failed_runs": failed, "stored_runs": stored}


def at(times, k, width=5):
    # At the ends the window slides inward rather than shrinking, so run N is a median
    # of 5 like the others and not of 3.
    lo = min(max(1, k - width // 2), max(1, len(times) - width + 1))
    return statistics.median(times[lo - 1:lo - 1 + width])






def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--backends", default="sqlite,postgres")
    args = ap.parse_args()
    runs = args.runs
    if runs < 1:
        ap.error("--runs must be at least 1")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgres", "mysql"}
    if unknown:
        ap.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    checkpoints = [k for k in (1, 10, 100) if k < runs] + [runs]

    import agno_nb
    from importlib.metadata import version
    results = {"runs": runs, "checkpoints": checkpoints, "window": "median of runs k-2..k+2, shifted inward at the ends",
               "agno_nb_version": agno_nb.__version__, "agno_version": version("agno"),
               "python": platform.python_version(), "platform": platform.platform(),
               "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "backends": {}}
    started = time.perf_counter()

    server = FakeOpenAIServer()
    with server, tempfile.TemporaryDirectory(prefix="agno_nb_bench_") as tmpdir:
        for backend in backends:
            schemas = {}
            if backend in ("postgres", "mysql"):
                url = PG_URL if backend == "postgres" else MYSQL_URL
                why = reachable(url)
                if why is not None:
                    print(f"{backend}: skipped, cannot connect ({why})")
                    results["backends"][backend] = {"skipped": why}
                    continue
                schemas = {s: f"bench_{uuid.uuid4().hex[:10]}" for s in SYSTEMS}
            entry = {}
            try:
                for system in SYSTEMS:
                    print(f"{backend}/{system}: {runs} runs ...", flush=True)
                    tmp = Path(tmpdir) / backend
                    tmp.mkdir(exist_ok=True)
                    times, check = bench_one(system, backend, server.base_url, runs, tmp, schemas.get(system))
                    entry[system] = {"at_ms": {str(k): at(times, k) for k in checkpoints},
                                     "total_s": sum(times) / 1000, **check, "per_run_ms": times}
            finally:
                if schemas:
                    drop_schemas(url, schemas.values())
            last, nb, ag = str(runs), entry["agno_nb"]["at_ms"], entry["agno"]["at_ms"]
            entry["nb_over_agno_last"] = nb[last] / ag[last]
            entry["nb_last_over_10"] = nb[last] / nb["10"] if runs > 10 else None
            entry["pass_vs_agno"] = entry["nb_over_agno_last"] <= MAX_NB_OVER_AGNO
            entry["pass_flat"] = (entry["nb_last_over_10"] <= MAX_LAST_OVER_10
                                  if entry["nb_last_over_10"] is not None else None)
            results["backends"][backend] = entry

    results["wall_s"] = time.perf_counter() - started
    print_table(results)
    out = ROOT / "bench" / "out" / "write.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {out.relative_to(ROOT)}; total wall time {results['wall_s']:.1f} s")
    return 0


def print_table(results):
    cps, runs = results["checkpoints"], results["runs"]
    head = ["backend", "system"] + [f"run {k}" for k in cps]
    rows = []
    for backend, entry in results["backends"].items():
        if "skipped" in entry:
            rows.append([backend, "(skipped)"] + ["-"] * len(cps))
            continue
        for system in SYSTEMS:
            rows.append([backend, system] + [f"{entry[system]['at_ms'][str(k)]:.1f}" for k in cps])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print(f"\nper-run latency, ms ({results['window']}); agno {results['agno_version']}, "
          f"agno_nb {results['agno_nb_version']}")
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print()
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}
    for backend, entry in results["backends"].items():
        if "skipped" in entry:
            continue
        flat = entry["nb_last_over_10"]
        print(f"{backend}: agno_nb/agno at run {runs} = {entry['nb_over_agno_last']:.2f} "
              f"(target <= {MAX_NB_OVER_AGNO:g}) {verdict[entry['pass_vs_agno']]}; "
              f"agno_nb run {runs}/run 10 = {'-' if flat is None else f'{flat:.2f}'} "
              f"(target <= {MAX_LAST_OVER_10:g}) {verdict[entry['pass_flat']]}")


if __name__ == "__main__":
    sys.exit(main())
