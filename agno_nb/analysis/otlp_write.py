"""Sessions as OpenTelemetry spans: ``SessionExplorer.to_otlp(path)``.

The file holds OTLP/JSON lines, the shape the OpenTelemetry Collector's file exporter writes
(one ``ExportTraceServiceRequest`` per line, one line per session, ids in hex), so Phoenix,
Langfuse or any OTLP backend can take it, and ``agno_nb.connect`` reads it back.

Each top-level run is a trace. Its span follows the GenAI agent conventions
(``invoke_agent``, ``gen_ai.agent.id``, ``gen_ai.conversation.id``) and OpenInference
(``openinference.span.kind = AGENT``, ``session.id``, ``user.id``); member runs are its
children. Each assistant message becomes a ``chat`` span (``gen_ai.input.messages``:
everything the model had been sent, ``gen_ai.output.messages``: its answer, and
``gen_ai.usage.*``), each tool call an ``execute_tool`` span (``gen_ai.tool.*``).
``agno.run.id`` and an Agno-style ``input.value`` (message ids and history flags) keep
what the conventions have no name for, so a round trip keeps runs and messages as they were.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

import pandas as pd

SCOPE = {"name": "agno_nb", "version": "0.1.0"}
_INTERNAL, _CLIENT = 1, 3
_ERROR = 2


def _id(size: int, *parts: Any) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[: 2 * size]


def _value(v: Any) -> Dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    return {"stringValue": str(v)}


def _attrs(d: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in d.items() if _present(v)]


def _present(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return False
    return not (isinstance(v, float) and math.isnan(v))


def _clean(row: Dict[str, Any]) -> Dict[str, Any]:
    return {k: (v if _present(v) else None) for k, v in row.items()}


def _ns(t: Any) -> Optional[int]:
    if t is None:
        return None
    return int(pd.Timestamp(t).value)


class _Clock:
    """Start times that only go forward within a run: readers order a run's model calls (and
    its tool calls) by start time, and Agno stores times in whole seconds."""

    def __init__(self) -> None:
        self.last = 0

    def at(self, t: Optional[int]) -> int:
        self.last = max(t or 0, self.last + 1)  # 1 ns: invisible at the tables' microseconds
        return self.last


def _parts(m: Dict[str, Any]) -> Dict[str, Any]:
    """A message in the GenAI ``{role, parts}`` shape."""
    parts: List[Dict[str, Any]] = []
    if m["role"] == "tool":
        return {"role": "tool", "parts": [{"type": "tool_call_response", "id": m.get("tool_call_id"),
                                           "response": m.get("content")}]}
    if m.get("content") is not None:
        parts.append({"type": "text", "content": m["content"]})
    for c in json.loads(m["tool_calls"]) if m.get("tool_calls") else []:
        fn = c.get("function") or {}
        args = fn.get("arguments")
        try:
            args = json.loads(args) if isinstance(args, str) else args
        except ValueError:
            pass
        parts.append({"type": "tool_call", "id": c.get("id"), "name": fn.get("name"), "arguments": args})
    return {"role": m["role"], "parts": parts}


def _agno_message(m: Dict[str, Any]) -> Dict[str, Any]:
    created = m.get("created_at")
    out = {"id": m.get("message_id"), "role": m["role"], "from_history": m.get("from_history"),
           "tool_name": m.get("tool_name"), "created_at": _ns(created) / 1e9 if created is not None else None,
           "reasoning_content": m.get("reasoning_content"), "media": m.get("media")}
    return {k: v for k, v in out.items() if v is not None}


def _span(trace: str, span: str, parent: Optional[str], name: str, kind: int, start: int, end: int,
          attrs: Dict[str, Any], error: bool = False) -> Dict[str, Any]:
    out = {"traceId": trace, "spanId": span, "name": name, "kind": kind,
           "startTimeUnixNano": str(start), "endTimeUnixNano": str(max(end, start)), "attributes": _attrs(attrs),
           "status": {"code": _ERROR} if error else {}}
    if parent:
        out["parentSpanId"] = parent
    return out


def session_spans(runs: List[Dict[str, Any]], messages: List[Dict[str, Any]], tools: List[Dict[str, Any]],
                  session: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    """The spans of one session's runs, messages and tool calls (rows of the four tables;
    ``session``: the attributes the session itself adds)."""
    run_rows = sorted(runs, key=lambda r: (r["run_index"] if r["run_index"] is not None else 0))
    by_run: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for m in sorted(messages, key=lambda m: m["message_index"]):
        by_run[m["run_id"]].append(m)
    calls: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for t in tools:
        calls[t["run_id"]].append(t)
    ids = {r["run_id"] for r in run_rows}
    top = {r["run_id"]: r["run_id"] for r in run_rows}
    parents = {r["run_id"]: r["parent_run_id"] for r in run_rows}
    for rid in top:  # the top-level run each run belongs to: its trace
        seen, p = {rid}, parents.get(rid)
        while p in ids and p not in seen:
            top[rid], seen, p = p, seen | {p}, parents.get(p)
    spans: List[Dict[str, Any]] = []
    first_top = next((r["run_id"] for r in run_rows if top[r["run_id"]] == r["run_id"]), None)
    for r in run_rows:
        trace = _id(16, r["session_id"], top[r["run_id"]])
        spans += _run_spans(r, trace, by_run[r["run_id"]], calls[r["run_id"]],
                            parent=_id(8, r["session_id"], r["parent_run_id"]) if r["parent_run_id"] in ids else None,
                            session=session if r["run_id"] == first_top else None)
    return spans


def _run_spans(r: Dict[str, Any], trace: str, msgs: List[Dict[str, Any]], calls: List[Dict[str, Any]],
               parent: Optional[str], session: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    """The run's span (``invoke_agent``), a ``chat`` span per model answer, an ``execute_tool`` span per call."""
    sid = r["session_id"]
    span_id = _id(8, sid, r["run_id"])
    start = _ns(r["created_at"]) or 0  # runs are ordered by agno.run.index, not by time
    who = r["agent_id"] or r["team_id"] or r["workflow_id"] or ""
    out: List[Dict[str, Any]] = []
    clock, tool_clock = _Clock(), _Clock()  # each kind in order within the run
    # one chat span per assistant message: what had been sent before it, and it
    sent: List[Dict[str, Any]] = []
    for m in msgs:
        if m["role"] != "assistant":
            sent.append(m)
            continue
        out.append(_chat_span(r, trace, span_id, sent, m, clock))
        sent.append(m)
    if msgs and msgs[-1]["role"] != "assistant":  # messages after the last answer (a failed run)
        out.append(_chat_span(r, trace, span_id, sent, None, clock))
    for c in calls:
        t0 = tool_clock.at(_ns(c["created_at"]))
        attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": c["tool_name"],
                 "gen_ai.tool.call.id": c["tool_call_id"], "gen_ai.tool.call.arguments": c["tool_args"],
                 "gen_ai.tool.call.result": c["result"], "gen_ai.conversation.id": sid, "session.id": sid,
                 "openinference.span.kind": "TOOL", "tool.name": c["tool_name"],
                 "agno.tool.child_run_id": c.get("child_run_id")}
        dur = _dur(c["duration"])
        out.append(_span(trace, _id(8, sid, r["run_id"], "tool", c["tool_call_id"], len(out)), span_id,
                         f"execute_tool {c['tool_name']}", _INTERNAL, t0, t0 + dur, attrs,
                         error=bool(c["tool_call_error"])))
    # the run's own duration when stored; children may end later (Agno's times are whole seconds)
    end = start + _dur(r["duration"]) if r["duration"] is not None else max(
        [start] + [int(s["endTimeUnixNano"]) for s in out])
    attrs = {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": r["agent_id"], "gen_ai.agent.name": who,
        "gen_ai.conversation.id": sid, "gen_ai.request.model": r["model"], "gen_ai.provider.name": r["model_provider"],
        "gen_ai.usage.input_tokens": r["input_tokens"], "gen_ai.usage.output_tokens": r["output_tokens"],
        "openinference.span.kind": "AGENT", "session.id": sid, "user.id": r["user_id"],
        "input.value": r["input"], "output.value": r["content"],
        "agno.run.id": r["run_id"], "agno.run.status": r["status"], "agno.agent.id": r["agent_id"],
        "agno.team.id": r["team_id"], "agno.workflow.id": r["workflow_id"], "agno.run.index": r["run_index"],
        "agno.metrics.time_to_first_token": r["time_to_first_token"], "agno.workflow.step_results": r["step_results"],
        "agno.run.reasoning_content": r.get("reasoning_content"), "agno.run.metadata": r.get("metadata"),
        "agno.run.session_state": r.get("session_state"), "agno.run.media": r.get("media"),
        **(session or {}),
    }
    run_span = _span(trace, span_id, parent, f"invoke_agent {who}".strip(), _INTERNAL, start, end, attrs,
                     error=r["status"] == "ERROR")
    return [run_span] + out


