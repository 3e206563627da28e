"""The widgets driven from Python: replay, compare, browse, escaping, static views, speed."""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from html.parser import HTMLParser

import ipywidgets as widgets
import pytest

import agno_nb
from agno_nb import Agent, Step, Team, Workflow
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel, ScriptedModel, tool_call
from agno_nb.widgets import Browse, Compare, Replay, browse, compare, replay
from agno_nb.widgets.diff import align, first_divergence, inline_diff, word_diff
from agno_nb.widgets.browse import CUT_CSS
from agno_nb.widgets.keys import HINT_CSS

from conftest import FIXTURES
from _helpers import get_weather

DAY1 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc).timestamp()
DAY2 = dt.datetime(2026, 3, 5, 12, tzinfo=dt.timezone.utc).timestamp()
DAY3 = dt.datetime(2026, 3, 9, 12, tzinfo=dt.timezone.utc).timestamp()

HOSTILE = ('<script>alert(1)</script> <img src=x onerror=alert(1)> '
           '<a href="javascript:alert(1)">click</a> javascript:alert(1) </div></div>')
# compare's chart: inline SVG (themed); session labels in it are escaped text, so no "</svg>" inside
CHART = re.compile(r'<svg class="agno-chart" role="img" aria-label="metrics per session" [^>]*>.*?</svg>', re.S)


def hostile_tool(q: str) -> str:
    """Returns something nasty."""
    return HOSTILE + " for " + q


def flaky(q: str) -> str:
    """Always fails."""
    raise RuntimeError("tool broke")


def at(monkeypatch, ts: float):
    """Make the runtime stamp ``ts`` as the current time."""
    monkeypatch.setattr(time, "time", lambda: ts)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    """One SQLite file with every kind of session the tests need, written by the real runtime."""
    path = str(tmp_path_factory.mktemp("widgets") / "agno.db")
    db = SqliteDb(db_file=path)
    mp = pytest.MonkeyPatch()
    try:
        at(mp, DAY1)
        weather = Agent(name="Weather", id="weather", db=db, tools=[get_weather], instructions=["Be brief."],
                        add_history_to_context=True,
                        model=ScriptedModel([tool_call("get_weather", {"city": "Oslo"}), "It is sunny.",
                                             tool_call("get_weather", {"city": "Atlantis"}), "Sorry, no idea."]))
        weather.run("Weather in Oslo?", session_id="s1", user_id="alice")
        weather.run("And in Atlantis?", session_id="s1", user_id="alice")

        at(mp, DAY2)
        researcher = Agent(name="Researcher", id="researcher", model=EchoModel())
        writer = Agent(name="Writer", id="writer", model=ScriptedModel(["A fine summary."]))
        leader = ScriptedModel([
            [tool_call("delegate_task_to_member", {"member_id": "researcher", "task": "find facts"}),
             tool_call("delegate_task_to_member", {"member_id": "writer", "task": "write it up"})],
            "Here is the report."])
        Team(name="Crew", id="crew", model=leader, members=[researcher, writer], db=db).run(
            "Report on owls", session_id="t1", user_id="bob")

        drafter = Agent(name="Drafter", id="drafter", model=EchoModel(prefix="Draft: "))
        editors = Team(name="Editors", id="editors", members=[Agent(id="ed", model=EchoModel())],
                       model=ScriptedModel([tool_call("delegate_task_to_member", {"member_id": "ed", "task": "edit"}),
                                            "Edited."]))
        Workflow(name="Blog", id="blog", db=db, steps=[drafter, Step("shout", str.upper), editors]).run(
            "owls", session_id="w1", user_id="carol")

        at(mp, DAY3)
        questions = ["What is 2+2?", "Capital of France?", "Best pet?", "Say bye."]
        same = ["4.", "Paris.", "A cat, clearly.", "Bye!"]
        a = Agent(name="Quiz A", id="quiz-a", db=db, model=ScriptedModel(same))
        b = Agent(name="Quiz B", id="quiz-b", db=db, tools=[flaky],
                  model=ScriptedModel(["4.", "Paris.", tool_call("flaky", {"q": "pets"}), "A dog, surely.", "Bye!"]))
        twin = Agent(name="Quiz A", id="quiz-a", db=db, model=ScriptedModel(same))
        for q in questions:
            a.run(q, session_id="c1", user_id="dave")
            b.run(q, session_id="c2", user_id="dave")
            twin.run(q, session_id="c3", user_id="dave")

        evil = Agent(name="Evil", id='evil"><script>alert(1)</script>', db=db, tools=[hostile_tool],
                     model=ScriptedModel([tool_call("hostile_tool", {"q": HOSTILE}), HOSTILE, HOSTILE]))
        evil.run(HOSTILE, session_id="x1", user_id="<b>mallory</b>")
        evil.run("again " + HOSTILE, session_id="x1", user_id="<b>mallory</b>")
        evil.rename_session("x1", HOSTILE)
    finally:
        mp.undo()
    return path


