"""OpenTelemetry traces as sessions: ``connect("traces.jsonl")`` or a folder of span files.

Spans that follow the OpenTelemetry GenAI semantic conventions (``gen_ai.*``) or
OpenInference (``openinference.span.kind``, ``llm.*``, ``tool.*``, ``input.value``) become
the same four tables as Agno's own stores:

* a **session** is a ``session.id`` (OpenInference) or ``gen_ai.conversation.id``; spans
  without one form a session per trace (the trace id);
* a **run** is an agent span (``AGENT``, ``invoke_agent``) or a top-level chain span
  (``CHAIN``); an agent span inside another run is a member run (``parent_run_id``). LLM
  and tool spans outside any run make one run per trace;
* an **LLM span** (``LLM``, ``chat``, ...) gives the messages it sent and received and its
  token counts (``llm.token_count.*``, ``gen_ai.usage.*``);
* a **tool span** (``TOOL``, ``execute_tool``) gives a tool call.

Columns are filled as far as the spans carry them. Spans of other kinds (HTTP, retrievers,
embeddings, ...) and lines that are not spans are counted and named in one warning.
The files are read once and kept until one of them changes.
"""

from __future__ import annotations

import sys
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import pyarrow as pa

from ..errors import AgnoNbError
from .columns import TABLES, media_counts
from .otlp_messages import (add_counts, as_int, as_text, first_of, json_text, llm_messages, loads, role_of,
                            same_message, token_counts)
from .otlp_spans import SUFFIXES, Problem, Span, read_spans, trace_files
from .filters import Filters, filter_arrow

_ARROW = {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(),
          "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"), "VARCHAR[]": pa.list_(pa.string())}


class TraceFileError(AgnoNbError, ValueError):
    """A trace file or folder holds no span agno_nb can read."""


def is_trace_path(path: Path) -> bool:
    """Whether ``path`` is a JSON file, or a folder of JSON files and no Parquet export."""
    if path.is_file():
        return path.suffix.lower() in SUFFIXES
    if path.is_dir():
        if any((path / n).exists() or (path / f"{n}.parquet").exists() for n in TABLES):
            return False
        return any(p.is_file() and p.suffix.lower() in SUFFIXES for p in path.iterdir())
    return False


# -- from spans to the four tables --------------------------------------------------------

class _Run:
    def __init__(self, run_id: str, span: Optional[Span], trace_id: str):
        self.run_id, self.span, self.trace_id = run_id, span, trace_id
        self.parent_run_id: Optional[str] = None
        self.llm: List[Span] = []
        self.tools: List[Span] = []
        self.order = span.order if span else 0
        self.start: Optional[float] = span.start if span else None
        self.end: Optional[float] = span.end if span else None
        self.session_id: Optional[str] = None
        self.user_id: Optional[str] = None

    def widen(self, span: Span) -> None:
        if span.start is not None and (self.start is None or span.start < self.start):
            self.start, self.order = span.start, span.order
        if span.end is not None and (self.end is None or span.end > self.end):
            self.end = span.end


def _session_attr(a: Dict[str, Any]) -> Optional[str]:
    v = first_of(a, "session.id", "gen_ai.conversation.id")
    return str(v) if v is not None else None


def _user_attr(a: Dict[str, Any]) -> Optional[str]:
    v = first_of(a, "user.id", "enduser.id", "gen_ai.user.id")
    return str(v) if v is not None else None


