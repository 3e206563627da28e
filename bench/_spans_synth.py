"""Synthetic Agno 3.1 traces and spans for the spans benchmark, cloned from real agno output.

Every trace written is a copy of a trace real agno 3.1.10 wrote with tracing on
(``notebooks/data/agno-3.1-everything.db``, written by ``scripts/agno_world.py``: 51
traces, 123 spans: agent runs with tools, teams, workflows with steps, streaming, async
runs, a failing run, and the model calls Agno makes outside runs for memories, summaries
and session names). No attribute key is invented: a copy keeps its template's keys,
key order, value types and tree, and varies

- the ids (trace, span, ``graph.node.*``, ``agno.run.id``, message ids), sessions
  (``session.id``, drawn from a pool so a session holds several traces) and users;
- the times: the template's span offsets and durations stretched by a factor of 0.5..2,
  traces spread over ``_synth.WEEKS`` weeks, written as agno writes them (ISO text with
  an offset);
- LLM spans' input: 0..4 history turns (a user and an assistant message, each cloned
  from a real message of that role in the world file) are inserted after the system
  prompt, the texts get lengths drawn from a log-normal, and ``input.value``,
  ``llm.input_messages.N.message.*`` and the token counts are rewritten consistently;
- AGENT/CHAIN/TOOL inputs and outputs: new texts of varied length where the template's
  value is plain text (JSON values are kept as they are).

Traces are drawn uniformly from the templates, so the shares of span kinds, of spans
outside runs (the traces whose run_id is NULL) and of ERROR statuses are those of the world
file. The tables are created by agno's own ``SqliteDb`` (schema, indexes); the rows are
written with ``sqlite3`` ``executemany``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import _synth

WORLD = Path(__file__).resolve().parent.parent / "notebooks" / "data" / "agno-3.1-everything.db"
SPAN_COLS = ("span_id", "trace_id", "parent_span_id", "name", "span_kind", "status_code", "status_message",
             "start_time", "end_time", "duration_ms", "attributes", "created_at")
TRACE_COLS = ("trace_id", "name", "status", "start_time", "end_time", "duration_ms", "run_id", "session_id",
              "user_id", "agent_id", "team_id", "workflow_id", "created_at")
_MSG_KEY = re.compile(r"^llm\.input_messages\.(\d+)\.(.*)$")


def _ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat()


def load_templates(world: Path = WORLD) -> Tuple[List[Tuple[dict, List[dict]]], Dict[str, dict]]:
    """The world file's traces, each with its spans (attributes decoded), and one real input
    message (as ``input.value`` holds it) per role."""
    con = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    traces = [dict(r) for r in con.execute("SELECT * FROM agno_traces ORDER BY start_time, trace_id")]
    spans: Dict[str, List[dict]] = {}
    for r in con.execute("SELECT * FROM agno_spans ORDER BY start_time, span_id"):
        d = dict(r)
        d["attributes"] = json.loads(d["attributes"]) if d["attributes"] else None
        spans.setdefault(d["trace_id"], []).append(d)
    con.close()
    roles: Dict[str, dict] = {}
    for ss in spans.values():
        for s in ss:
            value = (s["attributes"] or {}).get("input.value")
            if (s["attributes"] or {}).get("openinference.span.kind") == "LLM" and value:
                for m in json.loads(value).get("messages", []):
                    if m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str):
                        roles.setdefault(m["role"], m)
    return [(t, spans[t["trace_id"]]) for t in traces if t["trace_id"] in spans], roles


class SpanGenerator:
    """Rows for ``agno_traces`` and ``agno_spans``: at least ``n_spans`` spans, deterministic."""

    def __init__(self, n_spans: int, seed: int = 42, world: Path = WORLD):
        self.n_spans = n_spans
        self.rng = random.Random(seed)
        self.templates, self.role_msgs = load_templates(world)
        self.text = _synth._Text(random.Random(seed + 1))
        per_trace = sum(len(s) for _, s in self.templates) / len(self.templates)
        n_traces = math.ceil(n_spans / per_trace)
        self.sessions = [f"session-{i:06d}" for i in range(max(1, n_traces // 4))]
        self.users = [f"user-{i:04d}" for i in range(max(1, n_traces // 40))]
        self.step = (_synth.END - _synth.START) / n_traces

    def _hex(self, n: int) -> str:
        return "%0*x" % (n, self.rng.getrandbits(4 * n))

    def _len(self, median: float, lo: int, hi: int) -> int:
        return _synth._lognormal_len(self.rng, median, 1.0, lo, hi)

    def _llm(self, attrs: dict, ids: Dict[str, str]) -> dict:
        """An LLM span's attributes with history turns inserted and texts of new lengths."""
        rng = self.rng
        value = attrs.get("input.value")
        doc = json.loads(value) if isinstance(value, str) else None
        msgs = list(doc["messages"]) if doc and isinstance(doc.get("messages"), list) else None
        flat: Dict[int, List[Tuple[str, Any]]] = {}
        for k, v in attrs.items():
            m = _MSG_KEY.match(k)
            if m:
                flat.setdefault(int(m.group(1)), []).append((m.group(2), v))
        order = sorted(flat)
        if msgs is not None and len(msgs) != len(order):
            msgs = None  # not one flat message per stored message: keep the template's messages as they are
        # texts: a new length for each user/assistant message; history turns after the system prompt
        n_sys = sum(1 for i in order if dict(flat[i]).get("message.role") == "system")
        turns = rng.choice((0, 0, 0, 0, 0, 1, 1, 2, 3, 4)) if msgs is not None and self.role_msgs else 0
        new_flat: List[List[Tuple[str, Any]]] = []
        new_msgs: List[dict] = []
        for pos, i in enumerate(order):
            if pos == n_sys and turns:
                for _ in range(turns):
                    for role in ("user", "assistant"):
                        tmpl = self.role_msgs.get(role)
                        if tmpl is None:
                            continue
                        text = self.text.text(rng, self._len(60 if role == "user" else 200, 8, 6000))
                        new_msgs.append({**tmpl, "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                         "content": text, "from_history": True})
                        new_flat.append([("message.role", role), ("message.content", text)])
            entries = list(flat[i])
            role = dict(entries).get("message.role")
            if role in ("user", "assistant") and isinstance(dict(entries).get("message.content"), str):
                text = self.text.text(rng, self._len(60 if role == "user" else 200, 8, 6000))
                entries = [(k, text if k == "message.content" else v) for k, v in entries]
                if msgs is not None:
                    msgs[pos] = {**msgs[pos], "content": text}
            if msgs is not None:
                msgs[pos] = {**msgs[pos], "id": str(uuid.UUID(int=rng.getrandbits(128), version=4))}
                new_msgs.append(msgs[pos])
            new_flat.append(entries)
        out: Dict[str, Any] = {}
        chars = 0
        for k, v in attrs.items():
            if _MSG_KEY.match(k):
                if not any(kk.startswith("llm.input_messages.") for kk in out):
                    for n, entries in enumerate(new_flat):
                        for suffix, val in entries:
                            out[f"llm.input_messages.{n}.{suffix}"] = val
                            if isinstance(val, str):
                                chars += len(val)
                continue
            if k == "input.value" and msgs is not None:
                out[k] = json.dumps({**doc, "messages": new_msgs})
            elif k == "llm.token_count.prompt":
                out[k] = max(1, chars // 4 + rng.randint(0, 40))
            elif k == "llm.token_count.completion":
                out[k] = rng.randint(3, 400)
            elif k == "llm.token_count.total":
                out[k] = None  # filled below
            else:
                out[k] = v
        if "llm.token_count.total" in out:
            out["llm.token_count.total"] = (out.get("llm.token_count.prompt") or 0) + (
                out.get("llm.token_count.completion") or 0)
        return out

    def _other(self, attrs: dict, ids: Dict[str, str], session: str, user: str) -> dict:
        rng = self.rng
        out: Dict[str, Any] = {}
        for k, v in attrs.items():
            if k in ("agno.run.id", "graph.node.id", "graph.node.parent_id") and isinstance(v, str):
                v = ids.setdefault(v, str(uuid.UUID(int=rng.getrandbits(128), version=4))
                                   if k == "agno.run.id" else self._hex(16))
            elif k == "session.id":
                v = session
            elif k == "user.id":
                v = user
            elif k in ("input.value", "output.value") and isinstance(v, str) and not v.lstrip().startswith(("{", "[")):
                v = self.text.text(rng, self._len(120 if k == "input.value" else 500, 4, 6000))
            out[k] = v
        return out

    def chunks(self, chunk_traces: int = 2000) -> Iterator[Tuple[List[tuple], List[tuple]]]:
        rng = self.rng
        written, t = 0, 0
        traces: List[tuple] = []
        spans: List[tuple] = []
        while written < self.n_spans:
            trace, tspans = rng.choice(self.templates)
            base = _synth.START + t * self.step + rng.uniform(0, self.step)
            t += 1
            t0 = _ts(trace["start_time"])
            stretch = rng.uniform(0.5, 2.0)
            ids: Dict[str, str] = {}
            for s in tspans:  # span ids first: graph.node.id is a span's own id
                ids[s["span_id"]] = self._hex(16)
            ids[trace["trace_id"]] = self._hex(32)
            session, user = rng.choice(self.sessions), rng.choice(self.users)

            def when(text: str) -> float:
                return base + (_ts(text) - t0) * stretch

            for s in tspans:
                attrs = s["attributes"]
                if attrs is not None:
                    kind = attrs.get("openinference.span.kind")
                    attrs = self._llm(attrs, ids) if kind == "LLM" else self._other(attrs, ids, session, user)
                start, end = when(s["start_time"]), when(s["end_time"])
                spans.append((ids[s["span_id"]], ids[trace["trace_id"]],
                              ids.get(s["parent_span_id"]) if s["parent_span_id"] else None, s["name"],
                              s["span_kind"], s["status_code"], s["status_message"], _iso(start), _iso(end),
                              int(round((end - start) * 1000)),
                              json.dumps(attrs) if attrs is not None else None,
                              _iso(end + rng.uniform(0.00005, 0.0005))))
            start, end = when(trace["start_time"]), when(trace["end_time"])
            dur = (end - start) * 1000
            run_id = trace["run_id"]
            if run_id is not None:
                run_id = ids.setdefault(run_id, str(uuid.UUID(int=rng.getrandbits(128), version=4)))
            traces.append((ids[trace["trace_id"]], trace["name"], trace["status"], _iso(start), _iso(end),
                           dur if isinstance(trace["duration_ms"], float) else int(round(dur)), run_id,
                           session if trace["session_id"] is not None else None,
                           user if trace["user_id"] is not None else None,
                           trace["agent_id"], trace["team_id"], trace["workflow_id"],
                           _iso(end + rng.uniform(0.00005, 0.0005))))
            written += len(tspans)
            if len(traces) >= chunk_traces:
                yield traces, spans
                traces, spans = [], []
        if traces:
            yield traces, spans


def write_sqlite(path: str, gen: SpanGenerator) -> Dict[str, int]:
    """A fresh SQLite file at ``path`` with agno 3.1's traces and spans tables (WAL, as agno leaves it)."""
    con = _synth.fresh_agno_file(path, ("sessions", "runs", "traces", "spans"))  # sessions and runs stay empty
    t_sql = f"INSERT INTO agno_traces ({', '.join(TRACE_COLS)}) VALUES ({', '.join('?' * len(TRACE_COLS))})"
    s_sql = f"INSERT INTO agno_spans ({', '.join(SPAN_COLS)}) VALUES ({', '.join('?' * len(SPAN_COLS))})"
    n_traces = n_spans = 0
    with con:
        for traces, spans in gen.chunks():
            con.executemany(t_sql, traces)
            con.executemany(s_sql, spans)
            n_traces += len(traces)
            n_spans += len(spans)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    return {"traces": n_traces, "spans": n_spans}