@pytest.fixture(scope="module")
def ex(db_path):
    return agno_nb.connect(db_path)


def html_values(widget) -> list:
    """Every HTML string a live widget tree holds."""
    out = []
    if isinstance(widget, (widgets.HTML, widgets.HTMLMath)):
        out.append(widget.value)
    for child in getattr(widget, "children", ()):
        out += html_values(child)
    return out


# -- replay -----------------------------------------------------------------------------------

def test_replay_steps_through_messages(ex):
    r = replay(ex, "s1")
    assert isinstance(r, widgets.VBox) and isinstance(r, Replay)
    assert r.position == 0 and r.current_message["role"] == "system"
    shown = r.body.value
    r.next()
    assert r.position == 1 and r.current_message["role"] == "user"
    assert r.current_message["content"] == "Weather in Oslo?"
    assert r.body.value != shown and "Weather in Oslo?" in r.body.value
    # the first run's own messages, then the second run's (history copies are not steps)
    assert r.n_steps == 10
    r.goto(r.n_steps - 1)
    assert r.position == 9 and r.current_message["content"] == "Sorry, no idea."
    assert "Sorry, no idea." in r.body.value
    assert repr(r) == "Replay(session_id='s1', run 2/2, message 5/5)"
    r.goto(999)
    assert r.position == 9
    r.goto(-10)
    assert r.position == 0


def test_replay_controls_stay_in_sync(ex):
    r = replay(ex, "s1")
    r.play.value = 3  # what the Play widget does while it plays
    assert r.slider.value == 3 and r.position == 3 and r.current_message["role"] == "tool"
    r.slider.value = 2
    assert r.play.value == 2 and r.current_message["role"] == "assistant"
    r.prev()
    assert r.position == 1 and r.play.value == 1 and r.slider.value == 1
    r.next_button.click()
    assert r.position == 2 and r.play.value == 2
    r.prev_button.click()
    r.prev_button.click()
    assert r.position == 0
    r.prev_button.click()
    assert r.position == 0
    assert r.play.max == r.slider.max == r.n_steps - 1
    r.run_dropdown.value = 1  # jump to the second run
    assert r.position == 5 and r.current_message["content"] == "- Be brief."
    assert r.current_run["input"] == "And in Atlantis?"
    r.goto(2)
    assert r.run_dropdown.value == 0
    assert "run 1/2, message 3/5" in r.counter.value


def test_replay_styles_roles_tools_tokens_and_header(ex):
    r = replay(ex, "s1")
    r.goto(2)  # the assistant's tool call
    body = r.body.value
    for role in ("system", "user", "assistant"):
        assert f">{role}</span>" in body
    assert "get_weather" in body and html.escape('"city": "Oslo"') in body
    assert "\n  " + html.escape('"city"') in body  # pretty-printed, indented JSON
    # the result is shown once, as the tool message (step 4), not inline under the call
    assert "Sunny in Oslo, 21C" not in body and ">ok</span>" in body
    assert re.search(r"took \d+(\.\d+)? (µs|ms|s) · result in the tool message", body)
    assert "tokens" in body and "latency" in body
    assert "#15803d" in body and "#1d4ed8" in body  # assistant and user look different
    r.goto(3)
    assert r.body.value.count("Sunny in Oslo, 21C") == 1
    header = r.header.value
    assert "agent weather" in header and "COMPLETED" in header and "model scripted (agno_nb)" in header
    assert re.search(r"tokens \d+ in · \d+ out · \d+ total", header)
    r.goto(8)  # the failed tool call in run 2
    assert r.current_message["role"] == "tool"
    assert ">error</span>" in r.body.value and "no such city" in r.body.value
    assert "#b91c1c" in r.body.value