def build_tables(spans: List[Span]) -> Tuple[Dict[str, List[Dict[str, Any]]], Dict[str, int]]:
    """The rows of the four tables, and the count of unmapped spans by ``name (kind)``."""
    by_id: Dict[Tuple[str, str], Span] = {}
    for s in spans:  # a span exported twice (two files, a retried export) counts once
        by_id.setdefault((s.trace_id, s.span_id), s)
    spans = list(by_id.values())
    roles = {id(s): role_of(s) for s in spans}
    unmapped: Dict[str, int] = defaultdict(int)

    def parent(s: Span) -> Optional[Span]:
        return by_id.get((s.trace_id, s.parent_id)) if s.parent_id else None

    def run_ancestor(s: Span) -> Optional[Span]:
        p, seen = parent(s), set()
        while p is not None and id(p) not in seen:
            seen.add(id(p))
            if _is_run(p):
                return p
            p = parent(p)
        return None

    def _is_run(s: Span) -> bool:
        r = roles[id(s)]
        return r == "agent" or (r == "chain" and run_ancestor(s) is None)

    # the session and user of a trace: the first span in it that names one
    trace_session: Dict[str, str] = {}
    trace_user: Dict[str, str] = {}
    for s in sorted(spans, key=lambda s: s.order):
        sid, uid = _session_attr(s.attrs), _user_attr(s.attrs)
        if sid and s.trace_id not in trace_session:
            trace_session[s.trace_id] = sid
        if uid and s.trace_id not in trace_user:
            trace_user[s.trace_id] = uid

    runs: Dict[Tuple[str, str], _Run] = {}
    orphan_runs: Dict[str, _Run] = {}
    for s in spans:
        if roles[id(s)] in ("agent", "chain") and _is_run(s):
            run_id = str(first_of(s.attrs, "agno.run.id") or s.span_id)
            runs[(s.trace_id, s.span_id)] = _Run(run_id, s, s.trace_id)
    for s in spans:
        role = roles[id(s)]
        if role not in ("llm", "tool"):
            if role is None:
                unmapped[f"{s.name or '(no name)'} ({s.kind})"] += 1
            continue
        anc = run_ancestor(s)
        if anc is not None:
            run = runs[(anc.trace_id, anc.span_id)]
        else:  # LLM and tool spans outside any run: one run per trace
            run = orphan_runs.get(s.trace_id)
            if run is None:
                root = s
                while parent(root) is not None:
                    root = parent(root)
                run = orphan_runs[s.trace_id] = _Run(root.span_id, None, s.trace_id)
            run.widen(s)
        (run.llm if role == "llm" else run.tools).append(s)
    for (trace_id, span_id), run in runs.items():
        anc = run_ancestor(run.span)
        if anc is not None:
            run.parent_run_id = runs[(anc.trace_id, anc.span_id)].run_id
    all_runs = list(runs.values()) + list(orphan_runs.values())
    for run in all_runs:
        a = run.span.attrs if run.span else {}
        first = run.llm[0].attrs if run.llm else {}
        run.session_id = _session_attr(a) or _session_attr(first) or trace_session.get(run.trace_id) or run.trace_id
        run.user_id = _user_attr(a) or trace_user.get(run.trace_id)
    return _rows(all_runs), dict(unmapped)


_TOKENS = ("input_tokens", "output_tokens", "total_tokens")


def _rows(all_runs: List["_Run"]) -> Dict[str, List[Dict[str, Any]]]:
    """The rows of the four tables, runs in order within each session."""
    sessions: Dict[str, Dict[str, Any]] = {}
    out: Dict[str, List[Dict[str, Any]]] = {"runs": [], "messages": [], "tool_calls": []}
    all_runs.sort(key=lambda r: (r.session_id, as_int((r.span.attrs if r.span else {}).get("agno.run.index")) or 0,
                                 r.order, r.run_id))
    index: Dict[str, int] = defaultdict(int)
    for run in all_runs:
        messages, llm_tokens = _run_messages(run, sorted(run.llm, key=lambda s: s.order))
        calls = _run_tool_calls(run, sorted(run.tools, key=lambda s: s.order), messages)
        names = {c.get("id"): c["function"]["name"] for m in messages for c in m.get("tool_calls") or [] if c.get("id")}
        for m in messages:  # a tool message names its tool, from the call it answers
            if m.get("role") == "tool" and not m.get("tool_name"):
                m["tool_name"] = names.get(m.get("tool_call_id"))
        row = _run_row(run, messages, calls, llm_tokens, index[run.session_id])
        index[run.session_id] += 1
        out["runs"].append(row)
        common = {"session_id": run.session_id, "run_id": run.run_id, "agent_id": row["agent_id"],
                  "team_id": row["team_id"], "user_id": run.user_id}
        run_model = {"model": row["model"], "model_provider": row["model_provider"]}  # as the SQL sources give it
        out["messages"] += [{**common, **run_model, **_message_row(i, m)} for i, m in enumerate(messages)]
        out["tool_calls"] += [{**common, **c} for c in calls]
        _add_to_session(sessions, run, row, llm_tokens)
    for s in sessions.values():
        s["session_type"] = s["session_type"] or "agent"
        # what to_otlp wrote from the store wins over what the spans add up to
        s["updated_at"] = s.pop("stored_updated_at", s["updated_at"])
        for k, v in zip(_TOKENS, s.pop("stored_tokens", ())):
            s[k] = v
    return {"sessions": list(sessions.values()), **out}


