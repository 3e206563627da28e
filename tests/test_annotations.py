"""Scores and annotations (ex.annotate, ex.annotations, score/label columns, the replay's buttons) and ex.evals().

Real SQLite files and the real local PostgreSQL; the eval tables are written by the real agno 3.1.10.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import agno_nb
from agno_nb import Agent, AnnotationError, RunNotFoundError
from agno_nb.analysis.annotations import APPLICATION_ID, SIDE_SUFFIX, SQLITE_TABLE
from agno_nb.analysis.columns import ANNOTATION_COLUMNS, EVAL_COLUMNS
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel
from agno_nb.widgets import replay
from _helpers import DTYPES


def write_runs(db) -> dict:
    """Two sessions of an echo agent: s1 with two runs, s2 with one; returns session_id -> run_ids."""
    agent = Agent(name="Echo", id="echo", db=db, model=EchoModel())
    runs = {"s1": [agent.run("one", session_id="s1", user_id="u").run_id,
                   agent.run("two", session_id="s1", user_id="u").run_id],
            "s2": [agent.run("three", session_id="s2", user_id="u").run_id]}
    return runs


def agno_schema_snapshot(url: str, schema: str) -> dict:
    """Every table of ``schema`` with its rows (as text), for a before/after comparison."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for name in sa.inspect(conn).get_table_names(schema=schema):
                rows = conn.execute(sa.text(f'SELECT * FROM "{schema}"."{name}"')).all()
                out[name] = sorted(repr(tuple(r)) for r in rows)
            return out
    finally:
        engine.dispose()


def file_state(path: Path) -> dict:
    """Bytes and mtime of a SQLite file and of its -wal and -journal (None if absent), and the -shm's bytes.

    (Every reader of a WAL database, read-only ones included, touches the -shm: SQLite's
    shared-memory index, not data. Its bytes are compared, not its mtime.)
    """
    out = {}
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
        out[p.name] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) if p.exists() else None
    shm = Path(f"{path}-shm")
    out[shm.name] = hashlib.sha256(shm.read_bytes()).hexdigest() if shm.exists() else None
    return out


@pytest.fixture
def sqlite_source(tmp_path):
    path = tmp_path / "agno.db"
    db = SqliteDb(db_file=str(path))
    runs = write_runs(db)
    db.close()
    return path, runs


@pytest.fixture
def pg_source(pg_url, pg_schema):
    from agno_nb.db.postgres import PostgresDb

    db = PostgresDb(pg_url, db_schema=pg_schema)
    runs = write_runs(db)
    yield db, runs
    db.close()


def check_frame(df: pd.DataFrame) -> None:
    assert list(df.columns) == [c.name for c in ANNOTATION_COLUMNS]
    for c in ANNOTATION_COLUMNS:
        assert str(df[c.name].dtype) == DTYPES[c.duckdb_type], c.name


# -- storing and reading -------------------------------------------------------------------------

