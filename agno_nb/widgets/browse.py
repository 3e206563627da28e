"""``browse(source)``: filter sessions, page through them, open one in a replay."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import ipywidgets as widgets
import pandas as pd

from . import html as h
from .base import StaticView
from .replay import Replay

PAGE_SIZE = 20
_ALL = "(all)"
_CHUNK = 500  # session ids per messages() call: keeps the pushed-down IN list small
_UNSET = object()

DateLike = Union[None, str, dt.date, dt.datetime]


class Browse(StaticView, widgets.VBox):
    """Filters over the sessions, a paged table of the ones that match, and a replay.

    Filters: component (agent, team or workflow), user, session type, a date range on
    the session's start (both ends inclusive, UTC days) and a text searched in message
    content (case-insensitive). All but the text search are pushed down to the
    database. From Python: :meth:`set_filters`, :attr:`rows` (every match),
    :attr:`page_rows`, :meth:`next_page`, :meth:`prev_page`, :meth:`open_session`.
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
        everything = self.explorer.sessions()
        self.agent = widgets.Dropdown(options=[(_ALL, None)] + _components(everything), description="Agent")
        users = sorted({u for u in everything["user_id"].dropna()})
        self.user = widgets.Dropdown(options=[(_ALL, None)] + [(u, u) for u in users], description="User")
        self.session_type = widgets.Dropdown(options=[(_ALL, None), ("agent", "agent"), ("team", "team"),
                                                      ("workflow", "workflow")], description="Type")
        self.since = widgets.DatePicker(description="From")
        self.until = widgets.DatePicker(description="To")
        self.text = widgets.Text(placeholder="search message text", description="Search", continuous_update=False)
        self.table = widgets.HTML()
        self.prev_page_button = widgets.Button(description="◀ Prev page", layout=widgets.Layout(width="110px"))
        self.next_page_button = widgets.Button(description="Next page ▶", layout=widgets.Layout(width="110px"))
        self.page_label = widgets.HTML()
        self.picker = widgets.Dropdown(options=[("(pick a session to replay)", None)], description="Open",
                                       layout=widgets.Layout(width="480px"))
        self.detail = widgets.VBox()
        for w in (self.agent, self.user, self.session_type, self.since, self.until, self.text):
            w.observe(lambda _: self._changed(), names="value")
        self.prev_page_button.on_click(lambda _: self.prev_page())
        self.next_page_button.on_click(lambda _: self.next_page())
        self.picker.observe(self._picked, names="value")
        self.children = [
            widgets.HBox([self.agent, self.user, self.session_type]),
            widgets.HBox([self.since, self.until, self.text]),
            self.table,
            widgets.HBox([self.prev_page_button, self.page_label, self.next_page_button, self.picker]),
            self.detail,
        ]
        self.add_class("agno-browse")  # a hook for CSS and browser tests
        self.refresh()

    # -- filters, from Python --------------------------------------------------------------------

    def set_filters(self, *, agent: Any = _UNSET, user: Any = _UNSET, session_type: Any = _UNSET,
                    since: Any = _UNSET, until: Any = _UNSET, text: Any = _UNSET) -> "Browse":
        """Set any of the filters (None clears one) and reload the table once.

        ``agent`` is an agent, team or workflow id (or ``(kind, id)``); ``since`` and
        ``until`` are dates (or ISO strings), both inclusive.
        """
        self._quiet = True
        try:
            if agent is not _UNSET:
                self.agent.value = self._component(agent)
            if user is not _UNSET:
                self.user.value = user
            if session_type is not _UNSET:
                self.session_type.value = session_type
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

    def _component(self, agent: Any) -> Optional[Tuple[str, str]]:
        if agent is None or isinstance(agent, tuple):
            return agent
        for _, value in self.agent.options:
            if value is not None and value[1] == agent:
                return value
        raise LookupError(f"no agent, team or workflow {agent!r}; known: {[v[1] for _, v in self.agent.options if v]}")

    @property
    def filters(self) -> Dict[str, Any]:
        """The filters as ``SessionExplorer`` keyword arguments (text search not included)."""
        f: Dict[str, Any] = {}
        if self.agent.value is not None:
            kind, cid = self.agent.value
            f[f"{kind}_id"] = cid
        if self.user.value is not None:
            f["user_id"] = self.user.value
        if self.session_type.value is not None:
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
        sort = rows.sort_values(["created_at", "session_id"], ascending=[False, True], kind="stable")
        self.rows = sort.reset_index(drop=True)
        self.page = 0
        self._show()
        return self

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
        return self.replay

    def _picked(self, change: Dict[str, Any]) -> None:
        if change["new"] is not None and not self._quiet:
            self.open_session(change["new"])

    # -- rendering -------------------------------------------------------------------------------

    def _show(self) -> None:
        self.table.value = self._table_html()
        self.page_label.value = f'<span style="{h.FONT}">{h.esc(self._page_text())}</span>'
        self.prev_page_button.disabled = self.page == 0
        self.next_page_button.disabled = self.page >= self.n_pages - 1
        self._quiet = True
        try:
            self.picker.options = [("(pick a session to replay)", None)] + [
                (f"{r.session_id} · {_who(r)} · {h.fmt_time(r.created_at)}", r.session_id)
                for r in self.page_rows.itertuples()]
            self.picker.value = None
        finally:
            self._quiet = False

    def _page_text(self) -> str:
        return f"{len(self.rows)} sessions · page {self.page + 1}/{self.n_pages}"

    def _table_html(self) -> str:
        if self.rows.empty:
            return h.note("No sessions match these filters.")
        cells = [[h.esc(r.session_id), h.esc(r.session_type), h.esc(_who(r)), h.esc(r.user_id),
                  h.esc(r.session_name), h.esc(h.fmt_time(r.created_at)), h.esc(h.fmt_int(r.n_runs)),
                  h.esc(h.fmt_int(r.total_tokens))] for r in self.page_rows.itertuples()]
        return h.table_html(["session", "type", "agent / team / workflow", "user", "name", "started", "runs",
                             "tokens"], cells)

    def __repr__(self) -> str:
        return f"Browse({len(self.rows)} sessions, page {self.page + 1}/{self.n_pages})"

    def _repr_html_(self) -> str:
        active = {k: (str(v) if not isinstance(v, dt.date) else v.isoformat()) for k, v in self.filters.items()}
        if self.text.value:
            active["text"] = self.text.value
        summary = ", ".join(f"{k}={v}" for k, v in active.items()) or "none"
        return (f'<div style="{h.FONT}{h.TEXT}">{h.muted(h.esc(f"filters: {summary} · {self._page_text()}"))}'
                f'{self._table_html()}</div>')


def _who(row: Any) -> str:
    kind = getattr(row, "session_type", None)
    value = getattr(row, f"{kind}_id", None) if kind in ("agent", "team", "workflow") else None
    return str(value) if h.present(value) else ""


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