def _run_row(run: "_Run", messages: List[Dict[str, Any]], calls: List[Dict[str, Any]],
             llm_tokens: Tuple[Optional[int], ...], position: int) -> Dict[str, Any]:
    a = run.span.attrs if run.span else {}
    llm = sorted(run.llm, key=lambda s: s.order)
    team_id = first_of(a, "agno.team.id", "gen_ai.team.id")
    workflow_id = first_of(a, "agno.workflow.id")
    run_type = "team" if team_id else "workflow" if workflow_id else "agent"
    agent_id = None
    if run_type == "agent":
        agent_id = first_of(a, "agno.agent.id", "gen_ai.agent.id", "gen_ai.agent.name", "agent.name", "graph.node.name")
        if agent_id is None and run.span is None and llm:
            agent_id = first_of(llm[0].attrs, "gen_ai.agent.id", "gen_ai.agent.name")
    model = next((v for s in llm for v in [first_of(s.attrs, "llm.model_name", "gen_ai.response.model",
                                                    "gen_ai.request.model")] if v), None)
    provider = next((v for s in llm for v in [first_of(s.attrs, "llm.provider", "gen_ai.provider.name",
                                                       "gen_ai.system", "llm.system")] if v), None)
    tokens = token_counts(a)
    if all(t is None for t in tokens):  # the run's span may know its totals (to_otlp writes them)
        tokens = llm_tokens
    own = [m for m in messages if not m.get("from_history")]
    last_user = next((m for m in reversed(own) if m.get("role") == "user"), None)
    last_answer = next((m for m in reversed(own) if m.get("role") == "assistant" and m.get("content")), None)
    duration = run.span.duration if run.span is not None else (
        round(run.end - run.start, 6) if run.start is not None and run.end is not None else None)
    stored_index = as_int(a.get("agno.run.index"))
    return {
        "run_id": run.run_id, "session_id": run.session_id, "parent_run_id": run.parent_run_id,
        "run_index": stored_index if stored_index is not None else position, "run_type": run_type,
        "agent_id": as_text(agent_id), "team_id": as_text(team_id), "workflow_id": as_text(workflow_id),
        "user_id": run.user_id, "status": _status(run),
        "model": as_text(model or first_of(a, "gen_ai.request.model", "llm.model_name")),
        "model_provider": as_text(provider or first_of(a, "gen_ai.provider.name", "gen_ai.system", "llm.provider")),
        # an agent span's input.value is the run's input, unless it holds the messages (LLM-style)
        "input": as_text(a["input.value"]) if a.get("input.value") is not None and not _agno_input(a)
        else (last_user or {}).get("content"),
        "content": as_text(a["output.value"]) if a.get("output.value") is not None
        else (last_answer or {}).get("content"),
        "created_at": run.start, **dict(zip(_TOKENS, tokens)), "duration": duration,
        "time_to_first_token": first_of(a, "agno.metrics.time_to_first_token"),
        "n_messages": len(messages), "n_tool_calls": len(calls),
        "step_results": json_text(first_of(a, "agno.workflow.step_results")),
        "reasoning_content": as_text(first_of(a, "agno.run.reasoning_content")),
        "metadata": json_text(first_of(a, "agno.run.metadata")),
        "session_state": json_text(first_of(a, "agno.run.session_state")),
        **_media(first_of(a, "agno.run.media")),
    }


def _media(listing: Any) -> Dict[str, Any]:
    """The media columns from a ``media`` listing (``to_otlp`` writes it; other spans have none)."""
    text = json_text(listing)
    return {"media": text, **media_counts(text)}


def _message_row(i: int, m: Dict[str, Any]) -> Dict[str, Any]:
    return {"message_index": i, "message_id": as_text(m.get("id")), "role": m.get("role"),
            "content": as_text(m.get("content")), "tool_call_id": m.get("tool_call_id"),
            "tool_name": m.get("tool_name"), "tool_calls": json_text(m.get("tool_calls")),
            "from_history": m.get("from_history"), "created_at": m.get("created_at"),
            **{k: m.get(k) for k in _TOKENS}, "duration": m.get("duration"),
            "time_to_first_token": m.get("time_to_first_token"),
            "reasoning_content": as_text(m.get("reasoning_content")), **_media(m.get("media"))}


