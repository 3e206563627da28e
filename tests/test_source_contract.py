"""The source contract: every filter on every table of every source selects the same rows.

One dataset (the demo's agents, team and workflow: several users, models, statuses and
days) is written once into SQLite, then copied row for row into PostgreSQL and MySQL,
exported to Parquet (``to_parquet``) and to an OTLP file (``to_otlp``, read back by
``connect``). For each table and each filter (values that match, and values that match
nothing) the ids each source returns are compared with the SQLite source's.

Agno's other tables: user memories, written by the real agno into SQLite, PostgreSQL and
MySQL, exported with the rest; each filter they take is compared the same way.

Where a source differs, the difference is listed and asserted, never skipped:
:data:`EXCEPTIONS` for the session tables (the test fails if a listed difference goes away,
as well as when an unlisted one appears), and in the stored-tables test: OTLP span files hold
none of Agno's other tables, so there they are empty with their declared columns.
"""

from __future__ import annotations

import json
import sqlite3
import time
import warnings
from typing import Any, Dict, List, Tuple

import pytest
import sqlalchemy as sa

import agno_nb
import agno_nb.analysis.filters
from agno_nb.demo import build

KEYS = {"sessions": ["session_id"], "runs": ["run_id"], "messages": ["run_id", "message_index"],
        "tool_calls": ["run_id", "tool_call_id"]}
SOURCES = ("postgres", "mysql", "parquet", "otlp")
JSON_COLUMNS = {"session_data", "agent_data", "team_data", "workflow_data", "metadata", "runs", "summary", "run_data"}

# (source, table, filter label) -> why that source cannot give the SQLite source's rows.
# Every entry must still differ: a fix that makes one agree removes it here.
_STEPS = ("a workflow's step runs are rows of runs in a file source, so sessions(model=) keeps the workflow "
          "session whose step ran that model; the SQL sources test the stored top-level run's model only "
          "(their runs(model=) does return those step runs): not fixed yet")
EXCEPTIONS: Dict[Tuple[str, str, str], str] = {
    (source, "sessions", label): _STEPS
    for source in ("parquet", "otlp")
    for label in ("model='demo-small'",
                  "model='demo-large',since=Timestamp('2026-09-07 09:27:59+0000', tz='UTC'),user_id='bob'")}


def _copy_rows(sqlite_path: str, db: Any) -> None:
    """The SQLite file's session and run rows, verbatim, into ``db`` (an agno_nb PostgresDb / MySQLDb)."""
    layout = db.tables()
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    src.row_factory = sqlite3.Row
    try:
        with db.db_engine.begin() as conn:
            for table, name in ((layout.sessions, "agno_sessions"), (layout.runs, "agno_runs")):
                rows = [{k: (json.loads(r[k]) if k in JSON_COLUMNS and r[k] is not None else r[k]) for k in r.keys()}
                        for r in src.execute(f"SELECT * FROM {name}")]
                assert rows, name
                conn.execute(sa.insert(table), rows)
    finally:
        src.close()


# Agno's other tables: user memories, written by the real agno into each database
MEMORIES = [("m1", "alice", "weather-agent", None, 1_790_000_000), ("m2", "alice", None, "travel-team", 1_790_100_000),
            ("m3", "bob", "weather-agent", None, 1_790_200_000), ("m4", "bob", None, None, 1_790_300_000),
            ("m5", "carol", "support-agent", None, 1_790_400_000)]
STORED_CASES = [{"user_id": "alice"}, {"user_id": "nope"}, {"agent_id": "weather-agent"}, {"agent_id": "nope"},
                {"team_id": "travel-team"}, {"team_id": "nope"}, {"since": 1_790_200_000}, {"until": 1_790_200_000},
                {"since": "2030-01-01"}, {"user_id": "bob", "since": 1_790_250_000}, {}]


def _write_memories(sqlite_path: str, pg_url: str, mysql_url: str, schema: str) -> None:
    from agno.db.mysql import MySQLDb as AgnoMySQLDb
    from agno.db.postgres import PostgresDb as AgnoPostgresDb
    from agno.db.schemas.memory import UserMemory
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb

    for db in (AgnoSqliteDb(db_file=sqlite_path), AgnoPostgresDb(db_url=pg_url, db_schema=schema),
               AgnoMySQLDb(db_url=mysql_url, db_schema=schema)):
        for memory_id, user, agent, team, at in MEMORIES:
            db.upsert_user_memory(UserMemory(memory=f"likes {memory_id}", memory_id=memory_id, user_id=user,
                                             agent_id=agent, team_id=team, created_at=at, updated_at=at))
        engine = getattr(db, "db_engine", None)
        if engine is not None:
            engine.dispose()