def test_annotate_sqlite_source_stays_untouched(sqlite_source):
    path, runs = sqlite_source
    untouched = file_state(path)["agno.db"]
    ex = agno_nb.connect(path)
    ex.runs(), ex.sessions(), ex.annotations()  # reading creates no store
    # (SQLite's read-only open of a WAL database may add empty -wal/-shm files: compared from here)
    before = file_state(path)
    side = Path(f"{path}{SIDE_SUFFIX}")
    assert not side.exists() and ex.annotation_store.path == side

    rec = ex.annotate(runs["s1"][0], label="good", score=1, note="clear answer", author="ana")
    assert rec["session_id"] == "s1" and rec["run_id"] == runs["s1"][0] and rec["score"] == 1.0
    assert rec["created_at"].tzinfo == dt.timezone.utc and len(rec["annotation_id"]) == 32
    ex.annotate(runs["s2"][0], score=0.25, message_index=1)

    df = ex.annotations()
    check_frame(df)
    assert df["annotation_id"].tolist()[0] == rec["annotation_id"]
    assert df[["session_id", "label", "score", "note", "author"]].iloc[0].tolist() == ["s1", "good", 1.0,
                                                                                     "clear answer", "ana"]
    assert df["message_index"].tolist()[1] == 1 and pd.isna(df["message_index"].tolist()[0])
    assert str(df["created_at"].dt.tz) == "UTC"
    assert ex.annotations(session_ids="s2")["run_id"].tolist() == [runs["s2"][0]]
    assert ex.annotations(label="good", author="ana")["annotation_id"].tolist() == [rec["annotation_id"]]
    assert len(ex.annotations(since=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))) == 0

    # the source: same bytes, same mtime, its -wal and -shm as they were
    assert file_state(path) == before and before["agno.db"] == untouched
    # the side store: agno_nb's marked SQLite file, WAL, synchronous FULL on every connection
    with sqlite3.connect(side) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")} >= {SQLITE_TABLE}
    with sqlite3.connect(path) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not any("annot" in t for t in tables)

    # another connect() (a new kernel) reads them back
    assert agno_nb.connect(path).annotations()["annotation_id"].tolist() == df["annotation_id"].tolist()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_delete_annotations_removes_what_the_filters_select(backend, request, pg_schema):
    """A cell that annotates can run again without piling up copies: it deletes its own first."""
    if backend == "sqlite":
        path, runs = request.getfixturevalue("sqlite_source")
        connect = lambda: agno_nb.connect(path)  # noqa: E731
        before = file_state(path)["agno.db"]
    else:
        db, runs = request.getfixturevalue("pg_source")
        table = f"{pg_schema}_notes.annotations"
        connect = lambda: agno_nb.connect(db, annotations="postgres", annotations_table=table)  # noqa: E731
    ex = connect()
    assert ex.delete_annotations(session_ids=["s1"]) == 0  # nothing stored yet: nothing to do, nothing created
    for _ in range(3):  # the tutorial cell, run three times
        ex.delete_annotations(session_ids=["s1"], author="tutorial")
        ex.annotate(runs["s1"][0], score=1, label="good", author="tutorial")
        ex.annotate(runs["s1"][1], label="too long", message_index=1, author="tutorial")
    ex.annotate(runs["s1"][0], score=0, label="bad", author="ana")  # someone else's: kept
    ex.annotate(runs["s2"][0], score=0.5, author="tutorial")  # another session: kept
    df = ex.annotations()
    assert sorted(zip(df["session_id"], df["author"], df["label"].fillna("-"))) == [
        ("s1", "ana", "bad"), ("s1", "tutorial", "good"), ("s1", "tutorial", "too long"), ("s2", "tutorial", "-")]
    assert ex.runs().set_index("run_id").loc[runs["s1"][0], "label"] == "bad"  # the latest
    assert ex.delete_annotations(author="ana") == 1
    assert ex.runs().set_index("run_id").loc[runs["s1"][0], "label"] == "good"  # the kept table saw it
    assert connect().annotations()["author"].tolist() == ["tutorial"] * 3  # stored, for a new kernel too
    with pytest.raises(TypeError, match="at least one filter"):
        ex.delete_annotations()
    with pytest.raises(TypeError, match="delete_annotations\\(\\).*its filters are"):
        ex.delete_annotations(agent="x")
    assert len(ex.annotations()) == 3
    if backend == "sqlite":
        assert file_state(path)["agno.db"] == before  # the source: same bytes, same mtime