def _add_to_session(sessions: Dict[str, Dict[str, Any]], run: "_Run", row: Dict[str, Any],
                    llm_tokens: Tuple[Optional[int], ...]) -> None:
    a = run.span.attrs if run.span else {}
    s = sessions.get(run.session_id)
    if s is None:
        s = sessions[run.session_id] = {
            "session_id": run.session_id, "session_type": None, "agent_id": None, "team_id": None,
            "workflow_id": None, "user_id": run.user_id, "session_name": None, "created_at": run.start,
            "updated_at": run.end, "n_runs": 0, "input_tokens": None, "output_tokens": None,
            "total_tokens": None, "summary": None}
    if run.parent_run_id is None:
        s["n_runs"] += 1
        if s["session_type"] is None:  # the first top-level run says what the session is
            s["session_type"] = row["run_type"]
            s[f"{row['run_type']}_id"] = row[f"{row['run_type']}_id"]
    s["user_id"] = s["user_id"] or run.user_id
    s["session_name"] = s["session_name"] or first_of(a, "agno.session.name")
    s["summary"] = s["summary"] or first_of(a, "agno.session.summary")
    s["summary_topics"] = s.get("summary_topics") or json_text(first_of(a, "agno.session.summary_topics"))
    if a.get("agno.session.updated_at") is not None:
        s["stored_updated_at"] = float(a["agno.session.updated_at"])
    if any(a.get(f"agno.session.{k}") is not None for k in _TOKENS):
        s["stored_tokens"] = tuple(as_int(a.get(f"agno.session.{k}")) for k in _TOKENS)
    s["created_at"] = min((x for x in (s["created_at"], run.start) if x is not None), default=None)
    s["updated_at"] = max((x for x in (s["updated_at"], run.end) if x is not None), default=None)
    for k, v in zip(_TOKENS, llm_tokens):  # each model call once
        s[k] = add_counts(s[k], v)


def _agno_input(a: Dict[str, Any]) -> bool:
    doc = loads(a.get("input.value"))
    return isinstance(doc, dict) and isinstance(doc.get("messages"), list)


def _status(run: "_Run") -> str:
    if run.span is not None:
        if run.span.error:
            return "ERROR"
        status = run.span.attrs.get("agno.run.status")
        if status:
            return str(status).upper()
    return "ERROR" if any(s.error for s in run.llm + run.tools) else "COMPLETED"


def _run_messages(run: "_Run", llm: List[Span]) -> Tuple[List[Dict[str, Any]], Tuple[Optional[int], ...]]:
    """The run's messages: each LLM call's new inputs, then its outputs (with its tokens)."""
    messages: List[Dict[str, Any]] = []
    totals: List[Optional[int]] = [None, None, None]
    for span in llm:
        ins, outs = llm_messages(span)
        for m in ins:
            m.setdefault("created_at", span.start)
        if len(ins) >= len(messages) and all(same_message(a, b) for a, b in zip(messages, ins)):
            for old, new in zip(messages, ins):  # the later copy may know more (ids, history flags)
                for k, v in new.items():
                    if old.get(k) is None and v is not None:
                        old[k] = v
            messages += ins[len(messages):]
        else:
            messages += [m for m in ins if not any(same_message(m, x) for x in messages)]
        tokens = token_counts(span.attrs)
        totals = [add_counts(t, v) for t, v in zip(totals, tokens)]
        for m in outs:
            m.setdefault("created_at", span.end)
        if outs:
            outs[-1].update(zip(("input_tokens", "output_tokens", "total_tokens"), tokens))
            # a model call of no time at all is a writer that did not know it (to_otlp of a None)
            outs[-1]["duration"] = span.duration or None
            outs[-1]["time_to_first_token"] = first_of(span.attrs, "agno.metrics.time_to_first_token")
        messages += outs
    return messages, tuple(totals)