def test_replay_context_toggle_shows_history(ex):
    r = replay(ex, "s1")
    r.goto(6)  # run 2's user message
    assert r.current_message["content"] == "And in Atlantis?"
    assert r.context.layout.display == "none"
    r.context_toggle.value = True
    assert r.show_context and r.context.layout.display is None
    ctx = r.context.value
    assert "from history" in ctx and "Weather in Oslo?" in ctx and "It is sunny." in ctx
    assert "5 message(s) — 1 system, 4 from history, 0 earlier in this run" in ctx
    assert [m["from_history"] for m in r.context_messages] == [False, True, True, True, True]
    r.next()  # the context grows with the run
    assert "6 message(s) — 1 system, 4 from history, 1 earlier in this run" in r.context.value
    r.show_context = False
    assert r.context.layout.display == "none"


def test_replay_nests_team_member_runs(ex):
    r = replay(ex, "t1")
    (root,) = r.data.roots
    assert root.run["run_type"] == "team"
    assert [c.run["agent_id"] for c in root.children] == ["researcher", "writer"]
    assert "Member runs" in r.header.value and "agent researcher" in r.header.value
    assert "Echo: find facts" in r.header.value
    labels = [label for label, _ in r.run_dropdown.options]
    assert labels[0].startswith("1. team crew") and "↳ agent researcher" in labels[1]
    r.goto_run(root.children[1].run_id)
    assert r.current_run["agent_id"] == "writer" and "team crew ›" in r.header.value
    assert "margin-left:16px" in r.header.value  # drawn indented under the team run
    static = r._repr_html_()
    assert static.index("team crew") < static.index("agent researcher") < static.index("A fine summary.")


def test_replay_shows_workflow_steps(ex):
    r = replay(ex, "w1")
    assert r.current_run["run_type"] == "workflow" and r.current_message is None
    header = r.header.value
    assert "Workflow steps" in header
    for text in ("Drafter", "shout", "function", "DRAFT: OWLS", "Editors", "Edited."):
        assert text in header
    assert "Step runs" in header and "agent drafter" in header and "team editors" in header
    assert [n.run.get("agent_id") or n.run.get("team_id") for n in r.data.runs[1:]] == ["drafter", "editors", "ed"]
    assert [n.depth for n in r.data.runs] == [0, 1, 1, 2]
    r.next()
    assert r.current_run["agent_id"] == "drafter" and r.current_message["content"] == "owls"
    assert "workflow blog ›" in r.header.value


def test_replay_starts_at_run_id_and_reads_agno_fixture():
    ex = agno_nb.connect(str(FIXTURES / "agno-3.1-sqlite.db"))
    runs = ex.runs(session_ids=["lit-0"])
    third = runs.loc[runs["run_index"] == 2, "run_id"].item()
    r = replay(ex, "lit-0", run_id=third)
    assert r.current_run["run_id"] == third and repr(r) == "Replay(session_id='lit-0', run 3/3, message 1/2)"
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in r.body.value
    assert "<script" not in r.body.value and "<b>bold" not in r.body.value
    with pytest.raises(LookupError, match="no run"):
        replay(ex, "lit-0", run_id="nope")
    with pytest.raises(LookupError, match="no session"):
        replay(ex, "nope")


# -- compare ----------------------------------------------------------------------------------

def test_compare_marks_divergence_and_reports_metrics(ex):
    c = compare(ex, session_ids=["c1", "c2"])
    assert isinstance(c, widgets.VBox) and isinstance(c, Compare)
    assert len(c.turns) == 4 and c.divergence == 2
    assert [row[0]["input"] == row[1]["input"] for row in c.turns] == [True] * 4
    table = c.table.value
    assert table.count("first divergence") == 1
    rows = table.split("<tr")
    assert "first divergence" in rows[4] and "Best pet?" in rows[4]  # header, then turns 1..3
    tint = "background:rgba(220,38,38,0.12)"
    assert tint in rows[4] and tint not in rows[2] + rows[3]
    assert re.search(r"<mark[^>]*>cat,</mark>", table) and re.search(r"<mark[^>]*>dog,</mark>", table)
    assert not re.search(r"<mark[^>]*>A</mark>", table)  # equal words stay plain
    m = c.metrics.set_index("session_id")
    assert list(m["turns"]) == [4, 4]
    assert list(m["tool_calls"]) == [0, 1] and list(m["errors"]) == [0, 1]
    assert (m["total_tokens"] > 0).all() and m.loc["c2", "total_tokens"] > m.loc["c1", "total_tokens"]
    assert (m["latency"] > 0).all()
    assert "Metrics per session" in c._repr_html_() and CHART.search(c._repr_html_())
    assert repr(c) == "Compare(session_ids=['c1', 'c2'], turns=4, divergence=2 (turn 3))"
    assert c.divergence == 2
    c.only_diffs.value = True
    assert "Capital of France?" not in c.table.value and "Best pet?" in c.table.value


