"""``compare(source, session_ids=[...])``: 2–4 sessions side by side, turn by turn."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import ipywidgets as widgets
import pandas as pd

from . import html as h
from .base import StaticView
from .chart import bar_chart_svg
from .data import records
from .diff import (ADDED, REMOVED, Row, align, first_divergence, normalize, row_differs, sequence_diff,
                   trajectory_keys, inline_diff)

NO_PICK = "\x00none"  # a Dropdown showing None shows no label at all
METRIC_COLUMNS = ["session_id", "component", "turns", "runs", "input_tokens", "output_tokens", "total_tokens",
                  "latency", "tool_calls", "errors", "error_detail"]


class Compare(StaticView, widgets.VBox):
    """Sessions in columns, their turns (top-level runs) aligned by the user's input.

    :attr:`turns` holds the aligned rows (a run row per session, or None where a
    session lacks that turn); each run row carries its ``tool_trajectory``: the tool
    calls of the turn (member runs' included), in order, each with ``tool_name``,
    ``tool_args``, ``error`` and ``key`` (``name(args)``). :attr:`divergence` is the
    0-based index of the first row whose answers or tool calls differ (None if they never
    do), :attr:`metrics` one row per session: tokens (model calls of every run, member
    runs included), latency (seconds, summed over the turns), tool calls, errors (runs
    with status ERROR plus failed tool calls) and ``error_detail`` (which ones).

    One session is the baseline (``baseline``: an index or a session id; the first by
    default; the live widget has a picker): every other column is diffed against it, in
    words and in tool calls. :meth:`open_turn` opens a turn of a session in a replay.
    """

    def __init__(self, source: Any, session_ids: Sequence[str], *, chart: bool = True,
                 baseline: Union[int, str] = 0, **kwargs: Any):
        from ..analysis import connect

        super().__init__(**kwargs)
        ids = list(dict.fromkeys(session_ids))
        if not 2 <= len(ids) <= 4:
            raise ValueError(f"compare takes 2 to 4 distinct session ids; got {len(ids)}")
        self.session_ids = ids
        self.explorer = ex = connect(source)
        sessions = {s["session_id"]: s for s in records(ex.sessions(session_ids=ids))}
        missing = [sid for sid in ids if sid not in sessions]
        if missing:
            raise LookupError(f"no session(s) {missing} in {ex!r}")
        runs = ex.runs(session_ids=ids)
        tools = ex.tool_calls(session_ids=ids)
        self.labels = [_label(sessions[sid]) for sid in ids]
        self.metrics = session_metrics(ids, sessions, runs, tools)
        trajectories = tool_trajectories(runs, tools)
        turns_by_session = []
        for sid in ids:
            mine = runs[(runs["session_id"] == sid) & runs["parent_run_id"].isna()]
            turns = records(mine.sort_values("run_index", kind="stable"))
            for t in turns:
                t["tool_trajectory"] = trajectories.get(t["run_id"], [])
            turns_by_session.append(turns)
        self.turns: List[Row] = align(turns_by_session)
        self.divergence: Optional[int] = first_divergence(self.turns)
        self.baseline = self._baseline_index(baseline)
        self._chart = bar_chart_svg(self.metrics, self.labels) if chart else ""  # themed SVG, no PNG
        self.replay = None
        self.only_diffs = widgets.Checkbox(value=False, description="Only turns that differ", indent=False)
        self.baseline_picker = widgets.Dropdown(options=[(lab, i) for i, lab in enumerate(self.labels)],
                                                value=self.baseline, description="Baseline",
                                                layout=widgets.Layout(width="auto"))
        self.turn_picker = widgets.Dropdown(options=self._turn_options(), value=NO_PICK, description="Open",
                                            layout=widgets.Layout(width="auto", min_width="360px"))
        self.title = widgets.HTML(self.hide_static_css() + self._title_html())
        self.table = widgets.HTML(self._table_html())
        self.detail = widgets.VBox()
        self.only_diffs.observe(lambda _: self._redraw(), names="value")
        self.baseline_picker.observe(self._on_baseline, names="value")
        self.turn_picker.observe(self._on_turn, names="value")
        self.add_class("agno-compare")  # a hook for CSS and browser tests
        self.children = [self.title, widgets.HBox([self.baseline_picker, self.only_diffs, self.turn_picker],
                                                  layout=widgets.Layout(flex_flow="row wrap")),
                         self.table, widgets.HTML(self._metrics_html()), widgets.HTML(self._chart), self.detail]

    # -- from Python ----------------------------------------------------------------------------

    def _baseline_index(self, baseline: Union[int, str]) -> int:
        if isinstance(baseline, str):
            if baseline not in self.session_ids:
                raise LookupError(f"baseline {baseline!r} is not one of {self.session_ids}")
            return self.session_ids.index(baseline)
        if not 0 <= int(baseline) < len(self.session_ids):
            raise ValueError(f"baseline {baseline} is out of range: 0..{len(self.session_ids) - 1}")
        return int(baseline)

    def set_baseline(self, baseline: Union[int, str]) -> "Compare":
        """Diff every other column against this session (an index or a session id)."""
        self.baseline_picker.value = self._baseline_index(baseline)
        return self

    def open_turn(self, turn: int, session: Union[int, str] = 0, **kwargs: Any):
        """A :class:`~agno_nb.widgets.Replay` at turn ``turn`` (0-based) of a session, shown below."""
        from .replay import Replay

        s = self._baseline_index(session)
        run = self.turns[turn][s]
        if run is None:
            raise LookupError(f"{self.session_ids[s]!r} has no turn {turn + 1} (its column is empty there)")
        self.replay = Replay(self.explorer, self.session_ids[s], run_id=run["run_id"], **kwargs)
        self.detail.children = [self.replay]
        return self.replay

    def _on_baseline(self, change: Dict[str, Any]) -> None:
        self.baseline = int(change["new"])
        self._redraw()

    def _on_turn(self, change: Dict[str, Any]) -> None:
        if change["new"] not in (None, NO_PICK):
            self.open_turn(*change["new"])

    def _redraw(self) -> None:
        self.title.value = self.hide_static_css() + self._title_html()
        self.table.value = self._table_html()

    def _turn_options(self) -> List[Tuple[str, Any]]:
        out: List[Tuple[str, Any]] = [("(open a turn in a replay)", NO_PICK)]
        for i, row in enumerate(self.turns):
            for s, turn in enumerate(row):
                if turn is not None:
                    text = " ".join(str(turn.get("input") or "").split())[:50]
                    out.append((f"turn {i + 1} · {self.session_ids[s]} · {text}", (i, s)))
        return out

    # -- rendering ------------------------------------------------------------------------------

    def _title_html(self) -> str:
        if self.divergence is None:
            what = f"{len(self.turns)} turns, the answers and tool calls never differ"
        else:
            what = f"{len(self.turns)} turns, first divergence at turn {self.divergence + 1}"
        legend = (f'Baseline: <b>{h.esc(self.labels[self.baseline])}</b>. Every other column is compared with it: '
                  f'<mark style="{REMOVED}">words or tool calls it has that the column lacks</mark>, '
                  f'<mark style="{ADDED}">what the column has instead</mark>.')
        return (f'<div style="{h.FONT}{h.TEXT}"><b>Comparing {len(self.session_ids)} sessions</b> '
                f'{h.muted(h.esc("· " + what))}<div class="agno-legend" style="margin:2px 0">{legend}</div></div>')

    def _trajectory_html(self, turn: Dict[str, Any], ref: Optional[Dict[str, Any]]) -> str:
        mine = turn.get("tool_trajectory") or []
        if ref is None:
            items = [("same", t) for t in mine]
        else:
            theirs = ref.get("tool_trajectory") or []
            items = []
            for tag, i, j in sequence_diff(trajectory_keys(ref), trajectory_keys(turn)):
                items.append((tag, mine[j] if j >= 0 else theirs[i]))
        if not items:
            return h.muted("no tool calls")
        lines = []
        for tag, t in items:
            style = {"missing": REMOVED, "added": ADDED}.get(tag, "")
            sign = {"missing": "− ", "added": "+ "}.get(tag, "")
            err = " " + h.badge("error", h.STATUS_COLORS["ERROR"]) if t.get("error") else ""
            lines.append(f'<div style="{h.MONO}"><span style="{style}">{sign}→ {h.esc(t["key"])}</span>{err}</div>')
        return f'<div class="agno-trajectory" style="margin:2px 0">{"".join(lines)}</div>'

    def _cell(self, row: Row, s: int) -> str:
        turn = row[s]
        if turn is None:
            return h.note("(no such turn)")
        content = turn.get("content")
        ref = row[self.baseline] if s != self.baseline else None
        err = h.run_error(turn)
        if err:
            body = h.error_html(err[0], err[1])
        elif ref is not None and normalize(ref.get("content")) != normalize(content):
            body = f'<div style="white-space:pre-wrap;word-break:break-word">{inline_diff(ref.get("content"), content)}</div>'
        else:
            body = h.text_block(content)
        # the whole turn's tokens: a team turn's stored figure is its leader's alone (rollup)
        tokens = turn.get("cum_total_tokens", turn.get("total_tokens"))
        meta = h.muted(h.esc(f"{h.fmt_int(tokens)} tokens · {h.fmt_secs(turn.get('duration'))}"))
        status = str(turn.get("status") or "?")
        badge = h.status_badge(status) if status not in ("COMPLETED", "ERROR") else ""
        return f'{badge}{body}{self._trajectory_html(turn, ref)}{meta}'

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
                marker = "<br>" + h.badge("first divergence", h.STATUS_COLORS["ERROR"])
            elif differs:
                marker = "<br>" + h.badge("differs", h.STATUS_COLORS["PAUSED"])
            if len(inputs) > 1:
                marker += "<br>" + h.badge("inputs differ", h.GREY)
            if len(inputs) > 1:
                asked = "".join(f'<div>{h.muted(h.esc(self.labels[s]))}{h.text_block(c.get("input"))}</div>'
                                for s, c in enumerate(row) if c is not None)
            else:
                asked = h.text_block(first.get("input"))
            # at least a few words wide: a squeezed column broke words in the middle ("weath/er")
            cells = [f"{i + 1}{marker}", f'<div style="min-width:8em">{asked}</div>']
            cells += [self._cell(row, s) for s in range(len(self.session_ids))]
            rows.append(cells)
            styles.append(f"background:{h.TINT_ERROR}" if i == self.divergence else
                          (f"background:{h.TINT_WARN}" if differs else ""))
        if not rows:
            return h.note("No turns to show.")
        heads = [h.esc(c) for c in ("turn", "input")] + [
            h.esc(lab) + (" " + h.badge("baseline", h.STATUS_COLORS["RUNNING"]) if s == self.baseline else "")
            for s, lab in enumerate(self.labels)]
        return h.table_html(["turn", "input", *self.labels], rows, row_styles=styles, header_cells=heads)

    def _metrics_html(self) -> str:
        rows = [[h.esc(self.labels[i]), *(h.esc(h.fmt_int(r[c])) for c in ("turns", "runs", "input_tokens",
                                                                            "output_tokens", "total_tokens")),
                 f'<span style="white-space:nowrap">{h.esc(h.fmt_secs(r["latency"]))}</span>',
                 h.esc(h.fmt_int(r["tool_calls"])),
                 h.esc(h.fmt_int(r["errors"])) + (f'<div style="{h.MONO}font-size:11px">{h.esc(r["error_detail"])}</div>'
                                                  if r["error_detail"] else "")]
                for i, (_, r) in enumerate(self.metrics.iterrows())]
        return h.table_html(["session", "turns", "runs", "input tokens", "output tokens", "total tokens", "latency",
                             "tool calls", "errors"], rows, caption="Metrics per session")

    # -- outside a live kernel ------------------------------------------------------------------

    def _static_identity(self) -> str:
        return "|".join(self.session_ids)

    def __repr__(self) -> str:
        # the attribute's value (0-based, as in .turns), then the turn as the table numbers it
        div = "None" if self.divergence is None else f"{self.divergence} (turn {self.divergence + 1})"
        return f"Compare(session_ids={self.session_ids!r}, turns={len(self.turns)}, divergence={div})"

    def _repr_html_(self) -> str:
        return (f'<div class="agno-static" style="{h.FONT}{h.TEXT}">{self._title_html()}{self._table_html()}'
                f'{self._metrics_html()}{self._chart}</div>')


def tool_trajectories(runs: pd.DataFrame, tools: pd.DataFrame) -> Dict[str, List[Dict[str, Any]]]:
    """Per top-level run: its tool calls in order, a member run's calls right after the
    delegation that started it (``child_run_id``), then those of other nested runs."""
    by_run: Dict[str, List[Dict[str, Any]]] = {}
    for t in records(tools):
        by_run.setdefault(t["run_id"], []).append(t)
    kids: Dict[str, List[str]] = {}
    for r in records(runs.sort_values("run_index", kind="stable")):
        if h.present(r.get("parent_run_id")):
            kids.setdefault(r["parent_run_id"], []).append(r["run_id"])

    def walk(run_id: str, seen: set) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        seen.add(run_id)
        for t in by_run.get(run_id, []):
            out.append(_step(t))
            child = t.get("child_run_id")
            if h.present(child) and child not in seen:
                out += walk(child, seen)
        for child in kids.get(run_id, []):
            if child not in seen:
                out += walk(child, seen)
        return out

    tops = runs[runs["parent_run_id"].isna()]["run_id"]
    return {rid: walk(rid, set()) for rid in tops}


def _step(t: Dict[str, Any]) -> Dict[str, Any]:
    args = t.get("tool_args")
    try:
        parsed = json.loads(args) if isinstance(args, str) else args
    except ValueError:
        parsed = args
    if isinstance(parsed, dict):
        shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in parsed.items())
    else:
        shown = "" if not h.present(parsed) else str(parsed)
    return {"tool_name": t.get("tool_name"), "tool_args": parsed, "error": bool(t.get("tool_call_error")),
            "key": f"{t.get('tool_name') or '?'}({shown})"}


def _label(session: Dict[str, Any]) -> str:
    kind = session.get("session_type") or "agent"
    who = session.get(f"{kind}_id") if kind in ("agent", "team", "workflow") else None
    return f"{session['session_id']} ({who})" if h.present(who) else str(session["session_id"])


def session_metrics(ids: Sequence[str], sessions: Dict[str, Dict[str, Any]], runs: pd.DataFrame,
                    tools: pd.DataFrame) -> pd.DataFrame:
    """Tokens, latency, tool calls and errors per session (one row each, in ``ids`` order).

    Tokens count each model call once: the runs' own (``self_``) figures are added up
    (:mod:`agno_nb.analysis.rollup`), so a workflow's totals do not repeat its steps'.
    """
    out = []
    for sid in ids:
        r = runs[runs["session_id"] == sid]
        t = tools[tools["session_id"] == sid]
        top = r[r["parent_run_id"].isna()]
        s = sessions[sid]
        kind = s.get("session_type") or "agent"
        failed_runs = r[r["status"] == "ERROR"]
        failed_tools = t[t["tool_call_error"].fillna(False).astype(bool)]
        errors = len(failed_runs) + len(failed_tools)
        detail = [f"run {int(x.run_index) + 1 if h.present(x.run_index) else '?'}: "
                  f"{': '.join(h.split_error(x.content))}" for x in failed_runs.itertuples()]
        detail += [f"{x.tool_name}: {': '.join(h.split_error(x.result))}" for x in failed_tools.itertuples()]
        out.append({
            "session_id": sid, "component": s.get(f"{kind}_id"), "turns": len(top), "runs": len(r),
            **{k: int(r[f"self_{k}"].fillna(0).sum()) for k in ("input_tokens", "output_tokens", "total_tokens")},
            "latency": float(top["duration"].fillna(0).sum()), "tool_calls": len(t), "errors": errors,
            "error_detail": "; ".join(detail),
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