def _run_tool_calls(run: "_Run", tools: List[Span], messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Tool calls from tool spans; for a run without any, the calls its messages asked for and answered."""
    asked = [c for m in messages if m.get("role") == "assistant" for c in m.get("tool_calls") or []]
    claimed: set = set()
    out = []
    for span in tools:
        a = span.attrs
        name = first_of(a, "tool.name", "gen_ai.tool.name", "tool_call.function.name") or span.name
        args = first_of(a, "tool_call.function.arguments", "gen_ai.tool.call.arguments", "input.value", "tool.parameters")
        call_id = first_of(a, "tool_call.id", "gen_ai.tool.call.id")
        if call_id is None:  # the first call asked for with this name (and these arguments) not yet matched
            same = [c for c in asked if c.get("id") not in claimed and c["function"].get("name") == name]
            best = next((c for c in same if json_text(c["function"].get("arguments")) == json_text(args)), None)
            call_id = (best or (same[0] if same else {})).get("id")
        claimed.add(call_id)
        out.append({"tool_call_id": as_text(call_id), "tool_name": as_text(name), "tool_args": json_text(args),
                    "result": as_text(first_of(a, "output.value", "gen_ai.tool.call.result")),
                    "tool_call_error": span.error, "duration": span.duration, "created_at": span.start,
                    "child_run_id": as_text(a.get("agno.tool.child_run_id"))})
    if tools:
        return out
    own = [m for m in messages if not m.get("from_history")]
    asked = [c for m in own if m.get("role") == "assistant" for c in m.get("tool_calls") or []]
    answers = {m.get("tool_call_id"): m for m in own if m.get("role") == "tool" and m.get("tool_call_id")}
    for c in asked:
        reply = answers.get(c.get("id"))
        if reply is not None:
            out.append({"tool_call_id": c.get("id"), "tool_name": c["function"].get("name"),
                        "tool_args": json_text(c["function"].get("arguments")), "result": reply.get("content"),
                        "tool_call_error": None, "duration": None, "created_at": reply.get("created_at"),
                        "child_run_id": None})
    return out


def to_arrow(name: str, rows: Iterable[Dict[str, Any]]) -> pa.Table:
    """Rows of table ``name`` as Arrow, with the declared columns and types."""
    rows = list(rows)
    cols = {}
    for c in TABLES[name]:
        values = [r.get(c.name) for r in rows]
        if c.duckdb_type == "TIMESTAMPTZ":
            values = [None if v is None else int(float(v) * 1e6) for v in values]
            cols[c.name] = pa.array(values, pa.int64()).cast(_ARROW["TIMESTAMPTZ"])
        else:
            cols[c.name] = pa.array(values, _ARROW[c.duckdb_type])
    return pa.table(cols)


# -- the source ----------------------------------------------------------------------------

class OtlpSource:
    """Span files (a file, or a folder of ``.jsonl``/``.json`` files) read as sessions.

    A :class:`~agno_nb.analysis.protocol.Source`: the four session tables, built from the spans
    (Agno's other tables are not in span files: reading one gives it empty).
    """

    tables = tuple(TABLES)
    parsed = True
    results_resolved = False  # an OTLP file has no result store: offloaded envelopes stay, marked

    def __init__(self, path: Path):
        self.path = Path(path)
        self._key: Optional[Tuple[Any, ...]] = None
        self._tables: Dict[str, pa.Table] = {}
        self.unmapped: Dict[str, int] = {}
        self.problems: List[Problem] = []
        self._read()  # fail now on a file with no spans at all

    def describe(self) -> str:
        return f"OpenTelemetry traces {str(self.path)!r}"

    def __repr__(self) -> str:
        return self.describe()

    def _stamp(self) -> Tuple[Any, ...]:
        files = trace_files(self.path)
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)

    def _read(self) -> None:
        stamp = self._stamp()
        if stamp == self._key:
            return
        files = [Path(p) for p, _, _ in stamp]
        spans, problems = read_spans(files)
        if not spans and problems:
            p = problems[0]
            what = "a folder of trace files or a Parquet export" if self.path.is_dir() else "a trace file"
            raise TraceFileError(f"{str(self.path)!r} is not {what}: no span could be read ({p.where}: {p.error}"
                                 + (f"; and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ")"))
        rows, unmapped = build_tables(spans)
        self._tables = {name: to_arrow(name, rows[name]) for name in TABLES}
        self._key, self.unmapped, self.problems = stamp, unmapped, problems
        self._warn()

    def _warn(self) -> None:
        parts = []
        if self.unmapped:
            n = sum(self.unmapped.values())
            named = ", ".join(f"{k} ×{v}" for k, v in sorted(self.unmapped.items(), key=lambda kv: -kv[1])[:20])
            parts.append(f"{n} span(s) not mapped to sessions, runs, messages or tool calls: {named}")
        if self.problems:
            listed = "; ".join(f"{p.where}: {p.error}" for p in self.problems[:20])
            more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
            parts.append(f"skipped {len(self.problems)} unreadable line(s) or span(s): {listed}{more}")
        if parts:
            warnings.warn(f"{self.describe()}: " + ". ".join(parts), RuntimeWarning, stacklevel=_caller_level())

    def read(self, table: str, filters: Filters, columns: Optional[Sequence[str]] = None, *,
             con: Any = None) -> pa.Table:
        """The rows of ``table`` that pass ``filters``; one of Agno's other tables: empty."""
        if table not in self._tables and table not in TABLES:
            from .stored import empty

            out = empty(table)
        else:
            out = self.load(con, table, filters)
        return out.select(list(columns)) if columns is not None else out

    def version(self, extra_tables: Sequence[str] = ()) -> Any:
        """The files' paths, sizes and mtimes."""
        from .sql import FolderVersion

        return FolderVersion(self.path)

    def load(self, con: Any, name: str, f: Filters) -> pa.Table:
        self._read()
        return filter_arrow(self._tables, name, f)


def _caller_level() -> int:
    """The stack level of the first frame outside agno_nb: the warning points at the user's line
    (``connect(...)`` or ``ex.messages()``, whichever read the files)."""
    package = str(Path(__file__).resolve().parents[1])
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level
