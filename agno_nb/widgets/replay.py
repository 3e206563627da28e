"""``replay(source, session_id)``: step through a session one message at a time."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Set, Tuple, Union

import ipywidgets as widgets

from . import html as h
from .base import StaticView
from . import html_extras as hx
from .data import RunNode, SessionData, load_session, records
from .extras import SessionExtras, approval_call_id, load_extras
from .keys import HINT_CSS, KEY_HELP, KEY_LIST, NO_KEYS, key_widget_class
from .tree import run_tree_html

NBSP = "\u00a0"
_DETAILS = '<details class="agno-more"'
_KEYED = re.compile(r'data-agno-key="([^"]+)"')


def keyed(markup: str, prefix: str) -> str:
    """Each collapsed text ("show all") in ``markup`` gets a stable key: ``prefix.n``."""
    if _DETAILS not in markup:
        return markup
    parts = markup.split(_DETAILS)
    return parts[0] + "".join(f'{_DETAILS} data-agno-key="{prefix}.{n}"{rest}' for n, rest in enumerate(parts[1:]))


def session_header_html(data: SessionData) -> str:
    """Who, when and how much: one line about the session."""
    s = data.session or {}
    kind = s.get("session_type") or "?"
    who = s.get(f"{kind}_id") if kind in ("agent", "team", "workflow") else None
    bits = [f"{kind} {who or ''}".strip(), f"user {s.get('user_id') or '–'}", h.plural(len(data.roots), "turn"),
            h.plural(len(data.runs), "run"), f"tokens {h.fmt_int(s.get('total_tokens'))}"]
    runs_total = s.get("runs_total_tokens")
    if h.present(runs_total) and (not h.present(s.get("total_tokens")) or int(runs_total) != int(s["total_tokens"])):
        # Agno keeps its session total itself, run by run, and never recomputes it: say both
        bits[-1] += f" (Agno's session total; its runs add up to {h.fmt_int(runs_total)})"
    if h.present(s.get("created_at")):
        bits.append(h.fmt_time(s.get("created_at")))
    failed = [n for n in data.runs if h.run_error(n.run)]
    name = s.get("session_name")
    title = f"Session {data.session_id}" + (f" — {name}" if h.present(name) else "")
    warn = (" " + h.badge(f"{h.plural(len(failed), 'failed run')}", h.STATUS_COLORS["ERROR"])) if failed else ""
    return (f'<div style="{h.FONT}{h.TEXT}margin:2px 0"><b>{h.esc(title)}</b>{warn}<br>'
            f'{h.muted(h.esc(" · ".join(bits)))}</div>' + h.summary_html(s.get("summary"), s.get("summary_topics")))


def failures_html(data: SessionData, limit: int = 10) -> str:
    """The error of every failed run (type and text), where it failed."""
    failed = [(rp, n) for rp, n in enumerate(data.runs) if h.run_error(n.run)]
    parts = []
    for rp, node in failed[:limit]:
        kind, text = h.run_error(node.run)
        parts.append(h.error_html(kind, text, f"run {rp + 1}/{len(data.runs)}: {h.run_label(node.run)} · "
                                              f"input: {str(node.run.get('input') or '')[:80]}"))
    if len(failed) > limit:
        parts.append(h.note(f"… and {len(failed) - limit} more failed run(s)"))
    return "".join(parts)


def context_summary(before: List[Dict[str, Any]], run_messages: List[Dict[str, Any]]) -> str:
    """What the context view can truthfully say about the messages the model saw.

    Agno does not store the history it sends again (copies marked ``from_history``) unless
    asked to: where a run holds none, the view is reconstructed from the run's own stored
    messages, and nothing is claimed about history (the model may have seen some, or a
    compaction summary).
    """
    n_sys = sum(m.get("role") == "system" for m in before)
    n_hist = sum(m.get("from_history") is True for m in before)
    if any(m.get("from_history") is True for m in run_messages):
        return (f"Context the model saw at this step: {len(before)} message(s) — {n_sys} system, "
                f"{n_hist} from history, {len(before) - n_sys - n_hist} earlier in this run")
    return (f"Context at this step, reconstructed: {len(before)} stored message(s) of this run before it "
            f"({n_sys} system, {len(before) - n_sys} other); history not stored, so any earlier turns the "
            "model was sent are not shown")


class Replay(StaticView, widgets.VBox):
    """Step through a session's runs one message at a time.

    The steps are the messages each run produced (history copies are shown in the
    model-context view instead), run after run; team member runs and workflow step
    runs follow the run they are nested in. A run without messages (a workflow run)
    is one step showing its step results.

    Drive it from the controls or from Python: :meth:`next`, :meth:`prev`,
    :meth:`goto`, :meth:`goto_run`; read :attr:`position`, :attr:`current_message`,
    :attr:`current_run`. ``window`` is how many messages of the run, up to the current
    one, are on screen; only those are rendered, in a scroll area of fixed ``height``
    that starts at its bottom, so the current message is in view and the page does not
    jump. A failed run shows its error (type and text) after its last message. A message
    longer than ``preview`` characters (or 12 lines) shows that much, then "show all".

    Annotate the current run or message (the ``run``/``message`` toggle) with the Good and
    Bad buttons (score 1 or 0, label ``good``/``bad`` unless the label field says otherwise),
    or Save a label and a note; from Python: :meth:`annotate`, :meth:`good`, :meth:`bad`.
    They go through the explorer's :meth:`~agno_nb.analysis.SessionExplorer.annotate` (the
    side store, never the source) and show at once under the controls, with ``author``.

    Keys (with anywidget installed; see :mod:`agno_nb.widgets.keys`): ``→``/``←`` or ``j``/``k``
    step a message, ``Shift+→``/``Shift+←`` or ``n``/``p`` a run, ``Home``/``End`` go to the first
    or last step, while the focus is in the replay (click it first). A long text opened with
    "show all" stays open on later steps: :attr:`expanded` holds the keys of the open ones.

    Where Agno 3.1 stored them (:mod:`agno_nb.widgets.extras`, read once per replay): each
    approval shows after the assistant message whose tool call it paused (:attr:`approvals`);
    a compaction fold in the header of the run that made it, with a marker before the first
    message it kept; a span waterfall under each run's header. The "Model context" view shows
    the exact messages of the step's model call from its LLM span (:attr:`exact_context`),
    or, without one, a reconstruction that says so.

    The static view (nbconvert, nbviewer, GitHub) is a summary: the run tree, the
    failures, and the first and last ``static_steps`` steps, so a saved notebook stays
    small whatever the session's size.
    """

    def __init__(self, source: Any, session_id: str, run_id: Optional[str] = None, *, window: int = 6,
                 context_limit: int = 100, static_steps: int = 10, height: str = "480px",
                 author: Optional[str] = None, preview: int = h.PREVIEW_CHARS, **kwargs: Any):
        from ..analysis import connect

        super().__init__(**kwargs)
        self.session_id = session_id
        self.explorer = connect(source)
        self.author = author
        self.data: SessionData = load_session(self.explorer, session_id)
        # approvals, compactions and spans: one read each, for this session only
        self.extras: SessionExtras = load_extras(self.explorer, session_id)
        self._place_extras()
        self.window = max(1, int(window))
        self.context_limit = context_limit
        self.static_steps = max(1, int(static_steps))
        self.height = height
        self.preview = max(1, int(preview))  # characters of a message shown before "show all"
        self._steps: List[Tuple[int, Optional[int], int]] = []  # (run position, message index, k-th own message)
        self._run_start: List[int] = []
        for rp, node in enumerate(self.data.runs):
            self._run_start.append(len(self._steps))
            own = node.own
            self._steps += [(rp, mi, k) for k, mi in enumerate(own)] or [(rp, None, 0)]
        if not self._steps:
            self._steps.append((-1, None, 0))  # a session without runs: one empty step
        self._msg_cache: Dict[Tuple[int, int, bool], str] = {}
        self._header_cache: Dict[int, str] = {}
        self._syncing = False
        self.expanded: Set[str] = set()  # "show all" texts the user opened (their data-agno-key)

        last = len(self._steps) - 1
        self.play = widgets.Play(value=0, min=0, max=last, step=1, interval=800, description="Play",
                                 tooltip="Play / pause")
        self.slider = widgets.IntSlider(value=0, min=0, max=last, step=1, readout=False, continuous_update=False,
                                        description="", layout=widgets.Layout(width="auto", flex="1 1 320px",
                                                                                min_width="120px"))
        self._link = widgets.link((self.play, "value"), (self.slider, "value"))
        self.prev_button = widgets.Button(description="◀ Prev", tooltip="Previous message",
                                          layout=widgets.Layout(width="80px"))
        self.next_button = widgets.Button(description="Next ▶", tooltip="Next message",
                                          layout=widgets.Layout(width="80px"))
        self.counter = widgets.HTML(layout=widgets.Layout(flex="0 0 auto"))
        self.prev_run_button = widgets.Button(description="« Run", tooltip="Start of the previous run",
                                              layout=widgets.Layout(width="70px"))
        self.next_run_button = widgets.Button(description="Run »", tooltip="Start of the next run",
                                              layout=widgets.Layout(width="70px"))
        options = self._run_options()
        self.run_dropdown = widgets.Dropdown(options=options, description="Run",
                                             layout=widgets.Layout(width="auto", min_width="420px", flex="1 1 auto"))
        self.run_dropdown.style.description_width = "initial"
        self._search_labels = {label: rp for label, rp in options}
        # a searchable list: typing filters the runs (by number, agent or input text)
        self.run_search = widgets.Combobox(options=[label for label, _ in options], placeholder="search runs…",
                                           ensure_option=True, layout=widgets.Layout(width="260px"))
        self.context_toggle = widgets.ToggleButton(value=False, description="Model context", icon="eye",
                                                   tooltip="Show the messages the model saw at this step")
        self.header = widgets.HTML()
        self.body = widgets.HTML()
        self.context = widgets.HTML(layout=widgets.Layout(display="none"))
        self.tree = widgets.HTML(run_tree_html(self.data, limit=400))
        self._build_annotation_controls()
        keys_class = key_widget_class()
        # hidden: it only listens; the hint below shows once its script runs in the frontend
        self.keyboard = keys_class(layout=widgets.Layout(display="none")) if keys_class else None
        if self.keyboard is not None:
            self.keyboard.on_msg(self._on_keys_msg)
            hint = f'<div class="agno-key-hint">{h.muted(h.esc(KEY_HELP))}</div>'
        else:
            hint = f'<div>{h.muted(h.esc(NO_KEYS))}</div>'
        controls = [self.play, self.prev_run_button, self.prev_button, self.slider, self.next_button,
                    self.next_run_button, self.counter] + ([self.keyboard] if self.keyboard is not None else [])
        self.children = [
            widgets.HTML(self.hide_static_css() + f"<style>{HINT_CSS}</style>" + session_header_html(self.data)
                         + self._extras_line() + hint),
            widgets.HBox(controls, layout=widgets.Layout(align_items="center")),
            widgets.HBox([self.run_dropdown, self.run_search, self.context_toggle],
                         layout=widgets.Layout(width="100%", flex_flow="row wrap")),
            self.tree, self.header, self.body, self.annotation_bar, self.annotation_list, self.context,
        ]
        self.add_class("agno-replay")  # a hook for CSS and browser tests
        self.prev_button.on_click(lambda _: self.prev())
        self.next_button.on_click(lambda _: self.next())
        self.prev_run_button.on_click(lambda _: self.prev_run())
        self.next_run_button.on_click(lambda _: self.next_run())
        self.run_search.observe(self._on_search, names="value")
        self.slider.observe(lambda _: self._render(), names="value")
        self.run_dropdown.observe(self._on_run_picked, names="value")
        self.context_toggle.observe(lambda _: self._render(), names="value")
        start = 0
        if run_id is not None:
            start = self._run_start[self._run_pos(run_id)]
        if start:
            self.goto(start)
        else:
            self._render()

    # -- state, from Python ------------------------------------------------------------------

    @property
    def n_steps(self) -> int:
        return len(self._steps)

    @property
    def position(self) -> int:
        """The current step (0-based) over the whole session."""
        return int(self.slider.value)

    @property
    def current_node(self) -> Optional[RunNode]:
        rp = self._steps[self.position][0]
        return self.data.runs[rp] if rp >= 0 else None

    @property
    def current_run(self) -> Optional[Dict[str, Any]]:
        """The run row (from ``runs``) of the current step."""
        node = self.current_node
        return dict(node.run) if node else None

    @property
    def current_message(self) -> Optional[Dict[str, Any]]:
        """The message row (from ``messages``) shown at this step; None on a run without messages."""
        rp, mi, _ = self._steps[self.position]
        return dict(self.data.runs[rp].messages[mi]) if mi is not None else None

    @property
    def context_messages(self) -> List[Dict[str, Any]]:
        """What the model was sent before this step: system, history, earlier messages of the run."""
        rp, mi, _ = self._steps[self.position]
        return [dict(m) for m in self.data.runs[rp].messages[:mi]] if mi is not None else []

    @property
    def show_context(self) -> bool:
        return bool(self.context_toggle.value)

    @show_context.setter
    def show_context(self, value: bool) -> None:
        self.context_toggle.value = bool(value)

    def goto(self, i: int) -> "Replay":
        """Go to step ``i`` (negative counts from the end; clamped to the session)."""
        if i < 0:
            i += self.n_steps
        self.slider.value = max(0, min(int(i), self.n_steps - 1))
        return self

    def next(self) -> "Replay":
        return self.goto(self.position + 1)

    def prev(self) -> "Replay":
        return self.goto(max(0, self.position - 1))

    def next_run(self) -> "Replay":
        """The first step of the next run; on the last run, it stays where it is (never goes back)."""
        rp = self._steps[self.position][0]
        return self.goto_run(rp + 1) if 0 <= rp < len(self.data.runs) - 1 else self

    def prev_run(self) -> "Replay":
        """The first step of this run, or of the previous one when already there."""
        rp = self._steps[self.position][0]
        if rp < 0:
            return self
        if self.position == self._run_start[rp] and rp > 0:
            rp -= 1
        return self.goto_run(rp)

    def goto_run(self, run: Union[str, int]) -> "Replay":
        """Go to the first message of a run, by run_id or by position in the run list."""
        rp = run if isinstance(run, int) else self._run_pos(run)
        return self.goto(self._run_start[rp])

    def _run_pos(self, run_id: str) -> int:
        for rp, node in enumerate(self.data.runs):
            if node.run_id == run_id:
                return rp
        raise LookupError(f"no run {run_id!r} in session {self.session_id!r}")

    # -- approvals, compactions, spans ---------------------------------------------------------

    def _place_extras(self) -> None:
        """Where each approval and compaction shows: an approval after the assistant message
        whose tool call it paused (by call id, else by tool name in its run), in its run's
        header when no message matches; a compaction's marker before its first kept message."""
        self._approvals_at: Dict[Tuple[int, int], List[Dict[str, Any]]] = {}
        self._approvals_left: Dict[int, List[Dict[str, Any]]] = {}
        self._message_at: Dict[Any, Tuple[int, int]] = {}
        for rp, node in enumerate(self.data.runs):
            for mi, m in enumerate(node.messages):
                if h.present(m.get("message_id")) and m.get("from_history") is not True:
                    self._message_at.setdefault(m["message_id"], (rp, mi))
        if not self.extras.approvals:
            return
        rp_of = {node.run_id: rp for rp, node in enumerate(self.data.runs)}
        for a in self.extras.approvals:
            rp = rp_of.get(a.get("run_id"))
            if rp is None:
                continue
            call_id, name = approval_call_id(a), a.get("tool_name")
            at = None
            for mi, m in enumerate(self.data.runs[rp].messages):
                calls = h.tool_calls_of(m) if m.get("role") == "assistant" else []
                if any(c.get("id") == call_id for c in calls if call_id) or (
                        call_id is None and any((c.get("function") or {}).get("name") == name for c in calls)):
                    at = mi
                    break
            if at is None:
                self._approvals_left.setdefault(rp, []).append(a)
            else:
                self._approvals_at.setdefault((rp, at), []).append(a)

    def _extras_line(self) -> str:
        return hx.extras_line_html(self.extras.approvals, self.extras.compactions, self.extras.spans)

    def _run_name(self, run_id: Any) -> str:
        """``run 6/6`` for a run of this session, else its id."""
        for rp, node in enumerate(self.data.runs):
            if node.run_id == run_id:
                return f"run {rp + 1}/{len(self.data.runs)}"
        return f"run {run_id}" if h.present(run_id) else ""

    @property
    def approvals(self) -> List[Dict[str, Any]]:
        """The session's approvals (``approvals()`` rows: decision, resolved_by, times)."""
        return [dict(a) for a in self.extras.approvals]

    def _run_extras(self, rp: int) -> str:
        """Under a run's header: approvals no message shows, the folds made in it, its waterfall."""
        node = self.data.runs[rp]
        parts = [hx.approval_html(a) for a in self._approvals_left.get(rp, [])]
        for c in self.extras.compactions_of_run(node.run_id):
            kept = self._message_at.get(c.get("first_kept_message_id"))
            where = (f"kept from run {kept[0] + 1}, message #{kept[1]}" if kept
                     else "the first kept message is not in this session's runs")
            parts.append(hx.compaction_html(c, where))
        parts.append(hx.waterfall_html(self.extras.spans_of_run(node.run_id)))
        return "".join(parts)

    @property
    def exact_context(self) -> Optional[List[Dict[str, Any]]]:
        """The messages the model call of this step was sent, from its LLM span; None without one.

        The step's model call is the one that wrote the first assistant message at or after
        this step; its span is found by its output (the same tool-call ids, or text)."""
        found = self._model_call(*self._steps[self.position][:2])
        return [dict(m) for m in found[3]] if found else None

    def _model_call(self, rp: int, mi: Optional[int]):
        if rp < 0 or mi is None or not self.extras.spans:
            return None
        node = self.data.runs[rp]
        answer = next((node.messages[i] for i in node.own if i >= mi and node.messages[i].get("role") == "assistant"),
                      None)
        return self.extras.model_call_for(node.run_id, answer) if answer is not None else None

    # -- annotations -----------------------------------------------------------------------------

    def _build_annotation_controls(self) -> None:
        self.annotate_target = widgets.ToggleButtons(options=["run", "message"], value="run",
                                                     tooltips=["Annotate the current run", "Annotate this message"],
                                                     style={"button_width": "84px"})  # "message" fits
        self.good_button = widgets.Button(description="Good", icon="thumbs-up",
                                          tooltip="Score 1, label 'good'", layout=widgets.Layout(width="80px"))
        self.bad_button = widgets.Button(description="Bad", icon="thumbs-down",
                                         tooltip="Score 0, label 'bad'", layout=widgets.Layout(width="80px"))
        self.label_input = widgets.Text(placeholder="label", layout=widgets.Layout(width="140px"))
        self.note_input = widgets.Text(placeholder="note", layout=widgets.Layout(width="260px"))
        self.save_button = widgets.Button(description="Save", tooltip="Store the label and note (no score)",
                                          layout=widgets.Layout(width="70px"))
        self.annotation_bar = widgets.HBox([self.annotate_target, self.good_button, self.bad_button,
                                            self.label_input, self.note_input, self.save_button],
                                           layout=widgets.Layout(flex_flow="row wrap"))
        self.annotation_list = widgets.HTML()
        self.good_button.on_click(lambda _: self._from_controls(score=1.0, default_label="good"))
        self.bad_button.on_click(lambda _: self._from_controls(score=0.0, default_label="bad"))
        self.save_button.on_click(lambda _: self._from_controls(score=None, default_label=None))
        self.annotate_target.observe(lambda _: self._render_annotations(), names="value")
        self._annotations = records(self.explorer.annotations(session_ids=[self.session_id]))
        self._problem = ""

    def annotate(self, score: Optional[float] = None, label: Optional[str] = None, note: Optional[str] = None,
                 target: Optional[str] = None) -> Dict[str, Any]:
        """Annotate the current run, or its current message (``target="message"``); returns the record."""
        target = target or self.annotate_target.value
        run = self.current_run
        if run is None:
            raise LookupError(f"session {self.session_id!r} has no runs to annotate")
        msg = self.current_message if target == "message" else None
        stored = self.explorer.annotate(run["run_id"], label=label, score=score, note=note, author=self.author,
                                        message_index=None if msg is None else msg.get("message_index"))
        # read back, not appended: what another kernel stored, or ex.delete_annotations() removed,
        # since this replay opened shows as it is in the store
        self._annotations = records(self.explorer.annotations(session_ids=[self.session_id]))
        self._problem = ""
        self._render_annotations()
        return stored

    def good(self, note: Optional[str] = None, label: str = "good", target: Optional[str] = None) -> Dict[str, Any]:
        return self.annotate(score=1.0, label=label, note=note, target=target)

    def bad(self, note: Optional[str] = None, label: str = "bad", target: Optional[str] = None) -> Dict[str, Any]:
        return self.annotate(score=0.0, label=label, note=note, target=target)

    def _from_controls(self, score: Optional[float], default_label: Optional[str]) -> None:
        from ..errors import AgnoNbError

        label = self.label_input.value.strip() or default_label
        note = self.note_input.value.strip() or None
        try:
            self.annotate(score=score, label=label, note=note)
        except (AgnoNbError, LookupError) as exc:  # shown in the widget: a click has no traceback to read
            self._problem = h.error_html(type(exc).__name__, str(exc), "annotation not stored")
            self._render_annotations()
            return
        self.note_input.value = ""
        self.label_input.value = ""

    def _render_annotations(self) -> None:
        run = self.current_run
        if run is None:
            self.annotation_list.value = self._problem
            return
        msg = self.current_message
        here = msg.get("message_index") if msg else None
        rows = []
        for a in self._annotations:
            if a["run_id"] != run["run_id"]:
                continue
            mi = a.get("message_index")
            what = "run" if mi is None else f"message {mi}" + (" (this one)" if mi == here else "")
            bits = [what]
            if a.get("score") is not None:
                bits.append(f"score {a['score']:g}")
            for key in ("label", "note", "author"):
                if a.get(key):
                    bits.append(str(a[key]))
            bits.append(h.fmt_time(a.get("created_at")))
            rows.append(f'<div class="agno-annotation">{h.esc(" · ".join(b for b in bits if b))}</div>')
        body = "".join(rows) or h.muted(h.esc("No annotations on this run yet."))
        self.annotation_list.value = f'<div style="{h.FONT}{h.TEXT}margin:2px 0">{body}</div>{self._problem}'

    # -- rendering -----------------------------------------------------------------------------

    def _run_options(self) -> List[Tuple[str, int]]:
        out = []
        for rp, node in enumerate(self.data.runs):
            text = str(node.run.get("input") or "").replace("\n", " ")
            text = text[:80] + ("…" if len(text) > 80 else "")
            indent = NBSP * 4 * node.depth + ("↳ " if node.depth else "")
            out.append((f"{rp + 1}. {indent}{h.run_label(node.run)}: {text}", rp))
        return out or [("(no runs)", -1)]

    def _message(self, rp: int, mi: int, current: bool) -> str:
        key = (rp, mi, current)
        if key not in self._msg_cache:
            msg = self.data.runs[rp].messages[mi]
            folds = "".join(hx.fold_marker_html(c, self._run_name(c.get("run_id")))
                            for c in self.extras.compactions_before(msg.get("message_id"))
                            if msg.get("from_history") is not True)
            approvals = "".join(hx.approval_html(a) for a in self._approvals_at.get((rp, mi), []))
            self._msg_cache[key] = folds + keyed(h.message_html(msg, self.data.tool, current=current,
                                                                run_lookup=self.data.run, preview=self.preview),
                                                 f"m{rp}.{mi}") + approvals
        return self._msg_cache[key]

    def _opened(self, markup: str) -> str:
        """``markup`` with the "show all" texts the user opened rendered open."""
        if not self.expanded:
            return markup
        return _KEYED.sub(lambda m: m.group(0) + (" open" if m.group(1) in self.expanded else ""), markup)

    def _header(self, rp: int) -> str:
        if rp not in self._header_cache:
            node = self.data.runs[rp]
            parts = [h.run_header_html(node.run, node.path, n_messages=len(node.own))]
            if node.steps:
                parts.append(h.steps_html(node.steps))
            if node.children:
                kind = node.run.get("run_type")
                caption = {"team": "Member runs", "workflow": "Step runs"}.get(kind, "Nested runs")
                parts.append(h.children_html([c.run for c in node.children], caption))
            parts.append(self._run_extras(rp))
            inner = "".join(parts)
            # a long header scrolls inside itself, so the messages below do not move much
            self._header_cache[rp] = keyed(f'<div style="max-height:320px;overflow-y:auto">'
                                           f'{h.box(inner, indent=node.depth)}</div>', f"h{rp}")
        return self._header_cache[rp]

    def _window(self, rp: int, k: int) -> str:
        node = self.data.runs[rp]
        own = node.own
        first = max(0, k - self.window + 1)
        parts = []
        if first:
            parts.append(h.note(f"{first} earlier message(s) of this run not shown"))
        parts += [self._message(rp, own[j], j == k) for j in range(first, k + 1)]
        if k == len(own) - 1:
            parts.append(keyed(h.run_error_html(node.run), f"e{rp}"))  # where it failed: after its last message
        return self._scroll(h.box("".join(parts), indent=node.depth))

    def _scroll(self, inner: str) -> str:
        # column-reverse anchors the scroll position at the bottom, where the current message
        # is, without a script; the fixed height keeps the controls and the page still; the
        # auto margin puts the messages at the top while they are fewer than the height holds
        return (f'<div class="agno-scroll" style="height:{h.esc(self.height)};overflow-y:auto;display:flex;'
                f'flex-direction:column-reverse;border:1px solid {h.BORDER_SOFT};border-radius:4px;padding:0 4px">'
                f'<div style="margin-bottom:auto">{inner}</div></div>')

    def _context(self, rp: int, mi: Optional[int]) -> str:
        found = self._model_call(rp, mi)
        if found is not None:
            return self._exact_context(found)
        msgs = self.data.runs[rp].messages[:mi] if mi is not None else []
        summary = context_summary(msgs, self.data.runs[rp].messages)
        shown = list(range(len(msgs)))
        skipped = 0
        if len(shown) > self.context_limit:
            # keep the system prompt, and the most recent messages
            head = [i for i in shown if msgs[i].get("role") == "system"][:3]
            tail = shown[-(self.context_limit - len(head)):]
            skipped = len(shown) - len(head) - len(tail)
            shown = head + tail
        parts = [h.note(summary)]
        for n, i in enumerate(shown):
            if skipped and n > 0 and shown[n - 1] + 1 != i:
                parts.append(h.note(f"… {skipped} message(s) not shown …"))
            parts.append(self._message(rp, i, False))
        return (f'<div style="border:2px solid #6366f1;border-radius:6px;padding:4px 8px;margin:6px 0">'
                f'{"".join(parts)}</div>')

    def _exact_context(self, found: tuple) -> str:
        """The input messages of the step's model call, as its span recorded them."""
        position, count, span, sent = found
        counts: Dict[str, int] = {}
        for m in sent:
            counts[str(m.get("role") or "?")] = counts.get(str(m.get("role") or "?"), 0) + 1
        parts = [h.note(hx.exact_context_note(position, count, len(sent), span, counts))]
        shown = list(range(len(sent)))
        if len(shown) > self.context_limit:
            keep = shown[-self.context_limit:]
            parts.append(h.note(f"… the first {len(shown) - len(keep)} message(s) not shown …"))
            shown = keep
        parts += [keyed(h.message_html(sent[i], preview=self.preview), f"x{span.get('span_id')}.{i}") for i in shown]
        return (f'<div class="agno-context-exact" style="border:2px solid #6366f1;border-radius:6px;'
                f'padding:4px 8px;margin:6px 0">{"".join(parts)}</div>')

    def _render(self) -> None:
        rp, mi, k = self._steps[self.position]
        if rp < 0:
            self.header.value = h.note("This session has no runs.")
            self.body.value = ""
            self.counter.value = h.esc(self._counter_text())
            return
        self.header.value = self._opened(self._header(rp))
        if mi is None:
            self.body.value = self._opened(self._scroll(
                keyed(h.run_error_html(self.data.runs[rp].run), f"e{rp}")
                + h.note("This run has no messages of its own; see its steps and nested runs above.")))
        else:
            self.body.value = self._opened(self._window(rp, k))
        if self.context_toggle.value:
            self.context.value = self._opened(self._context(rp, mi))
            self.context.layout.display = None
        else:
            self.context.layout.display = "none"
        self.counter.value = f'<span style="{h.FONT}white-space:nowrap">{h.esc(self._counter_text())}</span>'
        self._render_annotations()
        if self.run_dropdown.value != rp and not self._syncing:
            self._syncing = True
            try:
                self.run_dropdown.value = rp
            finally:
                self._syncing = False

    def _on_keys_msg(self, _widget: Any, content: Dict[str, Any], _buffers: Any = None) -> None:
        """A key (``{"type": "key", "action": ...}``) or a "show all" toggle from the frontend."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "toggle":
            key = str(content.get("key") or "")
            if content.get("open"):
                self.expanded.add(key)
            else:
                self.expanded.discard(key)
        elif kind == "key":
            try:
                self.press(str(content.get("action")), int(content.get("delta", 1)))
            finally:  # the frontend sends the next key only after this
                if self.keyboard is not None:
                    self.keyboard.send({"type": "ack", "position": self.position})

    def press(self, action: str, delta: int = 1) -> "Replay":
        """What a key does: ``step`` (by ``delta`` messages), ``next_run``, ``prev_run``, ``first``, ``last``."""
        if action == "step":
            return self.goto(max(0, self.position + delta))
        if action == "next_run":
            return self.next_run()
        if action == "prev_run":
            return self.prev_run()
        if action == "first":
            return self.goto(0)
        if action == "last":
            return self.goto(self.n_steps - 1)
        raise ValueError(f"unknown key action {action!r}")

    def _on_search(self, change: Dict[str, Any]) -> None:
        rp = self._search_labels.get(change["new"])
        if rp is not None and rp >= 0:
            self.goto_run(rp)

    def _on_run_picked(self, change: Dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None and change["new"] >= 0:
            self._syncing = True
            try:
                self.goto_run(int(change["new"]))
            finally:
                self._syncing = False

    def _counter_text(self) -> str:
        rp, mi, k = self._steps[self.position]
        n_own = len(self.data.runs[rp].own) if rp >= 0 else 0
        return (f"run {rp + 1}/{len(self.data.runs)}, message {k + 1 if mi is not None else 0}/{n_own} "
                f"(step {self.position + 1}/{self.n_steps})")

    # -- outside a live kernel ------------------------------------------------------------------

    def _static_identity(self) -> str:
        return self.session_id

    def __repr__(self) -> str:
        rp, mi, k = self._steps[self.position]
        n_own = len(self.data.runs[rp].own) if rp >= 0 else 0
        return (f"Replay(session_id={self.session_id!r}, run {rp + 1}/{len(self.data.runs)}, "
                f"message {k + 1 if mi is not None else 0}/{n_own})")

    def _repr_html_(self) -> str:
        """A summary: header, failures, run tree, and the first and last steps of the session."""
        n = self.static_steps
        first = list(range(min(n, self.n_steps)))
        last = [i for i in range(max(0, self.n_steps - n), self.n_steps) if i not in first]
        parts = [session_header_html(self.data), self._extras_line(), h.note("Keys in the live widget: " + KEY_LIST),
                 failures_html(self.data),
                 run_tree_html(self.data, limit=60, open_=len(self.data.runs) <= 20)]
        parts.append(self._static_steps(first, f"First {len(first)} of {self.n_steps:,} steps"))
        if last:
            skipped = last[0] - first[-1] - 1
            if skipped:
                parts.append(h.note(f"… {skipped:,} step(s) not shown here; run the notebook to step through "
                                    "them in the live widget …"))
            parts.append(self._static_steps(last, f"Last {len(last)} steps"))
        return f'<div class="agno-static" style="{h.FONT}{h.TEXT}">{"".join(parts)}</div>'

    def _static_steps(self, positions: List[int], title: str) -> str:
        out, shown_run = [f'<div style="font-weight:600;margin:6px 0 2px">{h.esc(title)}</div>'], None
        for i in positions:
            rp, mi, k = self._steps[i]
            if rp < 0:
                out.append(h.note("This session has no runs."))
                continue
            node = self.data.runs[rp]
            if rp != shown_run:
                out.append(h.box(h.run_header_html(node.run, node.path, n_messages=len(node.own))
                                 + self._run_extras(rp), indent=node.depth))
                shown_run = rp
            inner = self._message(rp, mi, False) if mi is not None else ""
            if mi is None or k == len(node.own) - 1:
                inner += h.run_error_html(node.run)
            out.append(h.box(inner, indent=node.depth))
        return "".join(out)


def replay(source: Any, session_id: str, run_id: Optional[str] = None, **kwargs: Any) -> Replay:
    """A :class:`Replay` widget over one session of ``source`` (anything ``connect`` takes).

    Pass ``author=`` to sign the annotations made with its Good, Bad and Save buttons.
    """
    return Replay(source, session_id, run_id=run_id, **kwargs)