def _chat_span(r: Dict[str, Any], trace: str, parent: str, sent: List[Dict[str, Any]],
               answer: Optional[Dict[str, Any]], clock: _Clock) -> Dict[str, Any]:
    sid = r["session_id"]
    created = _ns(answer["created_at"]) if answer else None
    dur = _dur((answer or {}).get("duration"))
    t0 = clock.at(created - dur if created is not None else None)
    attrs = {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": r["model"], "gen_ai.provider.name": r["model_provider"],
        "gen_ai.conversation.id": sid, "session.id": sid, "openinference.span.kind": "LLM",
        "gen_ai.input.messages": json.dumps([_parts(m) for m in sent], ensure_ascii=False),
        "input.value": json.dumps({"messages": [_agno_message(m) for m in sent]}, ensure_ascii=False),
    }
    if answer is not None:
        attrs["gen_ai.output.messages"] = json.dumps([_parts(answer)], ensure_ascii=False)
        attrs["output.value"] = json.dumps({"messages": [_agno_message(answer)]}, ensure_ascii=False)
        attrs["gen_ai.usage.input_tokens"] = answer.get("input_tokens")
        attrs["gen_ai.usage.output_tokens"] = answer.get("output_tokens")
        attrs["agno.metrics.time_to_first_token"] = answer.get("time_to_first_token")
        if answer.get("message_id"):
            attrs["gen_ai.response.id"] = answer["message_id"]
    key = answer["message_index"] if answer else "tail"
    return _span(trace, _id(8, sid, r["run_id"], "chat", key), parent, f"chat {r['model'] or ''}".strip(),
                 _CLIENT, t0, t0 + dur, attrs, error=answer is None and r["status"] == "ERROR")