@pytest.fixture(scope="module")
def sources(tmp_path_factory, request) -> Dict[str, agno_nb.SessionExplorer]:
    from conftest import RUN_TAG
    from agno_nb.db.mysql import MySQLDb
    from agno_nb.db.postgres import PostgresDb

    pg_url, mysql_url = request.getfixturevalue("pg_url"), request.getfixturevalue("mysql_url")
    folder = tmp_path_factory.mktemp("contract")
    path = build(folder / "agno.db", sessions=24)
    schema = f"{RUN_TAG}_contract"
    pg, my = PostgresDb(pg_url, db_schema=schema), MySQLDb(db_url=mysql_url, db_schema=schema)
    try:
        _copy_rows(str(path), pg)
        _copy_rows(str(path), my)
    finally:
        pg.close()
        my.close()
    _write_memories(str(path), pg_url, mysql_url, schema)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = agno_nb.connect(path, progress=False)
        out = {"sqlite": ex,
               # through SQLAlchemy: the same SQL as ADBC (tested elsewhere), without ADBC's ~0.3 s connection per load
               "postgres": agno_nb.connect(pg_url, db_schema=schema, progress=False, engine="sqlalchemy"),
               "mysql": agno_nb.connect(mysql_url, db_schema=schema, progress=False),
               "parquet": agno_nb.connect(ex.to_parquet(folder / "export"), progress=False),
               "otlp": agno_nb.connect(ex.to_otlp(folder / "spans.jsonl"), progress=False)}
    return out


