"""HTML for approvals, compaction folds and span waterfalls (see :mod:`agno_nb.widgets.extras`).

The same rules as :mod:`agno_nb.widgets.html`: every stored value is escaped, styles are
inline and take the notebook theme's colours, collapsed parts use ``<details>`` (no script),
so the static copy of a notebook shows them too.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from . import html as h

DECISION_COLORS = {"approved": h.STATUS_COLORS["COMPLETED"], "rejected": h.STATUS_COLORS["ERROR"],
                   "pending": h.STATUS_COLORS["PAUSED"], "expired": h.GREY, "cancelled": h.GREY}
SPAN_COLORS = {"LLM": "#1d4ed8", "TOOL": "#d97706"}
# agent, team, workflow and other spans: a slate grey that stands out on light and dark tracks
SPAN_OTHER = "#64748b"
TRACK_PX = 320


def extras_line_html(approvals: Sequence[Mapping[str, Any]], compactions: Sequence[Mapping[str, Any]],
                     spans: Sequence[Mapping[str, Any]]) -> str:
    """One line under the session header: what else Agno stored about it ("" when nothing);
    approvals awaiting a decision get a badge, so a paused session says so at the top."""
    pending = sum(str(a.get("decision") or "").lower() == "pending" for a in approvals)
    bits = []
    if approvals:
        bits.append(h.plural(len(approvals), "approval"))
    if compactions:
        bits.append(h.plural(len(compactions), "compaction fold"))
    if spans:
        bits.append(h.plural(len(spans), "span") + " (waterfalls under the runs)")
    if not bits:
        return ""
    badge = h.badge(f"{pending} awaiting approval", DECISION_COLORS["pending"]) if pending else ""
    return (f'<div class="agno-extras-line" style="{h.FONT}{h.TEXT}margin:2px 0">{badge}'
            f'{h.muted(h.esc("Also stored: " + " · ".join(bits)))}</div>')


# -- approvals ------------------------------------------------------------------------------

def approval_html(a: Mapping[str, Any]) -> str:
    """One approval: the decision, who made it and when, how long it took; a pending one says so."""
    decision = str(a.get("decision") or "?").lower()
    pending = decision == "pending"
    label = "awaiting approval" if pending else decision
    kind = a.get("approval_type")
    what = f"{a.get('tool_name') or 'tool'}({_args(a.get('tool_args'))})"
    bits = [f"requested {h.fmt_time(a.get('requested_at'))}" if h.present(a.get("requested_at")) else "requested –"]
    if pending:
        bits.append("no decision stored yet: the run is paused here")
        if h.present(a.get("expires_at")):
            bits.append(f"expires {h.fmt_time(a.get('expires_at'))}")
    else:
        who = a.get("resolved_by")
        bits.append(f"{decision} by {who if h.present(who) else '(not recorded)'}"
                    + (f" at {h.fmt_time(a.get('resolved_at'))}" if h.present(a.get("resolved_at")) else ""))
        ttd = a.get("time_to_decision")
        if h.present(ttd):
            # Agno stores these times to the second: 0 means "within the same second"
            bits.append("time to decision under 1 s (times are stored to the second)" if float(ttd) < 1
                        else f"time to decision {h.fmt_secs(ttd)}")
    accent = DECISION_COLORS.get(decision, h.GREY)
    kind_badge = h.badge(f"{kind} approval", h.GREY) if h.present(kind) else ""
    cls = "agno-approval agno-approval-pending" if pending else "agno-approval"
    return (f'<div class="{cls}" style="{h.FONT}{h.TEXT}background:{h.TINT_WARN if pending else h.PANEL};'
            f'border:1px solid {h.BORDER};border-left:4px solid {accent};border-radius:4px;margin:4px 0 4px 8px;'
            f'padding:4px 8px"><div>{h.badge(label, accent)}{kind_badge}<b style="{h.MONO}">{h.esc(what)}</b></div>'
            f'<div>{h.muted(h.esc(" · ".join(bits)))}</div></div>')


def _args(raw: Any, limit: int = 80) -> str:
    text = "" if not h.present(raw) else str(raw).strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- compaction -----------------------------------------------------------------------------

def compaction_html(c: Mapping[str, Any], where: str = "") -> str:
    """A compaction fold: messages compacted, tokens before → after, the summary collapsed.

    ``where`` says where the kept messages start (the replay knows the run and message)."""
    bits = [h.plural(c.get("messages_compacted"), "message") + " compacted"
            if h.present(c.get("messages_compacted")) else "messages compacted: not recorded"]
    if h.present(c.get("tokens_before")) or h.present(c.get("tokens_after")):
        bits.append(f"tokens {h.fmt_int(c.get('tokens_before'))} → {h.fmt_int(c.get('tokens_after'))}")
    if where:
        bits.append(where)
    if h.present(c.get("created_at")):
        bits.append(h.fmt_time(c.get("created_at")))
    summary = c.get("summary")
    folded = (f'<details class="agno-compaction-summary" style="margin:2px 0"><summary style="cursor:pointer;'
              f'color:{h.FG2}">the summary the model sees instead ({len(str(summary)):,} characters)</summary>'
              f'{h.text_block(summary, json_pretty=False, preview=0)}</details>') if h.present(summary) else ""
    return (f'<div class="agno-compaction" style="{h.FONT}{h.TEXT}border:1px dashed {h.BORDER};'
            f'border-left:4px solid #6d28d9;border-radius:4px;margin:4px 0;padding:4px 8px">'
            f'<div>{h.badge("compaction", "#6d28d9")}{h.muted(h.esc(" · ".join(bits)))}</div>{folded}</div>')


def fold_marker_html(c: Mapping[str, Any], made_in: str = "") -> str:
    """A line before the first message a compaction kept: the messages above it were summarised
    (``made_in`` names the run that compacted, later than this message)."""
    n = c.get("messages_compacted")
    what = h.plural(n, "message") if h.present(n) else "the messages"
    when = f" (made in {made_in})" if made_in else ""
    text = (f"compaction{when}: {what} above this one were replaced by a summary "
            f"(tokens {h.fmt_int(c.get('tokens_before'))} → {h.fmt_int(c.get('tokens_after'))}); "
            "model calls after it saw the summary, then the messages from here on")
    return (f'<div class="agno-fold" style="{h.FONT}color:{h.FG2};border-top:2px dashed #6d28d9;margin:6px 0 2px;'
            f'padding-top:2px;font-size:11px">{h.esc(text)}</div>')


# -- spans ----------------------------------------------------------------------------------

def span_tree(spans: Sequence[Mapping[str, Any]]) -> List[tuple]:
    """``(span, depth)`` depth first, children by start time; a span whose parent is not among
    ``spans`` is a root (each trace of a continued run has its own)."""
    ids = {s.get("span_id") for s in spans}
    kids: Dict[Any, List[Mapping[str, Any]]] = {}
    roots = []
    for s in sorted(spans, key=lambda s: h.timestamp(s.get("start_time")) or 0.0):
        parent = s.get("parent_span_id")
        (kids.setdefault(parent, []) if h.present(parent) and parent in ids else roots).append(s)
    out: List[tuple] = []

    def walk(s: Mapping[str, Any], depth: int, seen: frozenset) -> None:
        out.append((s, depth))
        for k in kids.get(s.get("span_id"), []):
            if k.get("span_id") not in seen:  # a parent cycle in bad data must not recurse forever
                walk(k, depth + 1, seen | {k.get("span_id")})

    for r in roots:
        walk(r, 0, frozenset({r.get("span_id")}))
    return out


def _span_label(s: Mapping[str, Any]) -> str:
    kind = str(s.get("span_kind") or "").upper()
    if kind == "TOOL" and h.present(s.get("tool_name")):
        return f"tool {s['tool_name']}"
    if kind == "LLM":
        model = s.get("model")
        return f"model call {model}" if h.present(model) else "model call"
    return str(s.get("name") or kind.lower() or "span")


def waterfall_html(spans: Sequence[Mapping[str, Any]], *, open_limit: int = 16) -> str:
    """The run's spans as a waterfall: one row per span, nested by parent, a bar from its start
    offset as long as it took; model calls show their tokens. Empty without spans."""
    if not spans:
        return ""
    rows = span_tree(spans)
    starts = [h.timestamp(s.get("start_time")) for s, _ in rows]
    ends = [h.timestamp(s.get("end_time")) for s, _ in rows]
    base = min((t for t in starts if t is not None), default=None)
    last = max((t for t in ends if t is not None), default=base)
    total = (last - base) if base is not None and last is not None else 0.0
    n_llm = sum(str(s.get("span_kind") or "").upper() == "LLM" for s, _ in rows)
    n_tool = sum(str(s.get("span_kind") or "").upper() == "TOOL" for s, _ in rows)
    n_traces = len({s.get("trace_id") for s, _ in rows})
    lines = []
    for (s, depth), start in zip(rows, starts):
        kind = str(s.get("span_kind") or "").upper()
        color = SPAN_COLORS.get(kind, SPAN_OTHER)
        dur_ms = s.get("duration_ms")
        secs = float(dur_ms) / 1000 if h.present(dur_ms) else None
        bar = ""
        if total > 0 and start is not None and secs is not None:
            left = 100 * (start - base) / total
            width = max(0.4, 100 * secs / total)
            bar = (f'<span style="position:absolute;top:3px;height:10px;left:{left:.2f}%;width:{min(width, 100 - left):.2f}%;'
                   f'min-width:2px;background:{color};border-radius:2px"></span>')
        elif secs is not None:
            bar = f'<span style="position:absolute;top:3px;height:10px;left:0;width:2px;background:{color}"></span>'
        # spans store whole milliseconds: 0 is "under 1 ms", not a measured 0 µs
        facts = ["< 1 ms" if secs == 0 else h.fmt_secs(secs)]
        if kind == "LLM" and (h.present(s.get("input_tokens")) or h.present(s.get("total_tokens"))):
            facts.append(f"{h.fmt_int(s.get('input_tokens'))} in · {h.fmt_int(s.get('output_tokens'))} out")
        if str(s.get("status") or "").upper() == "ERROR":
            facts.append("error")
        lines.append(
            f'<div class="agno-span" data-kind="{h.esc(kind.lower())}" style="display:flex;align-items:center;'
            f'gap:6px;white-space:nowrap">'
            f'<span style="{h.MONO}display:inline-block;box-sizing:border-box;width:16em;flex:0 0 16em;overflow:hidden;text-overflow:ellipsis;'
            f'padding-left:{depth}em" title="{h.esc(s.get("name"))}">{h.esc(_span_label(s))}</span>'
            f'<span style="position:relative;display:inline-block;flex:0 0 {TRACK_PX}px;height:16px;'
            f'background:{h.BG};border:1px solid {h.BORDER};border-radius:2px">{bar}</span>'
            f'{h.muted(h.esc(" · ".join(facts)))}</div>')
    head = (f"Trace: {h.plural(n_llm, 'model call')}, {h.plural(n_tool, 'tool call')}, {h.plural(len(rows), 'span')}"
            + (f" in {n_traces} traces (the run was continued)" if n_traces > 1 else "")
            + (f" · {h.fmt_secs(total)} from first start to last end" if total > 0 else ""))
    opened = " open" if len(rows) <= open_limit else ""
    return (f'<details class="agno-waterfall"{opened} style="{h.FONT}{h.TEXT}margin:4px 0">'
            f'<summary style="cursor:pointer;font-weight:600">{h.esc(head)}</summary>'
            f'<div style="overflow-x:auto;padding:2px 0">{"".join(lines)}</div></details>')


def exact_context_note(position: int, count: int, n_messages: int, span: Mapping[str, Any],
                       counts: Optional[Mapping[str, int]] = None) -> str:
    """What the exact context view says: which model call, how many messages it was sent."""
    by_role = ", ".join(f"{n} {r}" for r, n in (counts or {}).items())
    took = f", took {h.fmt_secs(float(span['duration_ms']) / 1000)}" if h.present(span.get("duration_ms")) else ""
    return (f"Context the model saw, from the trace (exact): model call {position + 1} of {count} in this run"
            f"{took}; it was sent {h.plural(n_messages, 'message')}" + (f" ({by_role})" if by_role else ""))