def _dur(seconds: Any) -> int:
    return int(round(float(seconds) * 1e9)) if _present(seconds) else 0


def _session_attrs(row: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if row is None:
        return {}
    updated = row.get("updated_at")
    return {"agno.session.name": row.get("session_name"), "agno.session.summary": row.get("summary"),
            "agno.session.summary_topics": row.get("summary_topics"),
            "agno.session.updated_at": _ns(updated) / 1e9 if updated is not None else None,
            "agno.session.input_tokens": row.get("input_tokens"), "agno.session.output_tokens": row.get("output_tokens"),
            "agno.session.total_tokens": row.get("total_tokens")}


def write_otlp(explorer, path, filters: Dict[str, Any]) -> Path:
    """Write the sessions that match ``filters`` to ``path`` as OTLP/JSON lines (atomically)."""
    path = Path(os.path.abspath(Path(path).expanduser()))
    # plain rows (NULL as None, times as datetimes), grouped by session
    tables = {name: defaultdict(list) for name in ("sessions", "runs", "messages", "tool_calls")}
    for name, groups in tables.items():
        for row in explorer._arrow(name, filters).to_pylist():
            groups[row["session_id"]].append(_clean(row))
    resource = {"attributes": _attrs({"service.name": "agno_nb", "telemetry.sdk.name": "agno_nb"})}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for sid in sorted(tables["runs"]):
                session = (tables["sessions"].get(sid) or [None])[0]
                spans = session_spans(tables["runs"][sid], tables["messages"].get(sid, []),
                                      tables["tool_calls"].get(sid, []), _session_attrs(session))
                line = {"resourceSpans": [{"resource": resource,
                                           "scopeSpans": [{"scope": SCOPE, "spans": spans}]}]}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
