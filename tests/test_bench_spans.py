"""The spans benchmark's generator (bench/_spans_synth.py) writes what agno reads, with agno's keys."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest

pytest.importorskip("agno")

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import _spans_synth  # noqa: E402

import agno_nb  # noqa: E402


def _keys(con: sqlite3.Connection) -> set:
    keys = set()
    for (attrs,) in con.execute("SELECT attributes FROM agno_spans"):
        keys |= {re.sub(r"\.\d+\.", ".N.", k) for k in json.loads(attrs)}
    return keys


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "spans.db"
    counts = _spans_synth.write_sqlite(str(path), _spans_synth.SpanGenerator(400, seed=7))
    assert counts["spans"] >= 400
    return path


def test_agno_reads_the_generated_spans(small):
    from agno.db.sqlite import SqliteDb

    db = SqliteDb(db_file=str(small))
    try:
        spans = db.get_spans()
        traces, total = db.get_traces(limit=None)
    finally:
        db.db_engine.dispose()
    con = sqlite3.connect(small)
    n_spans, n_traces = (con.execute("SELECT count(*) FROM agno_spans").fetchone()[0],
                         con.execute("SELECT count(*) FROM agno_traces").fetchone()[0])
    assert len(spans) == n_spans >= 400 and len(traces) == total == n_traces
    kinds = {s.attributes.get("openinference.span.kind") for s in spans}
    assert {"LLM", "TOOL", "AGENT", "CHAIN"} <= kinds
    assert any(s.status_code == "ERROR" for s in spans)
    assert any(t.run_id is None for t in traces)  # model calls outside runs
    # varied LLM inputs: history turns inserted, input.value and the flat messages agree
    lengths = set()
    for s in spans:
        a = s.attributes
        if a.get("openinference.span.kind") == "LLM" and "input.value" in a:
            flat = {int(k.split(".")[2]) for k in a if k.startswith("llm.input_messages.")}
            assert len(json.loads(a["input.value"])["messages"]) == len(flat)
            lengths.add(len(flat))
    assert len(lengths) >= 4
    # no key agno did not write: every key (message and tool indices aside) is one of the world file's
    world = sqlite3.connect(f"file:{_spans_synth.WORLD}?mode=ro", uri=True)
    assert _keys(con) <= _keys(world)
    # and agno_nb reads every row, with the kinds agno's attributes give
    df = agno_nb.connect(str(small), progress=False).spans()
    assert len(df) == n_spans
    by_id = {s.span_id: s for s in spans}
    assert all(by_id[i].attributes.get("openinference.span.kind") == k for i, k in zip(df.span_id, df.span_kind))
