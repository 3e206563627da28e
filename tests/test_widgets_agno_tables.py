"""Replay and browse over what Agno 3.1 stores besides runs (issue 18, "Widgets show it"):
approvals at their paused step, compaction folds, a span waterfall per run, the exact context
of a model call from its LLM span, sessions awaiting approval; read once, and only where the
tables exist.

The database is the committed copy of the agno world (``scripts/agno_world.py``: real agno
3.1.10 wrote it), copied to a temporary folder: the widgets never write to it, but a test
must not be able to change a committed file.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pytest

import _trips
from agno_nb.analysis import connect
from agno_nb.db.sqlite import SqliteDb
from agno_nb.widgets import Replay, browse, replay

WORLD = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "agno-3.1-everything.db"


@pytest.fixture(scope="module")
def ex(tmp_path_factory):
    path = tmp_path_factory.mktemp("world") / "agno.db"
    shutil.copy(WORLD, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fake-model has no price
        yield connect(str(path))


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A database agno_nb wrote, without Agno 3.1's other tables."""
    path = tmp_path_factory.mktemp("plain") / "plain.db"
    _trips.three_trips(SqliteDb(db_file=str(path)))
    return connect(str(path))


def text(markup: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup))


def step_with_tool_call(r: Replay) -> int:
    return next(i for i in range(r.n_steps) if (r.goto(i).current_message or {}).get("tool_calls"))


# -- 1. approvals ---------------------------------------------------------------------------

@pytest.mark.parametrize("session, decision, who", [("approval_approved", "approved", "carol"),
                                                    ("approval_rejected", "rejected", "carol")])
def test_approval_shows_at_its_paused_step_with_who_and_when(ex, session, decision, who):
    r = replay(ex, session)
    i = step_with_tool_call(r)
    body = r.body.value
    assert body.count('class="agno-approval') == 1
    # after the assistant message whose tool call it paused, not elsewhere
    assert body.index("agno-approval") > body.index("book_trip(…)")
    shown = text(body)
    assert f"{decision} by {who} at 2026-" in shown
    # Agno stores the times to the second: a decision within it is not "0 µs"
    assert "time to decision under 1 s" in shown and "0 µs" not in shown
    assert "book_trip(&quot;city&quot;: &quot;Paris&quot;)" in body  # the arguments, escaped
    r.goto(i - 1)
    assert "agno-approval" not in r.body.value  # not before its step
    assert [a["decision"] for a in r.approvals] == [decision]


def test_pending_approval_is_marked_awaiting(ex):
    r = replay(ex, "approval_pending")
    step_with_tool_call(r)
    assert 'class="agno-approval agno-approval-pending"' in r.body.value
    shown = text(r.body.value)
    assert "awaiting approval" in shown and "no decision stored yet" in shown
    # and at the top, live and static: the session is waiting on someone
    top = text(r.children[0].value)
    assert "1 awaiting approval Also stored: 1 approval · 2 spans" in top
    assert "1 awaiting approval" in text(r._repr_html_())
    assert " by " not in shown.split("awaiting approval")[1]  # nobody decided: no name is made up


def test_audit_approval_without_a_call_id_is_placed_by_tool_name(ex):
    r = replay(ex, "approval_audit")
    step_with_tool_call(r)
    assert "audit approval" in text(r.body.value) and "cancel_booking" in r.body.value
    assert "by (not recorded)" in text(r.body.value)  # Agno stores no resolver for an audit record


# -- 1. compaction --------------------------------------------------------------------------

def test_compaction_fold_at_the_run_that_compacted_and_before_the_first_kept_message(ex):
    r = replay(ex, "compaction")
    folds = ex.compactions(session_ids=["compaction"])
    big = folds.loc[folds["messages_compacted"].idxmax()]
    r.goto_run(big["run_id"])
    header = r.header.value
    assert "agno-compaction" in header
    assert f"{big['messages_compacted']} messages compacted" in text(header)
    assert f"tokens {big['tokens_before']} → {big['tokens_after']}" in text(header)
    # the summary is there, collapsed
    summary = re.search(r'<details class="agno-compaction-summary"[^>]*>', header).group(0)
    assert " open" not in summary and "the summary the model sees instead" in header
    # the marker sits right before the first message the fold kept
    kept = ex.messages(session_ids=["compaction"]).set_index("message_id").loc[big["first_kept_message_id"]]
    pos = next(i for i in range(r.n_steps) if (r.goto(i).current_message or {}).get("message_id")
               == big["first_kept_message_id"])
    body = r.goto(pos).body.value
    assert body.index("agno-fold") < body.index("agno-current")
    made_in = [n for n, node in enumerate(r.data.runs) if node.run_id == big["run_id"]][0]
    assert f"compaction (made in run {made_in + 1}/{len(r.data.runs)}): 6 messages above this one" in text(body)
    assert kept["role"] == "user"
    r.goto(pos - 1)
    assert "agno-fold" not in r.body.value.split("agno-current")[1]


# -- 1. span waterfall ----------------------------------------------------------------------

