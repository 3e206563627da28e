"""What Agno 3.1 stores about a session besides its runs: approvals, compactions, spans.

Read once per replay, for the one session shown (``session_ids=[...]`` is pushed down),
and only the columns the views use. A database without these tables costs one table
lookup each (the reader answers "none" without a query), so a replay of a plain database
is no slower. Rows become plain dicts once; the views only index them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .data import records
from .html import present, timestamp

APPROVAL_COLUMNS = ["approval_id", "run_id", "decision", "approval_type", "tool_name", "tool_args", "requested_at",
                    "resolved_at", "resolved_by", "expires_at", "requirements", "time_to_decision"]
COMPACTION_COLUMNS = ["compaction_id", "run_id", "first_kept_message_id", "summary", "messages_compacted",
                      "tokens_before", "tokens_after", "created_at"]
SPAN_COLUMNS = ["span_id", "trace_id", "parent_span_id", "name", "span_kind", "status", "start_time", "end_time",
                "duration_ms", "model", "input_tokens", "output_tokens", "total_tokens", "tool_name", "run_id",
                "attributes"]


@dataclass
class SessionExtras:
    """A session's approvals, compaction folds and spans, indexed for the replay."""

    approvals: List[Dict[str, Any]] = field(default_factory=list)
    compactions: List[Dict[str, Any]] = field(default_factory=list)
    spans: List[Dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._spans_by_run: Dict[str, List[Dict[str, Any]]] = {}
        for s in sorted(self.spans, key=lambda s: (timestamp(s.get("start_time")) or 0.0)):
            if present(s.get("run_id")):
                self._spans_by_run.setdefault(s["run_id"], []).append(s)
        self._llm_cache: Dict[str, List[Tuple[Dict[str, Any], List[Dict[str, Any]], List[Dict[str, Any]]]]] = {}

    def spans_of_run(self, run_id: str) -> List[Dict[str, Any]]:
        """The run's spans (every trace with its run_id: a continued run has two), by start time."""
        return self._spans_by_run.get(run_id, [])

    def approvals_of_run(self, run_id: str) -> List[Dict[str, Any]]:
        return [a for a in self.approvals if a.get("run_id") == run_id]

    def compactions_of_run(self, run_id: str) -> List[Dict[str, Any]]:
        """The folds made during this run (Agno records the run that compacted)."""
        return [c for c in self.compactions if c.get("run_id") == run_id]

    def compactions_before(self, message_id: Any) -> List[Dict[str, Any]]:
        """The folds whose first kept message is ``message_id``: everything before it was summarised."""
        if not present(message_id):
            return []
        return [c for c in self.compactions if c.get("first_kept_message_id") == message_id]

    def model_calls(self, run_id: str) -> List[Tuple[Dict[str, Any], List[Dict[str, Any]], List[Dict[str, Any]]]]:
        """``(span, input messages, output messages)`` of each LLM span of the run, by start time.

        The messages are the span's own record of what was sent and returned (OpenInference
        ``llm.input_messages.N...`` and the other conventions :mod:`agno_nb.analysis.otlp_messages`
        reads); parsed once per run, when first asked for.
        """
        if run_id not in self._llm_cache:
            from ..analysis.otlp_messages import llm_messages

            out = []
            for s in self.spans_of_run(run_id):
                if str(s.get("span_kind") or "").upper() != "LLM":
                    continue
                ins, outs = llm_messages(as_span(s))
                out.append((s, ins, outs))
            self._llm_cache[run_id] = out
        return self._llm_cache[run_id]

    def model_call_for(self, run_id: str, answer: Mapping[str, Any]):
        """``(position, count, span, input messages)`` of the model call that wrote ``answer`` (an
        assistant message of the run), or None when no span's output is that message."""
        calls = self.model_calls(run_id)
        for n, (span, ins, outs) in enumerate(calls):
            if any(same_answer(o, answer) for o in outs):
                return n, len(calls), span, ins
        return None


def same_answer(out: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Whether a span's output message is the stored assistant message: the same tool-call
    ids when it called tools, else the same text."""
    from .html import tool_calls_of

    ids = [c.get("id") for c in tool_calls_of(stored)]
    if ids and any(present(i) for i in ids):
        return [c.get("id") for c in (out.get("tool_calls") or [])] == ids
    text = stored.get("content")
    return present(text) and text != "" and out.get("content") == text


def as_span(row: Mapping[str, Any]):
    """A ``spans()`` row as the :class:`~agno_nb.analysis.otlp_spans.Span` the message readers take."""
    from ..analysis.otlp_spans import Span

    try:
        attrs = json.loads(row.get("attributes") or "{}")
    except (TypeError, ValueError):  # malformed attributes: kept raw by the reader, no messages here
        attrs = {}
    return Span(trace_id=str(row.get("trace_id") or ""), span_id=str(row.get("span_id") or ""),
                parent_id=row.get("parent_span_id"), name=str(row.get("name") or ""), kind="INTERNAL",
                start=timestamp(row.get("start_time")), end=timestamp(row.get("end_time")),
                error=str(row.get("status") or "").upper() == "ERROR", attrs=attrs if isinstance(attrs, dict) else {})


def approval_call_id(approval: Mapping[str, Any]) -> Optional[str]:
    """The tool call an approval paused (from its stored requirements), or None (an audit record)."""
    raw = approval.get("requirements")
    try:
        reqs = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    for r in reqs if isinstance(reqs, list) else []:
        te = r.get("tool_execution") if isinstance(r, dict) else None
        if isinstance(te, dict) and present(te.get("tool_call_id")):
            return str(te["tool_call_id"])
    return None


def load_extras(ex: Any, session_id: str) -> SessionExtras:
    """Read one session's approvals, compactions and spans (one read each, of the tables that exist)."""
    ids = [session_id]
    have = stored_tables_present(ex, ("approvals", "compactions", "spans"))
    return SessionExtras(approvals=_read(ex, "approvals", ids, APPROVAL_COLUMNS, have),
                         compactions=_read(ex, "compactions", ids, COMPACTION_COLUMNS, have),
                         spans=_read(ex, "spans", ids, SPAN_COLUMNS, have))


def stored_tables_present(ex: Any, names: Tuple[str, ...]) -> Optional[set]:
    """Which of Agno's tables ``names`` a SQL database holds, from one look at its table list
    (reading an absent table still costs a typed empty result per table); None when the source
    is not a SQL database (a Parquet export answers for itself, cheaply)."""
    from ..analysis.source import SqlSource

    source = getattr(ex, "source", None)
    tables = getattr(ex, "stored_tables", None)
    if not isinstance(source, SqlSource) or not isinstance(tables, Mapping):
        return None
    import sqlalchemy as sa

    with source.read_connection() as conn:
        there = set(sa.inspect(conn).get_table_names(schema=source.db_schema))
    return {n for n in names if tables.get(n) in there}


def _read(ex: Any, name: str, ids: List[str], columns: List[str], have: Optional[set]) -> List[Dict[str, Any]]:
    if not hasattr(ex, "stored") or (have is not None and name not in have):
        return []
    try:
        return records(ex.stored(name, session_ids=ids, columns=columns))
    except (ValueError, KeyError):  # a Parquet export written before these tables had these columns
        return []


def pending_sessions(ex: Any) -> Dict[str, int]:
    """Session id -> how many of its approvals await a decision (Agno's ``pending``)."""
    have = stored_tables_present(ex, ("approvals",))
    if have is not None and "approvals" not in have:
        return {}
    try:
        rows = ex.stored("approvals", columns=["session_id", "decision"])
    except (ValueError, KeyError, AttributeError):
        return {}
    if rows.empty:
        return {}
    pending = rows[rows["decision"].astype(str).str.lower() == "pending"]
    return {str(k): int(v) for k, v in pending.groupby("session_id").size().items()}