def test_compare_identical_sessions_and_limits(ex):
    c = compare(ex, session_ids=["c1", "c3"], chart=False)
    assert c.divergence is None and "never differ" in c._repr_html_()
    assert "<svg" not in c._repr_html_()
    three = compare(ex, session_ids=["c1", "c3", "c2"])
    assert three.divergence == 2 and len(three.metrics) == 3
    with pytest.raises(ValueError, match="2 to 4"):
        compare(ex, session_ids=["c1"])
    with pytest.raises(LookupError, match="nope"):
        compare(ex, session_ids=["c1", "nope"])


def test_compare_without_matplotlib(ex, monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    c = compare(ex, session_ids=["c1", "c2"])
    assert c.divergence == 2 and "Metrics per session" in c._repr_html_()
    assert CHART.search(c._repr_html_())  # the chart is SVG markup: no plotting library needed


def test_alignment_by_input_and_word_diff():
    a = [{"input": q, "content": q.upper()} for q in ("one", "two", "three")]
    b = [{"input": q, "content": q.upper()} for q in ("one", "extra", "two", "three")]
    rows = align([a, b])
    assert [[c and c["input"] for c in row] for row in rows] == [
        ["one", "one"], [None, "extra"], ["two", "two"], ["three", "three"]]
    assert first_divergence(rows) == 1
    assert first_divergence(align([a, a])) is None
    left, right = word_diff("a <b> cat", "a <b> dog")
    assert "&lt;b&gt;" in left and "<mark" in left and "cat" in left and "dog" in right


def test_a_changed_word_keeps_a_space_from_its_neighbours():
    """Struck-out and added words never run together into one (04 showed "~~Tokyo,~~Tokyo")."""
    def words(markup: str) -> str:  # what a reader sees: the text with the marks' edges as spaces
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "|", markup).replace("|", " ")).strip()

    base = "In Tokyo, Shinjuku has rooms (3 nights). Stay dry."
    other = "In Tokyo it is 21C and overcast."
    shown = inline_diff(base, other)
    assert re.sub(r"<[^>]+>", "", shown).split() == [w for w in words(shown).split()]
    for glued in ("Tokyo,Tokyo", "nights).overcast", "Shinjukuit"):
        assert glued not in re.sub(r"<[^>]+>", "", shown), shown
    left, right = word_diff(base, other)
    for markup in (left, right):
        assert re.sub(r"<[^>]+>", "", markup).split() == words(markup).split(), markup
    assert inline_diff("same words", "same words") == "same words"


# -- browse -----------------------------------------------------------------------------------

def test_browse_filters_narrow_the_table(ex):
    b = browse(ex)
    assert isinstance(b, widgets.VBox) and isinstance(b, Browse)
    everything = set(b.rows["session_id"])
    assert everything == {"s1", "t1", "w1", "c1", "c2", "c3", "x1"}
    assert "<table" in b.table.value and "s1" in b.table.value
    b.set_filters(agent="quiz-a")
    assert set(b.rows["session_id"]) == {"c1", "c3"} and "s1" not in b.table.value
    b.set_filters(agent="crew")
    assert list(b.rows["session_id"]) == ["t1"]
    b.set_filters(agent=None, user="alice")
    assert list(b.rows["session_id"]) == ["s1"]
    b.set_filters(user=None, session_type="workflow")
    assert list(b.rows["session_id"]) == ["w1"]
    b.set_filters(session_type=None, text="atlantis")  # case-insensitive, any message
    assert list(b.rows["session_id"]) == ["s1"]
    b.set_filters(text="DOG, surely")
    assert list(b.rows["session_id"]) == ["c2"]
    b.set_filters(text=None, since="2026-03-05", until="2026-03-05")
    assert set(b.rows["session_id"]) == {"t1", "w1"}
    b.set_filters(since=dt.date(2026, 3, 6), until=None)
    assert set(b.rows["session_id"]) == {"c1", "c2", "c3", "x1"}
    b.set_filters(since=None, until="2026-03-01")
    assert list(b.rows["session_id"]) == ["s1"]
    b.set_filters(until=None)
    assert set(b.rows["session_id"]) == everything
    b.user.value = "dave"  # the dropdown itself reloads the table
    assert set(b.rows["session_id"]) == {"c1", "c2", "c3"} and repr(b) == "Browse(3 sessions, page 1/1)"
    b.user.value = None
    b.text.value = "zzz-nothing"
    assert b.rows.empty and "No sessions match" in b.table.value