def test_annotations_elsewhere_and_refusals(sqlite_source, tmp_path):
    path, runs = sqlite_source
    elsewhere = tmp_path / "notes" / "mine.sqlite"
    elsewhere.parent.mkdir()
    ex = agno_nb.connect(path, annotations=elsewhere)
    ex.annotate(runs["s1"][1], label="meh")
    assert elsewhere.exists() and not Path(f"{path}{SIDE_SUFFIX}").exists()
    labels = agno_nb.connect(path, annotations=str(elsewhere)).runs().set_index("run_id")["label"]
    assert labels[runs["s1"][1]] == "meh" and labels.isna().sum() == 2
    assert agno_nb.connect(path).runs()["label"].isna().all()  # the default store knows nothing of it

    with pytest.raises(RunNotFoundError, match=r"run_id='no-such-run'.*agno\.db"):
        ex.annotate("no-such-run", score=1)
    for bad in ("high", True, float("nan"), float("inf")):
        with pytest.raises(AnnotationError, match="score must be a finite number"):
            ex.annotate(runs["s1"][0], score=bad)
    with pytest.raises(AnnotationError, match="needs a label, a score or a note"):
        ex.annotate(runs["s1"][0])
    with pytest.raises(AnnotationError, match="message_index"):
        ex.annotate(runs["s1"][0], score=1, message_index=-1)
    with pytest.raises(TypeError, match="annotations\\(\\) got unexpected keyword argument.*agent"):
        ex.annotations(agent="echo")
    assert len(ex.annotations()) == 1  # none of the refused ones was stored

    # never into the source, nor into another database that is not agno_nb's store
    with pytest.raises(AnnotationError, match="is the source itself"):
        agno_nb.connect(path, annotations=path)
    other = tmp_path / "other-agno.db"
    SqliteDb(db_file=str(other)).close()
    write_runs(SqliteDb(db_file=str(other)))
    before = file_state(other)
    with pytest.raises(AnnotationError, match="not an agno_nb annotation store"):
        agno_nb.connect(path, annotations=other).annotate(runs["s1"][0], score=1)
    assert file_state(other) == before
    with pytest.raises(ValueError, match="annotations='postgres'"):
        agno_nb.connect(path, annotations="postgres")


def test_latest_score_and_label_columns(sqlite_source):
    path, runs = sqlite_source
    ex = agno_nb.connect(path)
    s1a, s1b = runs["s1"]
    (s2,) = runs["s2"]
    before = ex.runs()
    assert before["score"].isna().all() and before["label"].isna().all()
    assert str(before["score"].dtype) == "float64" and str(before["label"].dtype) == "string"
    # the SQL tables are kept between queries: an annotation must still show in the next one
    assert ex.sql("SELECT count(*) AS n FROM runs WHERE score IS NOT NULL")["n"][0] == 0

    ex.annotate(s1a, score=1, label="good")
    ex.annotate(s1a, score=0.5)                       # later score, no label: label stays "good"
    ex.annotate(s1a, label="verbose", note="long")    # later label, no score: score stays 0.5
    ex.annotate(s1a, score=0, label="bad", message_index=0)  # a message's: not the run's
    ex.annotate(s1b, score=0.75, label="fine")
    ex.annotate(s2, note="only a note")

    r = ex.runs().set_index("run_id")
    assert r.loc[s1a, "score"] == 0.5 and r.loc[s1a, "label"] == "verbose"
    assert r.loc[s1b, "score"] == 0.75 and r.loc[s1b, "label"] == "fine"
    assert pd.isna(r.loc[s2, "score"]) and pd.isna(r.loc[s2, "label"])
    s = ex.sessions().set_index("session_id")
    # the latest run-level annotation of any of the session's runs (s1b's came last)
    assert s.loc["s1", "score"] == 0.75 and s.loc["s1", "label"] == "fine"
    assert pd.isna(s.loc["s2", "score"])
    sql = ex.sql("SELECT run_id, score, label FROM runs WHERE score IS NOT NULL ORDER BY score")
    assert sql["run_id"].tolist() == [s1a, s1b]
    # a new annotation reaches the kept SQL tables without reading the source again
    ex.sql("SELECT count(*) FROM messages"), ex.sql("SELECT count(*) FROM sessions")
    loads = []
    stop = ex.on_load(lambda name, filters, derived: loads.append(name))
    ex.annotate(s2, score=0.1)
    assert ex.sql("SELECT score FROM runs WHERE run_id = ?", [s2])["score"].tolist() == [0.1]
    assert ex.sql("SELECT score FROM sessions WHERE session_id = 's2'")["score"].tolist() == [0.1]
    assert ex.sql("SELECT count(*) AS n FROM messages")["n"][0] > 0
    assert loads == []
    stop()
    # filters and row order are the table's own
    assert ex.runs(session_ids=["s1"])["run_id"].tolist() == [s1a, s1b]
    assert ex.runs()["run_id"].tolist() == before["run_id"].tolist()


