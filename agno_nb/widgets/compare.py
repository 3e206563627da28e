"""``compare(source, session_ids=[...])``: 2–4 sessions side by side, turn by turn."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import ipywidgets as widgets
import pandas as pd

from . import html as h
from .base import StaticView
from .chart import bar_chart_png, img_tag
from .data import records
from .diff import Row, align, first_divergence, normalize, row_differs, word_diff

METRIC_COLUMNS = ["session_id", "component", "turns", "runs", "input_tokens", "output_tokens", "total_tokens",
                  "latency", "tool_calls", "errors"]


class Compare(StaticView, widgets.VBox):
    """Sessions in columns, their turns (top-level runs) aligned by the user's input.

    :attr:`turns` holds the aligned rows (a run row per session, or None where a
    session lacks that turn), :attr:`divergence` the 0-based index of the first row
    whose answers differ (None if they never do), :attr:`metrics` one row per session:
    tokens (model calls of every run, member runs included), latency (seconds, summed
    over the turns), tool calls and errors (runs with status ERROR plus failed tool calls).
    Differing words are highlighted against the first session.
    """

    def __init__(self, source: Any, session_ids: Sequence[str], *, chart: bool = True, **kwargs: Any):
        from ..analysis import connect

        super().__init__(**kwargs)
        ids = list(dict.fromkeys(session_ids))
        if not 2 <= len(ids) <= 4:
            raise ValueError(f"compare takes 2 to 4 distinct session ids; got {len(ids)}")
        self.session_ids = ids
        ex = connect(source)
        sessions = {s["session_id"]: s for s in records(ex.sessions(session_ids=ids))}
        missing = [sid for sid in ids if sid not in sessions]
        if missing:
            raise LookupError(f"no session(s) {missing} in {ex!r}")
        runs = ex.runs(session_ids=ids)
        tools = ex.tool_calls(session_ids=ids)
        self.labels = [_label(sessions[sid]) for sid in ids]
        self.metrics = session_metrics(ids, sessions, runs, tools)
        turns_by_session = []
        for sid in ids:
            mine = runs[(runs["session_id"] == sid) & runs["parent_run_id"].isna()]
            turns_by_session.append(records(mine.sort_values("run_index", kind="stable")))
        self.turns: List[Row] = align(turns_by_session)
        self.divergence: Optional[int] = first_divergence(self.turns)
        short = [sid if len(sid) <= 16 else sid[:15] + "…" for sid in ids]
        self._chart = img_tag(bar_chart_png(self.metrics, short)) if chart else ""
        self.only_diffs = widgets.Checkbox(value=False, description="Only turns that differ", indent=False)
        self.table = widgets.HTML(self._table_html())
        self.only_diffs.observe(lambda _: setattr(self.table, "value", self._table_html()), names="value")
        self.add_class("agno-compare")  # a hook for CSS and browser tests
        self.children = [widgets.HTML(self._title_html()), self.only_diffs, self.table,
                         widgets.HTML(self._metrics_html()), widgets.HTML(self._chart)]

    # -- rendering ------------------------------------------------------------------------------

    def _title_html(self) -> str:
        if self.divergence is None:
            what = f"{len(self.turns)} turns, the answers never differ"
        else:
            what = f"{len(self.turns)} turns, first divergence at turn {self.divergence + 1}"
        return (f'<div style="{h.FONT}{h.TEXT}"><b>Comparing {len(self.session_ids)} sessions</b> '
                f'{h.muted(h.esc("· " + what))}</div>')

    def _cell(self, row: Row, s: int) -> str:
        turn = row[s]
        if turn is None:
            return h.note("(no such turn)")
        content = turn.get("content")
        ref = next((c for c in row if c is not None and c is not turn), None) if s == 0 else row[0]
        if ref is not None and normalize(ref.get("content")) != normalize(content):
            body = word_diff(ref.get("content"), content)[1] if s else word_diff(content, ref.get("content"))[0]
        else:
            body = h.esc(content)
        status = str(turn.get("status") or "?")
        meta = h.muted(h.esc(f"{h.fmt_int(turn.get('total_tokens'))} tokens · {h.fmt_secs(turn.get('duration'))} · "
                             f"{h.plural(turn.get('n_tool_calls'), 'tool call')}"))
        badge = h.badge(status, h.STATUS_COLORS.get(status, "#6b7280")) if status != "COMPLETED" else ""
        return f'<div style="white-space:pre-wrap;word-break:break-word">{badge}{body}</div>{meta}'

    def _table_html(self) -> str:
        rows, styles = [], []
        for i, row in enumerate(self.turns):
            differs = row_differs(row)
            if self.only_diffs.value and not differs:
                continue
            inputs = {normalize(c.get("input")) for c in row if c is not None}
            first = next(c for c in row if c is not None)
            marker = ""
            if i == self.divergence:
                marker = "<br>" + h.badge("first divergence", "#dc2626")
            elif differs:
                marker = "<br>" + h.badge("differs", "#d97706")
            if len(inputs) > 1:
                marker += "<br>" + h.badge("inputs differ", "#6b7280")
            if len(inputs) > 1:
                asked = "".join(f'<div>{h.muted(h.esc(self.labels[s]))}{h.text_block(c.get("input"))}</div>'
                                for s, c in enumerate(row) if c is not None)
            else:
                asked = h.text_block(first.get("input"))
            cells = [f"{i + 1}{marker}", asked]
            cells += [self._cell(row, s) for s in range(len(self.session_ids))]
            rows.append(cells)
            styles.append("background:#fef2f2" if i == self.divergence else ("background:#fffbeb" if differs else ""))
        if not rows:
            return h.note("No turns to show.")
        return h.table_html(["turn", "input", *self.labels], rows, row_styles=styles)

    def _metrics_html(self) -> str:
        rows = [[h.esc(self.labels[i]), *(h.esc(h.fmt_int(r[c])) for c in ("turns", "runs", "input_tokens",
                                                                            "output_tokens", "total_tokens")),
                 h.esc(h.fmt_secs(r["latency"])), h.esc(h.fmt_int(r["tool_calls"])), h.esc(h.fmt_int(r["errors"]))]
                for i, (_, r) in enumerate(self.metrics.iterrows())]
        return h.table_html(["session", "turns", "runs", "input tokens", "output tokens", "total tokens", "latency",
                             "tool calls", "errors"], rows, caption="Metrics per session")

    # -- outside a live kernel ------------------------------------------------------------------

    def __repr__(self) -> str:
        div = "none" if self.divergence is None else f"turn {self.divergence + 1}"
        return f"Compare(session_ids={self.session_ids!r}, turns={len(self.turns)}, divergence={div})"

    def _repr_html_(self) -> str:
        return (f'<div style="{h.FONT}{h.TEXT}">{self._title_html()}{self._table_html()}{self._metrics_html()}'
                f'{self._chart}</div>')


def _label(session: Dict[str, Any]) -> str:
    kind = session.get("session_type") or "agent"
    who = session.get(f"{kind}_id") if kind in ("agent", "team", "workflow") else None
    return f"{session['session_id']} ({who})" if h.present(who) else str(session["session_id"])


def session_metrics(ids: Sequence[str], sessions: Dict[str, Dict[str, Any]], runs: pd.DataFrame,
                    tools: pd.DataFrame) -> pd.DataFrame:
    """Tokens, latency, tool calls and errors per session (one row each, in ``ids`` order).

    Tokens count each model call once: a workflow run's totals repeat its step runs', so
    workflow runs are left out of the token sums.
    """
    out = []
    for sid in ids:
        r = runs[runs["session_id"] == sid]
        t = tools[tools["session_id"] == sid]
        calls = r[r["run_type"] != "workflow"]
        top = r[r["parent_run_id"].isna()]
        s = sessions[sid]
        kind = s.get("session_type") or "agent"
        errors = int((r["status"] == "ERROR").sum()) + int(t["tool_call_error"].fillna(False).astype(bool).sum())
        out.append({
            "session_id": sid, "component": s.get(f"{kind}_id"), "turns": len(top), "runs": len(r),
            "input_tokens": int(calls["input_tokens"].fillna(0).sum()),
            "output_tokens": int(calls["output_tokens"].fillna(0).sum()),
            "total_tokens": int(calls["total_tokens"].fillna(0).sum()),
            "latency": float(top["duration"].fillna(0).sum()), "tool_calls": len(t), "errors": errors,
        })
    return pd.DataFrame(out, columns=METRIC_COLUMNS)


def compare(source: Any, *ids: str, session_ids: Optional[Sequence[str]] = None, **kwargs: Any) -> Compare:
    """A :class:`Compare` widget over 2–4 sessions of ``source`` (anything ``connect`` takes).

    ``compare(ex, "s1", "s2")`` or ``compare(ex, session_ids=["s1", "s2"])``.
    """
    if ids and session_ids is not None:
        raise TypeError("compare(): give the session ids either positionally or as session_ids=, not both")
    if len(ids) == 1 and not isinstance(ids[0], str):  # compare(ex, ["s1", "s2"])
        ids = tuple(ids[0])
    if isinstance(session_ids, str):
        session_ids = [session_ids]
    chosen = list(ids) if ids else list(session_ids or [])
    if not chosen:
        raise TypeError('compare() needs 2 to 4 session ids: compare(ex, "s1", "s2")')
    return Compare(source, chosen, **kwargs)