def test_browse_pages_and_opens_replay(tmp_path, monkeypatch):
    db = SqliteDb(db_file=str(tmp_path / "many.db"))
    agent = Agent(id="echo", db=db, model=EchoModel())
    for i in range(25):
        at(monkeypatch, DAY1 + i * 60)
        agent.run(f"hello {i}", session_id=f"s{i:02d}", user_id="u")
    monkeypatch.undo()
    b = browse(str(tmp_path / "many.db"))
    assert len(b.rows) == 25 and b.n_pages == 2 and len(b.page_rows) == 20
    assert list(b.page_rows["session_id"])[:2] == ["s24", "s23"]  # newest first
    assert b.prev_page_button.disabled and not b.next_page_button.disabled
    first_page = b.table.value
    b.next_page_button.click()
    assert b.page == 1 and len(b.page_rows) == 5 and b.table.value != first_page
    assert "s00" in b.table.value and "s24" not in b.table.value
    assert repr(b) == "Browse(25 sessions, page 2/2)" and b.next_page_button.disabled
    b.next_page()
    assert b.page == 1
    b.prev_page()
    assert b.page == 0
    assert [v for _, v in b.picker.options][1:] == list(b.page_rows["session_id"])
    b.picker.value = "s07"
    assert isinstance(b.replay, Replay) and b.replay.session_id == "s07"
    assert b.detail.children == (b.replay,)
    assert "hello 7" in b.replay.header.value
    # a click on a row's id opens it, and the picker then names that session, not "(pick …)"
    other = b.page_rows["session_id"].iloc[-1]
    assert other != "s07"
    next(w for w in b._row_widgets if w[0].tooltip == other)[0].click()
    assert b.replay.session_id == other and b.picker.value == other
    assert len(b.detail.children) == 1


# -- untrusted content ------------------------------------------------------------------------