def test_describe_documents_the_new_columns():
    doc = agno_nb.describe()
    for table in ("runs", "sessions"):
        cols = doc[doc["table"] == table].set_index("column")
        assert cols.loc["score", "type"] == "DOUBLE" and "annotat" in cols.loc["score", "description"]
        assert cols.loc["label", "type"] == "VARCHAR"
    assert agno_nb.describe("annotations")["column"].tolist() == [c.name for c in ANNOTATION_COLUMNS]
    assert agno_nb.describe("evals")["column"].tolist() == [c.name for c in EVAL_COLUMNS]


def test_parquet_export_keeps_scores_and_annotates_beside_it(sqlite_source, tmp_path):
    path, runs = sqlite_source
    ex = agno_nb.connect(path)
    ex.annotate(runs["s1"][0], score=1, label="good")
    out = ex.to_parquet(tmp_path / "export", partition_by=())
    exp = agno_nb.connect(out)
    assert exp.annotation_store.path == Path(f"{out}{SIDE_SUFFIX}")
    r = exp.runs().set_index("run_id")
    assert r.loc[runs["s1"][0], "score"] == 1.0 and r.loc[runs["s1"][0], "label"] == "good"
    exp.annotate(runs["s2"][0], score=0.5)
    assert exp.runs().set_index("run_id").loc[runs["s2"][0], "score"] == 0.5
    assert not any(p.name.startswith("agno_nb-annot") for p in out.rglob("*"))  # the export folder is untouched
    assert len(agno_nb.connect(path).annotations()) == 1  # the source's store is another one


# -- PostgreSQL -------------------------------------------------------------------------------------

def test_postgres_default_store_is_a_local_file(pg_source, pg_url, pg_schema, tmp_path, monkeypatch):
    db, runs = pg_source
    monkeypatch.chdir(tmp_path)
    before = agno_schema_snapshot(pg_url, pg_schema)
    ex = agno_nb.connect(db)
    rec = ex.annotate(runs["s1"][0], score=1, label="good", author="bo")
    store = ex.annotation_store.path
    assert store.parent == tmp_path and store.name.startswith("agno_nb-annotations.") and store.exists()
    assert agno_schema_snapshot(pg_url, pg_schema) == before
    df = agno_nb.connect(db).annotations()
    check_frame(df)
    assert df["annotation_id"].tolist() == [rec["annotation_id"]]
    assert agno_nb.connect(db).runs().set_index("run_id").loc[runs["s1"][0], "label"] == "good"


def test_postgres_table_when_asked(pg_source, pg_url, pg_schema):
    db, runs = pg_source
    before = agno_schema_snapshot(pg_url, pg_schema)
    notes = f"{pg_schema}_notes"  # dropped with the test's schemas (same prefix)
    ex = agno_nb.connect(db, annotations="postgres", annotations_table=f"{notes}.annotations")
    assert ex.runs()["score"].isna().all()  # reading creates nothing
    assert agno_schema_snapshot(pg_url, notes) == {}
    ex.annotate(runs["s1"][1], score=0.5, label="ok", note="n")
    ex.annotate(runs["s2"][0], label="bad", message_index=2)
    assert agno_schema_snapshot(pg_url, pg_schema) == before  # Agno's schema: no new table, no new row
    assert set(agno_schema_snapshot(pg_url, notes)) == {"annotations"}

    again = agno_nb.connect(db, annotations="postgres", annotations_table=f"{notes}.annotations")
    df = again.annotations()
    check_frame(df)
    assert df["run_id"].tolist() == [runs["s1"][1], runs["s2"][0]] and df["label"].tolist() == ["ok", "bad"]
    assert df["score"][0] == 0.5 and pd.isna(df["score"][1]) and df["note"][0] == "n"
    assert df["session_id"].tolist() == ["s1", "s2"] and df["message_index"].tolist()[1] == 2
    r = again.runs().set_index("run_id")
    assert r.loc[runs["s1"][1], "score"] == 0.5 and pd.isna(r.loc[runs["s2"][0], "score"])
    assert again.sessions().set_index("session_id").loc["s1", "label"] == "ok"
    with pytest.raises(RunNotFoundError, match=r"run_id='nope'.*PostgreSQL database"):
        again.annotate("nope", score=1)
    with pytest.raises(AnnotationError, match="Agno's own prefix"):
        agno_nb.connect(db, annotations="postgres", annotations_table=f"{notes}.agno_notes")