def _filters(ex: agno_nb.SessionExplorer) -> List[Tuple[str, Dict[str, Any]]]:
    """Each filter with values that match (taken from the data) and values that match nothing."""
    runs = ex.runs(columns=["run_id", "session_id", "created_at"])
    times = sorted(runs.created_at)
    middle = times[len(times) // 2]
    some = sorted(set(runs.session_id))[:3]
    cases: List[Tuple[str, Dict[str, Any]]] = [
        ("session_ids", {"session_ids": some}), ("session_ids", {"session_ids": ["nope"]}),
        ("session_ids", {"session_ids": []}),
        ("user_id", {"user_id": "bob"}), ("user_id", {"user_id": "nope"}),
        ("agent_id", {"agent_id": "weather-agent"}), ("agent_id", {"agent_id": "nope"}),
        ("team_id", {"team_id": "travel-team"}), ("team_id", {"team_id": "nope"}),
        ("workflow_id", {"workflow_id": "trip-brief"}), ("workflow_id", {"workflow_id": "nope"}),
        ("session_type", {"session_type": "team"}), ("session_type", {"session_type": "workflow"}),
        ("session_type", {"session_type": "nope"}),
        ("since", {"since": middle}), ("since", {"since": "2030-01-01"}), ("until", {"until": middle}),
        ("status", {"status": "error"}), ("status", {"status": "completed"}), ("status", {"status": "NOPE"}),
        ("model", {"model": "demo-small"}), ("model", {"model": "nope"}),
        ("combined", {"user_id": "bob", "since": times[0], "model": "demo-large"}),
        ("combined", {"team_id": "travel-team", "status": "COMPLETED", "until": middle}),
    ]
    return cases


def _label(filters: Dict[str, Any]) -> str:
    return ",".join(f"{k}={v!r}" for k, v in sorted(filters.items()))


def _ids(ex: agno_nb.SessionExplorer, name: str, filters: Dict[str, Any]) -> List[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an id of the wrong kind warns: not the subject here
        df = ex.table(name, columns=KEYS[name], **filters)
    return sorted(tuple(None if v is None or v != v else v for v in row) for row in df[KEYS[name]].itertuples(index=False))


def test_every_filter_on_every_table_of_every_source_matches_sqlite(sources):
    start = time.perf_counter()
    reference = sources["sqlite"]
    cases = _filters(reference)
    differ: Dict[Tuple[str, str, str], str] = {}
    matched = set()
    spent = dict.fromkeys(("sqlite", *SOURCES), 0.0)
    for name in KEYS:
        for key, filters in cases:
            t = time.perf_counter()
            want = _ids(reference, name, filters)
            spent["sqlite"] += time.perf_counter() - t
            if want:
                matched.add((name, key))
            for source in SOURCES:
                t = time.perf_counter()
                t = time.perf_counter()
                try:
                    got = _ids(sources[source], name, filters)
                except Exception as exc:  # noqa: BLE001 - reported with the others below
                    differ[(source, name, _label(filters))] = f"raised {type(exc).__name__}: {str(exc)[:200]}"
                    continue
                finally:
                    spent[source] += time.perf_counter() - t
                if got != want:
                    differ[(source, name, _label(filters))] = (
                        f"{len(got)} row(s) where SQLite has {len(want)}: "
                        f"extra {sorted(set(got) - set(want))[:3]}, missing {sorted(set(want) - set(got))[:3]}")
    print({k: round(v, 1) for k, v in spent.items()})
    unexpected = {k: v for k, v in differ.items() if k not in EXCEPTIONS}
    gone = [k for k in EXCEPTIONS if k not in differ]
    assert not unexpected, "\n".join(f"{k}: {v}" for k, v in sorted(unexpected.items()))
    assert not gone, f"listed differences that no longer differ (remove them from EXCEPTIONS): {gone}"
    # the data exercises every filter on every table (a filter matching nothing anywhere proves little)
    for name in KEYS:
        for key in ("session_ids", "user_id", "agent_id", "team_id", "workflow_id", "session_type", "since",
                    "until", "status", "model"):
            # a workflow's step runs carry no workflow_id: its messages and tool calls are not the workflow's
            assert (name, key) in matched or (key == "workflow_id" and name in ("messages", "tool_calls")), (name, key)
    print(f"{len(cases)} filters x {len(KEYS)} tables x {len(SOURCES) + 1} sources in "
          f"{time.perf_counter() - start:.1f}s")


def test_every_source_implements_the_protocol_and_reads_what_the_explorer_shows(sources):
    from agno_nb.analysis.filters import Filters
    from agno_nb.analysis.protocol import Source

    for source, ex in sources.items():
        assert isinstance(ex.source, Source), source
        assert set(ex.source.tables) == set(KEYS), source
        version = ex.source.version(())
        try:
            assert version.current() is not None
        finally:
            version.close()
        for name in KEYS:
            for filters in ({"model": "nope"}, {"user_id": "bob", "status": "completed"}, {}):
                read = ex.source.read(name, Filters.build(**filters), KEYS[name])
                assert read.column_names == KEYS[name], (source, name)
                got = sorted(tuple(r.values()) for r in read.to_pylist())
                assert got == _ids(ex, name, filters), (source, name, filters)
        # Agno's other tables: the SQL sources read them, a Parquet export its copies, OTLP files hold none
        memories = ex.source.read("memories", Filters.build(user_id="alice"), ["memory_id"])
        assert sorted(memories["memory_id"].to_pylist()) == ([] if source == "otlp" else ["m1", "m2"]), source


def test_stored_tables_filter_alike_where_a_source_holds_them(sources):
    want_all = sorted(m[0] for m in MEMORIES)
    for filters in STORED_CASES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = sorted(sources["sqlite"].memories(**filters).memory_id)
        expected = sorted(m for m, user, agent, team, at in MEMORIES if all((
            filters.get("user_id") in (None, user), filters.get("agent_id") in (None, agent),
            filters.get("team_id") in (None, team),
            "since" not in filters or at >= agno_nb.analysis.filters.to_unix(filters["since"], "since"),
            "until" not in filters or at < agno_nb.analysis.filters.to_unix(filters["until"], "until"))))
        assert want == expected, filters
        for source in ("postgres", "mysql", "parquet"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = sorted(sources[source].memories(**filters).memory_id)
            assert got == want, (source, filters)
        # Exception, by design: OTLP span files hold no memories (nor any of Agno's other tables):
        # the table is there, with its declared columns, and empty
        otlp = sources["otlp"].memories(**filters)
        assert len(otlp) == 0 and list(otlp.columns) == list(sources["sqlite"].memories().columns)
    assert sorted(sources["sqlite"].memories().memory_id) == want_all