def test_waterfall_per_run_nests_spans_and_includes_the_continued_part(ex):
    r = replay(ex, "approval_approved")
    spans = ex.spans(session_ids=["approval_approved"])
    assert spans["trace_id"].nunique() == 2  # the paused run and its continue_run
    header = r.header.value
    assert header.count('class="agno-span"') == len(spans)
    assert "in 2 traces (the run was continued)" in text(header)
    assert "Booker.continue_run" in header and "tool book_trip" in header
    assert re.search(r'data-kind="tool".*?padding-left:1em', header)  # nested under continue_run
    lefts = [float(x) for x in re.findall(r"left:([\d.]+)%", header)]
    assert min(lefts) == 0.0 and max(lefts) > 50  # bars start where their span started
    assert "model call fake-model" in header and " in · " in text(header)  # tokens of a model call
    assert "&lt; 1 ms" in header and "0 µs" not in header  # spans store whole milliseconds


def test_no_waterfall_approval_or_fold_without_those_tables(plain):
    r = replay(plain, "trip-concise")
    html = r._repr_html_() + r.header.value
    for cls in ("agno-waterfall", "agno-approval", "agno-compaction", "agno-fold"):
        assert cls not in html


# -- 2. context the model saw ---------------------------------------------------------------

def test_context_comes_from_the_llm_span_where_there_is_one(ex):
    r = replay(ex, "tools")
    i = next(i for i in range(r.n_steps) if (r.goto(i).current_message or {}).get("role") == "tool")
    r.show_context = True
    ctx = text(r.context.value)
    assert "from the trace (exact)" in ctx and "reconstructed" not in ctx
    spans = ex.spans(session_ids=["tools"])
    run_id = r.current_run["run_id"]
    n_llm = int(((spans["run_id"] == run_id) & (spans["span_kind"] == "LLM")).sum())
    assert f"model call 2 of {n_llm} in this run" in ctx
    sent = r.exact_context
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert f"it was sent {len(sent)} messages (1 system, 1 user, 1 assistant, 1 tool)" in ctx
    # the system prompt is not among the run's stored messages before the tool result: it came from the span
    assert sent[0]["content"][:40] in r.context.value.replace("&#x27;", "'")
    assert i >= 0


def test_context_without_a_span_stays_reconstructed_and_claims_no_history_count(plain):
    r = replay(plain, "trip-concise").goto(2)
    r.show_context = True
    ctx = text(r.context.value)
    assert r.exact_context is None
    assert "reconstructed" in ctx and "exact" not in ctx and "from history" not in ctx


# -- 3. browse --------------------------------------------------------------------------------

def test_browse_filters_sessions_awaiting_approval_with_a_count(ex):
    b = browse(ex)
    assert b.awaiting.description == "Only awaiting approval (1 session)"
    assert "approval_pending" in set(b.page_rows["session_id"]) and "1 awaiting approval" in b._table_html()
    b.set_filters(awaiting=True)
    assert list(b.rows["session_id"]) == ["approval_pending"]
    assert "1 awaiting approval" in text(b._table_html()) and "awaiting approval=yes" in text(b._repr_html_())
    b.set_filters(awaiting=False)
    assert len(b.rows) > 1


def test_browse_without_approvals_table(plain):
    b = browse(plain)
    assert b.awaiting.description == "Only awaiting approval" and b.pending == {}
    assert b.set_filters(awaiting=True).rows.empty


# -- 4. static copy ---------------------------------------------------------------------------

def test_static_view_shows_approval_fold_and_waterfall(ex):
    html = replay(ex, "approval_approved")._repr_html_() + replay(ex, "compaction")._repr_html_()
    for cls in ("agno-approval", "agno-compaction", "agno-fold", "agno-waterfall"):
        assert f'class="{cls}' in html
    assert "<script" not in html and "var(--jp-" in html  # theme colours, no script needed


# -- 5. cost ----------------------------------------------------------------------------------

class Counting:
    """An explorer that counts its reads of Agno's other tables."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def stored(self, name, **kw):
        self.calls.append(name)
        return self.inner.stored(name, **kw)


@pytest.mark.parametrize("which, expected", [("ex", ["approvals", "compactions", "spans"]), ("plain", [])])
def test_read_once_per_replay_and_not_at_all_without_the_tables(request, which, expected, monkeypatch):
    counting = Counting(request.getfixturevalue(which))
    monkeypatch.setattr("agno_nb.analysis.connect", lambda source, **kw: source)
    r = Replay(counting, "compaction" if which == "ex" else "trip-concise")
    assert sorted(counting.calls) == expected
    r.show_context = True
    for i in range(r.n_steps):
        r.goto(i)
    r._repr_html_()
    assert sorted(counting.calls) == expected  # stepping reads nothing more


# -- the same on PostgreSQL -------------------------------------------------------------------

def test_replay_on_the_postgres_world_shows_approval_fold_waterfall_and_exact_context(agno_world_pg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg = connect(agno_world_pg.source, db_schema=agno_world_pg.schema)
        sessions = agno_world_pg.manifest["sessions"]
        r = replay(pg, sessions["approval_pending"])
        step_with_tool_call(r)
        assert "agno-approval-pending" in r.body.value and "agno-waterfall" in r.header.value
        folded = replay(pg, sessions["compaction"])._repr_html_()
        assert 'class="agno-compaction' in folded and 'class="agno-fold' in folded
        traced = replay(pg, sessions["tools"]).goto(3)
        traced.show_context = True
        assert "from the trace (exact)" in traced.context.value
        assert browse(pg).set_filters(awaiting=True).rows["session_id"].tolist() == [sessions["approval_pending"]]