def test_postgres_default_table_name(pg_source, pg_url):
    """``annotations="postgres"`` alone: the table ``agno_nb.annotations``, rows scoped to this source."""
    db, runs = pg_source
    ex = agno_nb.connect(db, annotations="postgres")
    assert (ex.annotation_store.schema, ex.annotation_store.table_name) == ("agno_nb", "annotations")
    try:
        ex.annotate(runs["s1"][0], score=1)
        assert agno_nb.connect(db, annotations="postgres").annotations()["run_id"].tolist() == [runs["s1"][0]]
    finally:
        engine = sa.create_engine(pg_url)
        with engine.begin() as conn:  # the shared table stays; this test's rows go
            conn.execute(sa.text("DELETE FROM agno_nb.annotations WHERE source = :s"),
                         {"s": ex.annotation_store.scope})
        engine.dispose()


# -- the replay widget ------------------------------------------------------------------------------

def test_replay_lists_the_store_as_it_is_after_a_cell_deletes_and_annotates_again(sqlite_source):
    """Notebook 03's annotation cell, run three times: the replay lists one set, not three."""
    path, _ = sqlite_source
    r = replay(path, "s1", author="tutorial")
    for _ in range(3):
        r.explorer.delete_annotations(session_ids=["s1"], author="tutorial")
        r.good(note="answered from the docs")
    assert r.annotation_list.value.count("answered from the docs") == 1
    assert len(r.explorer.annotations(session_ids=["s1"])) == 1


def test_replay_buttons_annotate_and_persist(sqlite_source):
    path, runs = sqlite_source
    untouched = file_state(path)["agno.db"]
    r = replay(path, "s1", author="ana")
    before = file_state(path)
    assert "No annotations" in r.annotation_list.value
    r.good_button.click()
    assert "score 1" in r.annotation_list.value and "good" in r.annotation_list.value
    assert "ana" in r.annotation_list.value

    r.next_run()
    r.annotate_target.value = "message"
    msg = r.current_message
    r.label_input.value, r.note_input.value = "wrong", "the answer repeats the question"
    r.bad_button.click()
    assert "the answer repeats the question" in r.annotation_list.value and "(this one)" in r.annotation_list.value
    assert r.note_input.value == "" and r.label_input.value == ""
    r.annotate_target.value = "run"
    r.note_input.value = "re-read later"
    r.save_button.click()
    r.save_button.click()  # nothing filled in: refused, and said so in the widget
    assert "AnnotationError" in r.annotation_list.value

    ex = agno_nb.connect(path)  # a new connection, as after a kernel restart
    df = ex.annotations()
    assert df["run_id"].tolist() == [runs["s1"][0], runs["s1"][1], runs["s1"][1]]
    assert df["label"].tolist()[:2] == ["good", "wrong"] and df["score"].tolist()[:2] == [1.0, 0.0]
    assert df["message_index"].tolist()[1] == msg["message_index"] and pd.isna(df["message_index"].tolist()[2])
    assert df["note"].tolist()[2] == "re-read later" and set(df["author"]) == {"ana"}
    r2 = replay(path, "s1")
    assert "score 1" in r2.annotation_list.value
    r2.goto_run(runs["s1"][1])
    assert "re-read later" in r2.annotation_list.value
    assert ex.runs().set_index("run_id").loc[runs["s1"][0], "label"] == "good"
    assert file_state(path) == before and before["agno.db"] == untouched


# -- Agno's eval runs ---------------------------------------------------------------------------------

def log_real_evals(db) -> str:
    """An accuracy eval run written the way agno 3.1.10 writes it (its own log_eval_run)."""
    from agno.db.schemas.evals import EvalType
    from agno.eval.accuracy import AccuracyEvaluation, AccuracyResult
    from agno.eval.utils import log_eval_run

    result = AccuracyResult(run_id="eval-1", results=[
        AccuracyEvaluation(input="2+2?", output="4", expected_output="4", score=10, reason="right"),
        AccuracyEvaluation(input="3+3?", output="7", expected_output="6", score=2, reason="wrong")])
    log_eval_run(db=db, run_id="eval-1", run_data=asdict(result), eval_type=EvalType.ACCURACY,
                 eval_input={"input": "2+2?", "expected_output": "4"}, agent_id="echo", model_id="echo-1",
                 model_provider="test", name="arith", evaluated_component_name="Echo")
    return "eval-1"