class _Audit(HTMLParser):
    """Collects what a browser would act on: tags, event handlers, link targets, div nesting."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "a", "form", "base", "link", "meta", "style", "svg"):
            self.problems.append(f"<{tag}> element")
        if tag == "img":
            self.problems.append("<img> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= handler")
            if name in ("href", "src", "action", "formaction") and "javascript:" in (value or "").lower():
                self.problems.append(f"javascript: in {name}")
        if tag == "div":
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "div":
            self.depth -= 1
            if self.depth < 0:
                self.problems.append("</div> closes a div it did not open")


# the one <style> the widgets write: it hides a static copy where the live view is drawn
OUR_STYLE = re.compile(r"<style>\.agno-static-copy\.agno-k-[0-9a-f]{12}\{display:none !important\}</style>")
# and the replay's: its key hint shows once the keys' script runs
KEYS_STYLE = f"<style>{HINT_CSS}</style>"
# and browse's: its long names and errors are cut with an ellipsis


def assert_safe(markup: str) -> None:
    markup = CHART.sub("", OUR_STYLE.sub("", markup).replace(KEYS_STYLE, "").replace(CUT_CSS, ""))  # the chart: its own test
    audit = _Audit()
    audit.feed(markup)
    audit.close()
    assert audit.problems == [], audit.problems
    assert audit.depth == 0, "unbalanced <div>"
    stripped = markup
    for raw in ("<script", "<img", "<a "):
        assert raw not in stripped.lower(), raw
    # quoted attribute values (a tooltip holding escaped text) cannot hold a quote: esc() escapes it
    unquoted = re.sub(r'"[^"]*"', '""', stripped)
    assert not re.search(r"<[^>]*\sonerror=", unquoted, re.I)


def test_hostile_content_is_shown_as_text_everywhere(ex):
    visible = html.escape("<script>alert(1)</script>")
    r = replay(ex, "x1")
    outputs = []
    for i in range(r.n_steps):
        r.goto(i)
        r.show_context = True
        outputs += html_values(r)
    outputs.append(r._repr_html_())
    r_static = r._repr_html_()
    assert visible in r_static and html.escape("<img src=x onerror=alert(1)>") in r_static
    assert html.escape("</div></div>") in r_static and html.escape('"q"') in r_static
    assert html.escape('evil"><script>') in r_static

    c = compare(ex, session_ids=["x1", "c1"])
    outputs += html_values(c) + [c._repr_html_()]
    assert visible in c._repr_html_()

    b = browse(ex)
    b.set_filters(user="<b>mallory</b>")
    assert list(b.rows["session_id"]) == ["x1"]
    outputs += html_values(b) + [b._repr_html_()]
    assert html.escape("<b>mallory</b>") in b._repr_html_() and visible in b._repr_html_()
    b.open_session("x1")
    outputs += html_values(b)
    assert len(outputs) > 20
    for markup in outputs:
        assert_safe(markup)
    # the audit itself catches what it should
    with pytest.raises(AssertionError):
        assert_safe(HOSTILE)
    with pytest.raises(AssertionError):
        assert_safe("<div>x</div></div>")


# -- outside a live kernel --------------------------------------------------------------------

def test_static_views_and_reprs_are_deterministic(db_path):
    makers = [lambda: replay(db_path, "s1"), lambda: compare(db_path, session_ids=["c1", "c2"]),
              lambda: browse(db_path)]
    for make in makers:
        one, two = make(), make()
        assert repr(one) == repr(two) and "0x" not in repr(one) and len(repr(one)) <= 110
        assert one._repr_html_() == two._repr_html_()
        bundle = one._repr_mimebundle_()
        assert bundle["text/plain"] == repr(one) and bundle["text/html"] == one._repr_html_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert one.model_id not in bundle["text/html"] and one.model_id not in repr(one)
    r = replay(db_path, "s1")
    static = r._repr_html_()
    for text in ("Weather in Oslo?", "It is sunny.", "And in Atlantis?", "Sorry, no idea.", "Session s1"):
        assert text in static
    r.goto(4)
    assert r._repr_html_() == static  # the whole session, whatever the position
    assert repr(r) == "Replay(session_id='s1', run 1/2, message 5/5)"
    b = browse(db_path)
    b.set_filters(user="bob")
    assert "t1" in b._repr_html_() and "s1" not in b._repr_html_() and "user_id=bob" in b._repr_html_()


# -- big sessions -----------------------------------------------------------------------------

def test_two_thousand_message_session_is_fast(tmp_path, capsys):
    def noop(i: int) -> str:
        """Does nothing."""
        return f"done {i}"

    db = SqliteDb(db_file=str(tmp_path / "big.db"))
    script = [tool_call("noop", {"i": i}) for i in range(9)] + ["finished"]
    agent = Agent(id="big", db=db, tools=[noop], model=ScriptedModel(script, cycle=True))
    for i in range(100):  # 100 runs of 20 messages: user, 9 x (call, result), answer
        agent.run(f"turn {i}", session_id="big")
    ex = agno_nb.connect(str(tmp_path / "big.db"))
    assert len(ex.messages(session_ids=["big"])) == 2000

    # CPU seconds, not wall time: other processes on a shared 2-core machine do not count
    t0 = time.process_time()
    r = replay(ex, "big")
    opened = time.process_time() - t0
    assert r.n_steps == 2000

    steps = []
    r.show_context = True
    for i in list(range(1, 200)) + [1999, 0, 1000, 1500]:
        t0 = time.process_time()
        r.goto(i)
        steps.append(time.process_time() - t0)
    assert r.position == 1500 and "turn 75" in r.header.value
    with capsys.disabled():
        print(f"\n[widgets timing] open 2,000-message session: {opened * 1000:.0f} ms; "
              f"step: max {max(steps) * 1000:.1f} ms, mean {sum(steps) / len(steps) * 1000:.2f} ms")
    assert opened < 2.0
    # the 95th percentile, not the max: one scheduler hiccup on a shared 2-core CI box is not the widget
    assert sorted(steps)[int(len(steps) * 0.95)] < 0.1


def test_run_tree_of_a_workflow_nests_step_runs_and_a_teams_member_run(ex):
    """Issue 10: workflow → steps → runs in the tree, the member run at the tool call that started it."""
    from agno_nb.widgets.tree import tree_rows

    r = replay(ex, "w1")
    rows = [(row["depth"], row["kind"], row["node"].run_id if row["kind"] == "run" else row["call"]["tool_name"])
            for row in tree_rows(r.data)]
    label = {n.run_id: h_run_label(n.run) for n in r.data.runs}
    shown = [(d, k, label.get(x, x)) for d, k, x in rows]
    assert shown == [(0, "run", "workflow blog"), (1, "run", "agent drafter"), (1, "run", "team editors"),
                     (2, "tool", "delegate_task_to_member"), (3, "run", "agent ed")]
    tree = r.tree.value
    assert tree.count("border-radius:2px") >= 4  # a latency bar per run and per tool call that has one


def h_run_label(run):
    from agno_nb.widgets.html import run_label

    return run_label(run)
