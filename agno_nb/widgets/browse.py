"""``browse(source)``: filter sessions, page through them, open one in a replay."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import ipywidgets as widgets
import pandas as pd

from . import html as h
from .base import StaticView
from .extras import pending_sessions
from .replay import Replay

PAGE_SIZE = 20
_ALL = "(all)"
# A Dropdown whose value is None shows no label (ipywidgets treats None as "nothing picked"),
# so "(all)" has a value of its own.
ANY = "\x00any"
NO_PICK = "\x00none"
# (key, title): the table's columns; every one but "session" sorts on a click
COLUMNS = [("session_id", "session"), ("session_name", "name"), ("session_type", "type"),
           ("who", "agent"), ("user_id", "user"), ("created_at", "started"),
           ("n_runs", "runs"), ("total_tokens", "tokens"), ("duration", "duration"), ("status", "status / error")]
_FLEXIBLE = {"session_name": "minmax(6em, 2fr)", "status": "minmax(9em, 3fr)"}  # grid widths of the cut columns
# a grid item and the widget's own content box keep their content's width unless told otherwise
CUT_CSS = ("<style>.agno-browse .agno-cut, .agno-browse .agno-cut > .widget-html-content"
            "{min-width:0;overflow:hidden}</style>")
_CHUNK = 500  # session ids per messages() call: keeps the pushed-down IN list small
_UNSET = object()

DateLike = Union[None, str, dt.date, dt.datetime]


class Browse(StaticView, widgets.VBox):
    """Filters over the sessions, a paged table of the ones that match, and a replay.

    Filters: component (agent, team or workflow), user, session type, a date range on
    the session's start (both ends inclusive, UTC days), a text searched in message
    content (case-insensitive), "only failed sessions" (a run with status ERROR) and "only
    awaiting approval" (an approval Agno stores as ``pending``; the checkbox counts them). All
    but the text search and the last two are pushed down to the database.

    The table has a status / error column (the first failed run's error), the duration
    (top-level runs summed) and tokens; a click on a column header sorts by it (again:
    the other way), a click on a session's id opens it in a replay below. Long ids are
    shortened, the full id is in the tooltip. From Python: :meth:`set_filters`,
    :meth:`sort`, :attr:`rows` (every match), :attr:`page_rows`, :meth:`next_page`,
    :meth:`prev_page`, :meth:`open_session`.
    """

    def __init__(self, source: Any, *, page_size: int = PAGE_SIZE, **kwargs: Any):
        from ..analysis import connect

        super().__init__(**kwargs)
        self.explorer = connect(source)
        self.page_size = page_size
        self.page = 0
        self.replay: Optional[Replay] = None
        self.rows: pd.DataFrame = pd.DataFrame()
        self._quiet = False
        self.sort_key, self.descending = "created_at", True
        everything = self.explorer.sessions()
        self.agent = widgets.Dropdown(options=[(_ALL, ANY)] + _components(everything), description="Agent")
        users = sorted({u for u in everything["user_id"].dropna()})
        self.user = widgets.Dropdown(options=[(_ALL, ANY)] + [(u, u) for u in users], description="User")
        self.session_type = widgets.Dropdown(options=[(_ALL, ANY), ("agent", "agent"), ("team", "team"),
                                                      ("workflow", "workflow")], description="Type")
        self.since = widgets.DatePicker(description="From")
        self.until = widgets.DatePicker(description="To")
        self.text = widgets.Text(placeholder="search message text", description="Search", continuous_update=False)
        self.failed = widgets.Checkbox(value=False, description="Only failed sessions", indent=False)
        self.awaiting = widgets.Checkbox(value=False, description="Only awaiting approval", indent=False,
                                         layout=widgets.Layout(width="max-content"))
        self.pending: Dict[str, int] = {}  # session id -> approvals awaiting a decision (read on refresh)
        self.header_buttons = {key: widgets.Button(description=title, tooltip=f"sort by {title}",
                                                   layout=widgets.Layout(width="max-content"))
                               for key, title in COLUMNS if key != "session_id"}
        for key, button in self.header_buttons.items():
            button.on_click(lambda _, key=key: self.sort(key))
            button.add_class("agno-sort")
        self._row_widgets = [self._make_row() for _ in range(self.page_size)]
        # the name and the error take what width is left, cut with an ellipsis, so that the table
        # fits the notebook and every row is one line
        self.grid = widgets.GridBox(layout=widgets.Layout(
            grid_template_columns=" ".join(_FLEXIBLE.get(key, "max-content") for key, _ in COLUMNS),
            grid_gap="0px 6px", align_items="center", overflow="auto", width="100%"))
        self.empty = widgets.HTML()
        fixed = dict(width="max-content", flex="0 0 auto")
        self.prev_page_button = widgets.Button(description="◀ Prev page", layout=widgets.Layout(**fixed))
        self.next_page_button = widgets.Button(description="Next page ▶", layout=widgets.Layout(**fixed))
        self.page_label = widgets.HTML(layout=widgets.Layout(**fixed))
        self.picker = widgets.Dropdown(options=[("(pick a session to replay)", NO_PICK)], description="Open",
                                       layout=widgets.Layout(width="auto", flex="1 1 auto", min_width="16em"))
        self.detail = widgets.VBox()
        for w in (self.agent, self.user, self.session_type, self.since, self.until, self.text, self.failed,
                  self.awaiting):
            w.observe(lambda _: self._changed(), names="value")
        self.prev_page_button.on_click(lambda _: self.prev_page())
        self.next_page_button.on_click(lambda _: self.next_page())
        self.picker.observe(self._picked, names="value")
        self.style_html = widgets.HTML(self.hide_static_css() + CUT_CSS)
        self.children = [
            self.style_html,
            widgets.HBox([self.agent, self.user, self.session_type]),
            widgets.HBox([self.since, self.until, self.text, self.failed, self.awaiting],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.grid, self.empty,
            widgets.HBox([self.prev_page_button, self.page_label, self.next_page_button, self.picker]),
            self.detail,
        ]
        self.add_class("agno-browse")  # a hook for CSS and browser tests
        self.refresh()

    def _make_row(self) -> List[widgets.Widget]:
        button = widgets.Button(layout=widgets.Layout(width="max-content"))
        button.add_class("agno-open")
        button.on_click(lambda b: self.open_session(b.tooltip) if b.tooltip else None)
        cells = [widgets.HTML() for _ in COLUMNS[1:]]
        for (key, _), cell in zip(COLUMNS[1:], cells):
            if key in _FLEXIBLE:
                cell.add_class("agno-cut")
        return [button, *cells]

    # -- filters, from Python --------------------------------------------------------------------

    def set_filters(self, *, agent: Any = _UNSET, user: Any = _UNSET, session_type: Any = _UNSET,
                    since: Any = _UNSET, until: Any = _UNSET, text: Any = _UNSET, failed: Any = _UNSET,
                    awaiting: Any = _UNSET) -> "Browse":
        """Set any of the filters (None clears one) and reload the table once.

        ``agent`` is an agent, team or workflow id (or ``(kind, id)``); ``since`` and
        ``until`` are dates (or ISO strings), both inclusive; ``failed=True`` keeps only
        sessions with a failed run, ``awaiting=True`` those with an approval awaiting a decision.
        """
        self._quiet = True
        try:
            if agent is not _UNSET:
                self.agent.value = self._component(agent)
            if user is not _UNSET:
                self.user.value = ANY if user is None else user
            if session_type is not _UNSET:
                self.session_type.value = ANY if session_type is None else session_type
            if failed is not _UNSET:
                self.failed.value = bool(failed)
            if awaiting is not _UNSET:
                self.awaiting.value = bool(awaiting)
            if since is not _UNSET:
                self.since.value = _as_date(since)
            if until is not _UNSET:
                self.until.value = _as_date(until)
            if text is not _UNSET:
                self.text.value = text or ""
        finally:
            self._quiet = False
        self.refresh()
        return self

    def _component(self, agent: Any) -> Any:
        if agent is None:
            return ANY
        if isinstance(agent, tuple):
            return agent
        for _, value in self.agent.options:
            if value != ANY and value[1] == agent:
                return value
        known = [v[1] for _, v in self.agent.options if v != ANY]
        raise LookupError(f"no agent, team or workflow {agent!r}; known: {known}")

    @property
    def filters(self) -> Dict[str, Any]:
        """The filters as ``SessionExplorer`` keyword arguments (text search not included)."""
        f: Dict[str, Any] = {}
        if self.agent.value not in (None, ANY):
            kind, cid = self.agent.value
            f[f"{kind}_id"] = cid
        if self.user.value not in (None, ANY):
            f["user_id"] = self.user.value
        if self.session_type.value not in (None, ANY):
            f["session_type"] = self.session_type.value
        if self.since.value is not None:
            f["since"] = self.since.value
        if self.until.value is not None:
            f["until"] = self.until.value + dt.timedelta(days=1)  # the day picked is included
        return f

    # -- loading ---------------------------------------------------------------------------------

    def refresh(self) -> "Browse":
        """Read the matching sessions again (the database may have changed) and go to page 1."""
        rows = self.explorer.sessions(**self.filters)
        needle = (self.text.value or "").strip()
        if needle and not rows.empty:
            rows = rows[rows["session_id"].isin(self._sessions_saying(needle, list(rows["session_id"])))]
        rows = rows.merge(self._run_stats(list(rows["session_id"])), on="session_id", how="left")
        rows["who"] = [_who(r) for r in rows.itertuples()]
        rows["n_failed"] = rows["n_failed"].fillna(0).astype(int)
        rows["status"] = ["ERROR" if n else "OK" for n in rows["n_failed"]]
        if self.failed.value:
            rows = rows[rows["n_failed"] > 0]
        # read on every refresh: a decision made since (db.update_approval) shows at once
        self.pending = pending_sessions(self.explorer)
        n_sessions = len(self.pending)
        self.awaiting.description = (f"Only awaiting approval ({n_sessions} session{'s' * (n_sessions != 1)})"
                                     if n_sessions else "Only awaiting approval")
        rows["n_pending"] = [self.pending.get(str(sid), 0) for sid in rows["session_id"]]
        if self.awaiting.value:
            rows = rows[rows["n_pending"] > 0]
        self.rows = self._sorted(rows)
        self.page = 0
        self._show()
        return self

    def sort(self, key: str, descending: Optional[bool] = None) -> "Browse":
        """Sort the table by a column (see ``COLUMNS``); by default the other way than now, or
        newest / largest first for a new column."""
        if key not in dict(COLUMNS):
            raise ValueError(f"cannot sort by {key!r}; columns: {[k for k, _ in COLUMNS]}")
        if descending is None:
            descending = not self.descending if key == self.sort_key else key not in ("session_name", "who",
                                                                                       "user_id", "session_type")
        self.sort_key, self.descending = key, bool(descending)
        self.rows = self._sorted(self.rows)
        self.page = 0
        self._show()
        return self

    def _sorted(self, rows: pd.DataFrame) -> pd.DataFrame:
        if rows.empty:
            return rows.reset_index(drop=True)
        key = "n_failed" if self.sort_key == "status" else self.sort_key
        # missing values last, whichever the direction; ties by session id, so the order is stable
        out = rows.sort_values([key, "session_id"], ascending=[not self.descending, True], kind="stable",
                               na_position="last")
        return out.reset_index(drop=True)

    def _run_stats(self, ids: Sequence[str]) -> pd.DataFrame:
        """Per session: top-level runs' duration summed, failed runs, the first failure's error."""
        out = []
        for i in range(0, len(ids), _CHUNK):
            runs = self.explorer.runs(session_ids=list(ids[i:i + _CHUNK]))
            if runs.empty:
                continue
            runs = runs.sort_values(["session_id", "run_index"], kind="stable")
            for sid, r in runs.groupby("session_id", sort=False):
                top = r[r["parent_run_id"].isna()]
                bad = r[r["status"] == "ERROR"]
                err = ": ".join(h.split_error(bad["content"].iloc[0])) if len(bad) else None
                out.append({"session_id": sid, "duration": float(top["duration"].fillna(0).sum()),
                            "n_failed": len(bad), "error": err})
        return pd.DataFrame(out, columns=["session_id", "duration", "n_failed", "error"])

    def _sessions_saying(self, needle: str, ids: Sequence[str]) -> set:
        found: set = set()
        for i in range(0, len(ids), _CHUNK):
            msgs = self.explorer.messages(session_ids=list(ids[i:i + _CHUNK]))
            hit = msgs["content"].str.contains(needle, case=False, regex=False, na=False)
            found |= set(msgs.loc[hit, "session_id"])
        return found

    def _changed(self) -> None:
        if not self._quiet:
            self.refresh()

    # -- paging and opening ----------------------------------------------------------------------

    @property
    def n_pages(self) -> int:
        return max(1, -(-len(self.rows) // self.page_size))

    @property
    def page_rows(self) -> pd.DataFrame:
        """The sessions on the current page."""
        start = self.page * self.page_size
        return self.rows.iloc[start:start + self.page_size]

    def next_page(self) -> "Browse":
        return self.goto_page(self.page + 1)

    def prev_page(self) -> "Browse":
        return self.goto_page(self.page - 1)

    def goto_page(self, page: int) -> "Browse":
        self.page = max(0, min(page, self.n_pages - 1))
        self._show()
        return self

    def open_session(self, session_id: str, **kwargs: Any) -> Replay:
        """Open a session in a :class:`Replay` below the table (and return it)."""
        self.replay = Replay(self.explorer, session_id, **kwargs)
        self.detail.children = [self.replay]
        if session_id in [value for _, value in self.picker.options]:
            self._quiet = True  # the picker names the open session, however it was opened
            try:
                self.picker.value = session_id
            finally:
                self._quiet = False
        return self.replay

    def _picked(self, change: Dict[str, Any]) -> None:
        if change["new"] not in (None, NO_PICK) and not self._quiet:
            self.open_session(change["new"])

    # -- rendering -------------------------------------------------------------------------------

    def _show(self) -> None:
        self._fill_grid()
        self.page_label.value = f'<span style="{h.FONT}{h.TEXT}white-space:nowrap">{h.esc(self._page_text())}</span>'
        self.prev_page_button.disabled = self.page == 0
        self.next_page_button.disabled = self.page >= self.n_pages - 1
        self._quiet = True
        try:
            self.picker.options = [("(pick a session to replay)", NO_PICK)] + [
                (_pick_label(r), r.session_id) for r in self.page_rows.itertuples()]
            self.picker.value = NO_PICK
        finally:
            self._quiet = False

    def _fill_grid(self) -> None:
        for key, button in self.header_buttons.items():
            arrow = (" ▼" if self.descending else " ▲") if key == self.sort_key else ""
            button.description = dict(COLUMNS)[key] + arrow
        cells: List[widgets.Widget] = [widgets.HTML(f'<b style="{h.FONT}{h.TEXT}">session</b>')] if not hasattr(
            self, "_session_head") else [self._session_head]
        self._session_head = cells[0]
        cells += [self.header_buttons[k] for k, _ in COLUMNS[1:]]
        for r, row_widgets in zip(self.page_rows.itertuples(), self._row_widgets):
            button, *htmls = row_widgets
            button.description = short_id(r.session_id)
            button.tooltip = r.session_id
            for (key, _), cell in zip(COLUMNS[1:], htmls):
                cut = "overflow:hidden;text-overflow:ellipsis;" if key in _FLEXIBLE else ""
                cell.value = f'<div style="{h.FONT}{h.TEXT}white-space:nowrap;{cut}">{_cell(r, key)}</div>'
            cells += row_widgets
        self.grid.children = cells if not self.rows.empty else []
        self.empty.value = h.note("No sessions match these filters.") if self.rows.empty else ""

    @property
    def table(self) -> "widgets.HTML":
        """The current page as an HTML table (what the static view shows)."""
        return widgets.HTML(self._table_html())

    def _page_text(self) -> str:
        order = f"sorted by {dict(COLUMNS)[self.sort_key]} {'▼' if self.descending else '▲'}"
        return f"{len(self.rows)} sessions · page {self.page + 1}/{self.n_pages} · {order}"

    def _table_html(self) -> str:
        if self.rows.empty:
            return h.note("No sessions match these filters.")
        cells = [[id_html(r.session_id)]
                 + [_cell(r, key) for key, _ in COLUMNS[1:]] for r in self.page_rows.itertuples()]
        heads = [h.esc(t) + (" ▼" if self.descending else " ▲") * (k == self.sort_key) for k, t in COLUMNS]
        return h.table_html([t for _, t in COLUMNS], cells, header_cells=heads)

    def __repr__(self) -> str:
        return f"Browse({len(self.rows)} sessions, page {self.page + 1}/{self.n_pages})"

    def _static_identity(self) -> str:
        # the same in every run of a notebook (a database's path is not); a live browse
        # hides every browse copy on the page, and each of those has its live view too
        return "browse"

    def _repr_html_(self) -> str:
        active = {k: (str(v) if not isinstance(v, dt.date) else v.isoformat()) for k, v in self.filters.items()}
        if self.text.value:
            active["text"] = self.text.value
        if self.failed.value:
            active["failed"] = "yes"
        if self.awaiting.value:
            active["awaiting approval"] = "yes"
        summary = ", ".join(f"{k}={v}" for k, v in active.items()) or "none"
        return (f'<div class="agno-static" style="{h.FONT}{h.TEXT}">'
                f'{h.muted(h.esc(f"filters: {summary} · {self._page_text()}"))}{self._table_html()}</div>')


def _who(row: Any) -> str:
    kind = getattr(row, "session_type", None)
    value = getattr(row, f"{kind}_id", None) if kind in ("agent", "team", "workflow") else None
    return str(value) if h.present(value) else ""


def short_id(value: Any, keep: int = 14) -> str:
    """``3f2a9c1e…b7d0`` for a long id (the whole id goes in a tooltip); short ids stay whole."""
    text = str(value)
    return text if len(text) <= keep else text[:8] + "…" + text[-4:]


def id_html(value: Any, width: str = "9em") -> str:
    """An id cut to ``width`` by CSS, so the row stays one line: the whole id is in the tooltip
    and is what a copy picks up."""
    return (f'<span title="{h.esc(value)}" style="{h.MONO}display:inline-block;max-width:{width};overflow:hidden;'
            f'text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom">{h.esc(value)}</span>')


def _pick_label(r: Any) -> str:
    name = r.session_name if h.present(r.session_name) else "(no name)"
    return f"{name} · {_who(r)} · {h.fmt_time(r.created_at)[:16]} · {short_id(r.session_id)}"


def _cell(r: Any, key: str) -> str:
    """One cell of the table as HTML (escaped)."""
    value = getattr(r, key, None)
    if key == "created_at":
        return h.esc(h.fmt_time(value)[:16])
    if key in ("n_runs", "total_tokens"):
        return h.esc(h.fmt_int(value))
    if key == "duration":
        return h.esc(h.fmt_secs(value))
    if key == "session_name":
        text = str(value) if h.present(value) else ""
        return f'<span title="{h.esc(text)}">{h.esc(text if len(text) <= 40 else text[:39] + "…")}</span>'
    if key == "status":
        n_pending = int(getattr(r, "n_pending", 0) or 0)
        waiting = h.badge(f"{n_pending} awaiting approval", h.STATUS_COLORS["PAUSED"]) if n_pending else ""
        if not getattr(r, "n_failed", 0):
            return waiting or h.badge("OK", h.STATUS_COLORS["COMPLETED"])
        err = str(getattr(r, "error", "") or "")
        n = int(r.n_failed)
        label = "ERROR" if n == 1 else f"{n} ERRORS"
        return (waiting + h.badge(label, h.STATUS_COLORS["ERROR"])
                + f'<span title="{h.esc(err)}">{h.esc(err if len(err) <= 48 else err[:47] + "…")}</span>')
    return h.esc(value)


def _components(sessions: pd.DataFrame) -> List[Tuple[str, Tuple[str, str]]]:
    out = set()
    for kind in ("agent", "team", "workflow"):
        for cid in sessions[f"{kind}_id"].dropna():
            out.add((kind, str(cid)))
    return [(f"{cid} ({kind})", (kind, cid)) for kind, cid in sorted(out, key=lambda p: (p[1], p[0]))]


def _as_date(value: DateLike) -> Optional[dt.date]:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def browse(source: Any, **kwargs: Any) -> Browse:
    """A :class:`Browse` widget over every session of ``source`` (anything ``connect`` takes)."""
    return Browse(source, **kwargs)