def check_evals(df: pd.DataFrame) -> None:
    assert list(df.columns) == [c.name for c in EVAL_COLUMNS]
    for c in EVAL_COLUMNS:
        assert str(df[c.name].dtype) == DTYPES[c.duckdb_type], c.name


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_evals(backend, sqlite_source, request):
    if backend == "sqlite":
        path, _ = sqlite_source
        ex = agno_nb.connect(path)
        check_evals(ex.evals())
        assert len(ex.evals()) == 0  # no eval table: empty, with the columns
        from agno.db.sqlite import SqliteDb as AgnoSqliteDb

        real = AgnoSqliteDb(db_file=str(path))
    else:
        db, _ = request.getfixturevalue("pg_source")
        ex = agno_nb.connect(db)
        check_evals(ex.evals())
        assert len(ex.evals()) == 0
        from agno.db.postgres import PostgresDb as AgnoPostgresDb

        real = AgnoPostgresDb(db_url=request.getfixturevalue("pg_url"), db_schema=request.getfixturevalue("pg_schema"))
    log_real_evals(real)
    real.db_engine.dispose()
    df = ex.evals()
    check_evals(df)
    assert df["run_id"].tolist() == ["eval-1"] and df["eval_type"].tolist() == ["accuracy"]
    assert df["avg_score"].tolist() == [6.0] and df["name"].tolist() == ["arith"]
    assert df["agent_id"].tolist() == ["echo"] and df["evaluated_component_name"].tolist() == ["Echo"]
    assert '"reason": "wrong"' in df["eval_data"][0] and '"expected_output": "4"' in df["eval_input"][0]
    assert abs(df["created_at"][0] - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=5)
    assert len(ex.evals(table="other_evals")) == 0


def test_evals_of_a_parquet_export_are_empty(sqlite_source, tmp_path):
    path, _ = sqlite_source
    out = agno_nb.connect(path).to_parquet(tmp_path / "exp", partition_by=())
    check_evals(agno_nb.connect(out).evals())


def at_once(explorers, annotate) -> list:
    """``annotate(ex, who)`` for each explorer, in a thread each, started together; the errors."""
    import threading

    start, errors = threading.Barrier(len(explorers)), []

    def work(ex, who):
        try:
            start.wait()
            annotate(ex, who)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ex, f"a{n}")) for n, ex in enumerate(explorers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_annotators_lose_nothing(sqlite_source):
    """Two explorers (as two kernels) annotating at once: WAL and BEGIN IMMEDIATE keep every row."""
    path, runs = sqlite_source

    def annotate(ex, who):
        for i in range(25):
            ex.annotate(runs["s1"][i % 2], score=i, author=who)

    assert at_once([agno_nb.connect(path), agno_nb.connect(path)], annotate) == []
    df = agno_nb.connect(path).annotations()
    assert len(df) == 50 and df["annotation_id"].is_unique
    assert df.groupby("author").size().to_dict() == {"a0": 25, "a1": 25}


def test_kernels_creating_the_store_at_the_same_moment_all_succeed(sqlite_source, tmp_path):
    """Eight explorers annotating a source with no store yet, at once, twelve times over: the
    one that creates the store is never taken, half-way, for "not an agno_nb annotation store"
    by another (one in a few hundred runs of the test above hit it)."""
    path, runs = sqlite_source
    for round_ in range(12):
        store = tmp_path / f"store-{round_}.sqlite"
        explorers = [agno_nb.connect(path, annotations=store) for _ in range(8)]
        errors = at_once(explorers, lambda ex, who: ex.annotate(runs["s1"][0], score=1, author=who))
        assert errors == [], (round_, errors)
        assert len(agno_nb.connect(path, annotations=store).annotations()) == len(explorers)
