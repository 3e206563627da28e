"""Widgets an analyst keeps open all day (issue 10), driven from Python.

Errors shown where a run failed, long content collapsed, tool results once, metrics only
where they exist, the run tree, navigation, compare's baseline and tool trajectories,
browse's columns, sorting and filters, theme colours, and static copies that render
where no kernel is (and stay small).
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import time

import ipywidgets as widgets
import pytest

import agno_nb
from agno_nb import Agent, Team
from agno_nb.agent.models import ModelError
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel, ScriptedModel, tool_call
from agno_nb.widgets import browse, compare, replay
from agno_nb.widgets import html as h
from agno_nb.widgets.base import WIDGET_VIEW
from _helpers import get_weather

TIMEOUT = "upstream model timed out after 30 s"
BIG = json.dumps({"rows": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(400)]})


def timeout(_messages):
    raise ModelError(TIMEOUT)


def find_hotels(city: str, nights: int) -> str:
    """Hotels with a free room."""
    return json.dumps([{"name": "Casa", "price": 88 * nights}])


def dump(q: str) -> str:
    """Returns 20 KB of JSON."""
    return BIG


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("widgets2") / "agno.db")
    db = SqliteDb(db_file=path)
    with pytest.warns(RuntimeWarning, match="timed out"):
        flaky = Agent(id="flaky", db=db, tools=[get_weather],
                      model=ScriptedModel([tool_call("get_weather", {"city": "Oslo"}), timeout, "Fine."]))
        flaky.run("Weather in Oslo?", session_id="fail", user_id="ann")
    flaky.rename_session("fail", "The one that timed out")
    Agent(id="dumper", db=db, tools=[dump], model=ScriptedModel([tool_call("dump", {"q": "all"}), "Done."])).run(
        "Dump it", session_id="long", user_id="ann")
    questions = ["Weather in Lisbon?", "A hotel in Lisbon for 3 nights?", "Weather in Atlantis?"]
    weather = Agent(id="weather", db=db, tools=[get_weather, find_hotels],
                    model=ScriptedModel([tool_call("get_weather", {"city": "Lisbon"}), "Sunny.",
                                         tool_call("find_hotels", {"city": "Lisbon", "nights": 3}), "Casa.",
                                         tool_call("get_weather", {"city": "Atlantis"}), "No idea."]))
    nohotel = Agent(id="nohotel", db=db, tools=[get_weather],
                    model=ScriptedModel([tool_call("get_weather", {"city": "Lisbon"}), "Sunny.",
                                         tool_call("get_weather", {"city": "Lisbon"}), "No hotels, but sunny.",
                                         tool_call("get_weather", {"city": "Atlantis"}), "No idea."]))
    plain = Agent(id="plain", db=db, model=ScriptedModel(["Sunny.", "Casa.", "No idea."]))
    for q in questions:
        weather.run(q, session_id="cmp-a", user_id="eve")
        nohotel.run(q, session_id="cmp-b", user_id="eve")
        plain.run(q, session_id="cmp-c", user_id="eve")
    researcher = Agent(id="researcher", model=EchoModel())
    leader = ScriptedModel([tool_call("delegate_task_to_member", {"member_id": "researcher", "task": "facts"}),
                            "Report done."])
    Team(id="crew", model=leader, members=[researcher], db=db).run("Report on owls", session_id="team",
                                                                   user_id="bob")
    return path


@pytest.fixture(scope="module")
def ex(db_path):
    return agno_nb.connect(db_path)


def all_html(widget) -> str:
    out = []
    if isinstance(widget, widgets.HTML):
        out.append(widget.value)
    for child in getattr(widget, "children", ()):
        out.append(all_html(child))
    return "".join(out)


# -- errors -----------------------------------------------------------------------------------

def test_split_error_names_type_and_text():
    assert h.split_error(f"ModelError: {TIMEOUT}") == ("ModelError", TIMEOUT)
    assert h.split_error("Error: LookupError: no such city") == ("LookupError", "no such city")
    assert h.split_error("it broke") == ("error", "it broke")
    assert h.split_error(None)[0] == "error"


def test_replay_shows_a_failed_runs_error_where_it_failed(ex):
    r = replay(ex, "fail")
    assert r.current_run["status"] == "ERROR"
    assert "1 failed run" in r.children[0].value  # the session header says a run failed
    assert "ModelError" in r.header.value and TIMEOUT in r.header.value
    r.goto(-1)  # the last message of the failed run: the error follows it
    assert r.current_message["role"] == "tool"
    body = r.body.value
    assert body.index("Sunny in Oslo, 21C") < body.index(TIMEOUT) and "ModelError" in body
    r.goto(0)
    assert TIMEOUT not in r.body.value  # not before it happened
    static = r._repr_html_()
    assert "ModelError" in static and TIMEOUT in static
    assert static.index(TIMEOUT) < static.index("Run tree")  # failures listed at the top of the copy


def test_compare_and_browse_say_which_error(ex):
    c = compare(ex, session_ids=["fail", "cmp-a"], chart=False)
    cell = c.table.value
    assert "ModelError" in cell and TIMEOUT in cell
    m = c.metrics.set_index("session_id")
    assert m.loc["fail", "errors"] == 1 and "ModelError" in m.loc["fail", "error_detail"]
    assert "LookupError: no such city" in m.loc["cmp-a", "error_detail"]  # the failed tool call
    assert TIMEOUT in c._metrics_html() and TIMEOUT in c._repr_html_()
    b = browse(ex)
    row = b.rows.set_index("session_id").loc["fail"]
    assert row["status"] == "ERROR" and row["error"] == f"ModelError: {TIMEOUT}"
    assert TIMEOUT in b._table_html() and TIMEOUT in all_html(b) and "ModelError" in b._repr_html_()


# -- long content, tool results, metrics ------------------------------------------------------

def test_long_tool_result_is_collapsed_and_json_pretty_printed(ex):
    r = replay(ex, "long")
    r.goto(2)  # user, assistant's call, then the tool message with 20 KB of JSON
    assert r.current_message["role"] == "tool"
    body = r.body.value
    assert "<details" in body and "show all" in body
    assert '\n  &quot;rows&quot;: [' in body  # indented JSON
    summary = body[body.index("<summary"):body.index("</summary>")]
    assert len(summary) < 3000  # the preview, not 20 KB
    assert "item 399" in body  # the rest is there, behind the click
    # the result is shown once: not again under the call that asked for it
    r.goto(1)
    assert r.current_message["role"] == "assistant" and "item 0" not in r.body.value
    # a stable height with a scroll area that starts at the bottom, where the current message is
    assert re.search(r'class="agno-scroll" style="height:480px;overflow-y:auto;display:flex;'
                     r'flex-direction:column-reverse', body)
    assert body.count("agno-current") == 1


def test_show_all_says_how_much_is_hidden():
    one_line = h.text_block("x" * 700)
    assert "show all (100 more characters)" in one_line  # not "1 lines"
    many = h.text_block("\n".join(f"line {i:02d}" for i in range(20)))
    assert "show all (63 more characters, 8 more lines)" in many  # 12 of 20 lines shown
    assert "show all (62 more characters, 1 more line)" in h.text_block("\n".join(["y"] * 12 + ["z" * 62]))


def test_metrics_only_where_they_exist(ex):
    r = replay(ex, "cmp-a")
    roles = {}
    for i in range(r.n_steps):
        r.goto(i)
        roles.setdefault(r.current_message["role"], r._message(*r._steps[i][:2], True))
    assert "tokens –" not in "".join(roles.values()) and "latency –" not in "".join(roles.values())
    assert "tokens" not in roles["user"] and "latency" not in roles["user"]
    assert re.search(r"tokens \d+ in", roles["assistant"])
    assert re.search(r"latency \d", roles["tool"])  # the tool's own run time


# -- run tree and navigation ------------------------------------------------------------------

def test_run_tree_puts_member_runs_at_the_delegating_tool_call(ex):
    r = replay(ex, "team")
    tree = r.tree.value
    delegation = tree.index("delegate_task_to_member")
    member = tree.index("agent researcher")
    assert tree.index("team crew") < delegation < member
    assert tree.count("border-radius:2px") >= 3  # latency bars: team run, tool call, member run
    assert "started agent researcher" in r.body.value or any(
        "started agent researcher" in r._message(rp, mi, False)
        for rp, node in enumerate(r.data.runs) for mi in node.own)


def test_next_run_prev_run_and_search(ex):
    r = replay(ex, "cmp-a")
    assert r.current_run["input"] == "Weather in Lisbon?"
    r.next_run()
    assert r.current_run["input"] == "A hotel in Lisbon for 3 nights?" and r.current_message["role"] == "user"
    r.next()
    r.prev_run()  # back to the start of this run
    assert r.current_run["input"] == "A hotel in Lisbon for 3 nights?" and r.current_message["role"] == "user"
    r.prev_run()
    assert r.current_run["input"] == "Weather in Lisbon?"
    label = next(o for o in r.run_search.options if "Atlantis" in o)
    r.run_search.value = label
    assert r.current_run["input"] == "Weather in Atlantis?" and r.run_dropdown.value == 2
    assert "Weather in Atlantis?" in label and "…" not in label  # labels are whole


# -- compare ------------------------------------------------------------------------------------

def test_compare_shows_tool_trajectories_and_diffs_them(ex):
    c = compare(ex, session_ids=["cmp-a", "cmp-b", "cmp-c"], chart=False)
    hotel = c.turns[1]
    assert [t["key"] for t in hotel[0]["tool_trajectory"]] == ['find_hotels(city="Lisbon", nights=3)']
    assert [t["key"] for t in hotel[1]["tool_trajectory"]] == ['get_weather(city="Lisbon")']
    assert hotel[2]["tool_trajectory"] == []
    table = c.table.value
    assert "find_hotels(city=&quot;Lisbon&quot;, nights=3)" in table
    # against the baseline (cmp-a): cmp-b lacks find_hotels and adds get_weather
    assert re.search(r'<span style="background:#fecaca[^"]*">− → find_hotels', table)
    assert re.search(r'<span style="background:#bbf7d0[^"]*">\+ → get_weather\(city=&quot;Lisbon', table)
    assert c.divergence == 0  # cmp-c answers the first question without a tool: that is a difference
    # the failed tool call is marked
    assert re.search(r"get_weather\(city=&quot;Atlantis&quot;\)</span> <span[^>]*>error", table)


def test_compare_baseline_is_explicit_with_a_legend(ex):
    c = compare(ex, session_ids=["cmp-a", "cmp-b", "cmp-c"], chart=False)
    assert c.baseline == 0 and "Baseline: <b>cmp-a (weather)</b>" in c.title.value
    first_col = c.table.value.split("<tr")[2].split("<td")[3]  # turn 1, column of cmp-a
    assert "<mark" not in first_col  # the baseline itself is never struck out
    c.set_baseline("cmp-c")
    assert c.baseline == 2 and "Baseline: <b>cmp-c (plain)</b>" in c.title.value
    hotel = c.table.value.split("<tr")[3]
    # cmp-a now read against cmp-c: its find_hotels call is an addition
    assert re.search(r'background:#bbf7d0[^"]*">\+ → find_hotels', hotel)
    assert compare(ex, session_ids=["cmp-a", "cmp-b"], baseline="cmp-b", chart=False).baseline == 1
    with pytest.raises(LookupError, match="nope"):
        compare(ex, session_ids=["cmp-a", "cmp-b"], baseline="nope")
    # identical text is not struck out in a third column (it used to be diffed against column 1)
    same = compare(ex, session_ids=["cmp-a", "cmp-c", "cmp-a"][:2] + ["cmp-b"], chart=False)
    assert "Sunny." in same.table.value


def test_compare_opens_a_turn_in_a_replay(ex):
    c = compare(ex, session_ids=["cmp-a", "cmp-b"], chart=False)
    r = c.open_turn(2, "cmp-b")
    assert r.session_id == "cmp-b" and r.current_run["input"] == "Weather in Atlantis?"
    assert c.detail.children == (r,)
    c.turn_picker.value = (1, 0)
    assert c.replay.session_id == "cmp-a" and c.replay.current_run["input"] == "A hotel in Lisbon for 3 nights?"


# -- browse -------------------------------------------------------------------------------------

def test_browse_all_after_a_filter_keeps_a_label(ex):
    b = browse(ex)
    b.user.label = "eve"
    assert set(b.rows["session_id"]) == {"cmp-a", "cmp-b", "cmp-c"}
    b.user.index = 0  # what the frontend sends when "(all)" is chosen
    assert b.user.index == 0 and b.user.label == "(all)" and len(b.rows) == 6
    b.set_filters(agent="weather")
    b.set_filters(agent=None)
    assert b.agent.label == "(all)" and len(b.rows) == 6
    assert b.picker.label == "(pick a session to replay)"


def test_browse_sorts_filters_failures_and_opens_on_click(ex):
    b = browse(ex)
    assert {"status", "error", "duration", "total_tokens"} <= set(b.rows.columns)
    b.sort("total_tokens")
    tokens = list(b.rows["total_tokens"])
    assert tokens == sorted(tokens, reverse=True) and b.descending
    b.header_buttons["total_tokens"].click()  # again: the other way
    assert list(b.rows["total_tokens"]) == sorted(tokens) and "tokens ▲" == b.header_buttons["total_tokens"].description
    b.sort("duration", descending=True)
    assert list(b.rows["duration"]) == sorted(b.rows["duration"], reverse=True)
    b.set_filters(failed=True)
    assert list(b.rows["session_id"]) == ["fail"]
    b.failed.value = False
    assert len(b.rows) == 6
    # a click on a row's id opens it
    row = next(w for w in b._row_widgets if w[0].tooltip == "team")
    row[0].click()
    assert b.replay is not None and b.replay.session_id == "team" and b.detail.children == (b.replay,)
    # the picker shows names
    assert any(label.startswith("The one that timed out · flaky") for label, _ in b.picker.options)


def test_browse_shortens_long_ids_with_the_full_id_on_hover(tmp_path):
    sid = "3f2a9c1e-5b7d-4c2a-9e1f-0a1b2c3d4e5f"
    db = SqliteDb(db_file=str(tmp_path / "ids.db"))
    Agent(id="echo", db=db, model=EchoModel()).run("hi", session_id=sid)
    b = browse(str(tmp_path / "ids.db"))
    button = b._row_widgets[0][0]
    assert button.description == "3f2a9c1e…4e5f" and button.tooltip == sid
    table = b._table_html()
    # the table cuts the id with CSS: the whole id is in the tooltip and in the text a copy takes
    assert re.search(f'<span title="{sid}" style="[^"]*max-width:9em;overflow:hidden;text-overflow:ellipsis;'
                     f'white-space:nowrap[^"]*">{sid}</span>', table)


# -- theme --------------------------------------------------------------------------------------

def test_colours_follow_the_notebook_theme(ex):
    """No hard-coded dark text or light panels: JupyterLab's variables, with fallbacks."""
    markup = (all_html(replay(ex, "fail")) + all_html(compare(ex, session_ids=["cmp-a", "fail"])) + all_html(browse(ex))
              + replay(ex, "team")._repr_html_())
    assert "var(--jp-ui-font-color1," in markup and "var(--jp-layout-color2," in markup
    assert "var(--jp-border-color2," in markup
    for hard in ("color:#111827", "color:#4b5563", "background:#f9fafb", "background:#f3f4f6", "background:#ffffff",
                 "background:#fef2f2", "background:#fffbeb", "background:#eff6ff", "background:#f0fdf4"):
        assert hard not in markup, hard


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_badge_colours_carry_white_text_at_wcag_aa():
    for colour in {*h.STATUS_COLORS.values(), *(a for _, a in h.ROLE_COLORS.values()), h.GREY}:
        ratio = 1.05 / (_luminance(colour) + 0.05)
        assert ratio >= 4.5, (colour, ratio)


# -- static copies ------------------------------------------------------------------------------

def test_display_gives_a_live_view_and_a_static_copy_as_two_outputs(ex, db_path):
    """nbconvert prefers a widget view whose state was saved (its scripts come from a CDN):
    the static copy must be an output of its own, not an alternative in the same bundle."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: published.append(data)
    r = replay(ex, "fail")
    shell.display_formatter.format(r)  # what IPython does with a cell's last value
    assert len(published) == 2
    live, static = published
    assert set(live) == {WIDGET_VIEW, "text/plain"} and live["text/plain"] == ""
    assert live[WIDGET_VIEW]["model_id"] == r.model_id
    assert set(static) == {"text/html", "text/plain"} and static["text/plain"] == repr(r)
    assert TIMEOUT in static["text/html"] and r.model_id not in static["text/html"]
    # the live view hides its static twin where it is drawn, by a class only its copy has
    key = re.search(r'class="agno-static-copy agno-k-([0-9a-f]{12})"', static["text/html"]).group(1)
    assert f".agno-static-copy.agno-k-{key}{{display:none !important}}" in r.children[0].value
    other = replay(ex, "cmp-a")
    assert f"agno-k-{key}" not in other.static_html()  # another session's copy stays visible


def test_a_2000_message_replay_keeps_the_notebook_small(tmp_path):
    def noop(i: int) -> str:
        """Does nothing."""
        return f"done {i} " + "x" * 200

    db = SqliteDb(db_file=str(tmp_path / "big.db"))
    script = [tool_call("noop", {"i": i}) for i in range(9)] + ["finished " + "y" * 300]
    agent = Agent(id="big", db=db, tools=[noop], model=ScriptedModel(script, cycle=True))
    for i in range(100):
        agent.run(f"turn {i}", session_id="big")
    r = replay(str(tmp_path / "big.db"), "big")
    assert r.n_steps == 2000
    static = r.static_html()
    size = len(static.encode())
    print(f"\n[widgets] static copy of a 2,000-message replay: {size / 1024:.0f} KB")
    assert size <= 200_000
    assert "turn 0" in static and "turn 99" in static  # the first and the last steps
    assert "1,980 step(s) not shown" in static


def test_notebook_03_run_dropdown_labels_print_cleanly():
    """Cell 13 printed the label list's repr: raw '\\xa0\\xa0\\xa0\\xa0↳'."""
    nb = json.loads(open(agno_nb.__file__.replace("agno_nb/__init__.py", "notebooks/03-replay-runs.ipynb")).read())
    text = json.dumps([c.get("outputs") for c in nb["cells"]])
    assert "\\\\xa0" not in text and "\\xa0\\xa0" not in text


def test_run_tree_is_a_waterfall_within_each_turn(tmp_path):
    """Demo team turns: the member runs start after their team run, so their bars are shifted."""
    from agno_nb import demo

    ex = agno_nb.connect(demo.build(tmp_path / "demo.db", sessions=12))
    team = ex.sessions(session_type="team")["session_id"].iloc[0]
    tree = replay(ex, team).tree.value
    margins = [int(m) for m in re.findall(r"margin-left:(\d+)px;background", tree)]
    assert margins and margins[0] == 0 and max(margins) > 0


# -- what was left open: keys, "show all" kept open, the themed chart ------------------------------

def _sent(r):
    """Record what the replay sends its key view (the acks the frontend waits for)."""
    out = []
    r.keyboard.send = lambda content, buffers=None: out.append(content)
    return out


def test_keys_step_messages_and_runs_and_are_acknowledged(ex):
    r = replay(ex, "cmp-a")  # 3 runs
    sent = _sent(r)
    key = r._on_keys_msg
    key(r.keyboard, {"type": "key", "action": "step", "delta": 1})
    assert r.position == 1 and sent[-1] == {"type": "ack", "position": 1}
    key(r.keyboard, {"type": "key", "action": "step", "delta": 3})  # presses coalesced by the frontend
    assert r.position == 4
    key(r.keyboard, {"type": "key", "action": "step", "delta": 0})  # e.g. → then ← before the reply
    assert r.position == 4
    key(r.keyboard, {"type": "key", "action": "step", "delta": -99})  # clamped, not counted from the end
    assert r.position == 0
    key(r.keyboard, {"type": "key", "action": "next_run"})
    assert r.current_run["input"] == "A hotel in Lisbon for 3 nights?" and r.current_message["role"] == "user"
    key(r.keyboard, {"type": "key", "action": "last"})
    assert r.position == r.n_steps - 1
    key(r.keyboard, {"type": "key", "action": "next_run"})  # on the last run: stays (it went back before)
    assert r.position == r.n_steps - 1
    key(r.keyboard, {"type": "key", "action": "prev_run"})
    assert r.current_run["input"] == "Weather in Atlantis?" and r.position == r._run_start[2]
    key(r.keyboard, {"type": "key", "action": "first"})
    assert r.position == 0
    with pytest.raises(ValueError, match="unknown key action"):
        key(r.keyboard, {"type": "key", "action": "explode"})
    assert sent[-1] == {"type": "ack", "position": 0}  # acknowledged all the same: the keys never stall
    assert len(sent) == 10


def test_key_hint_live_and_static(ex):
    from agno_nb.widgets.keys import ESM, KEY_LIST

    r = replay(ex, "cmp-a")
    live = all_html(r)
    assert 'class="agno-key-hint"' in live and html.escape("Shift+→") in live
    assert r.keyboard.layout.display == "none" and r.keyboard in r.children[1].children
    assert "Keys in the live widget: " + html.escape(KEY_LIST) in r.static_html()
    # the keys the hint names are the keys the script handles
    for name in ("ArrowRight", "ArrowLeft", "Shift+ArrowRight", "Shift+ArrowLeft", '"j"', '"k"', '"n"', '"p"',
                 "Home", "End"):
        assert name in ESM


def test_replay_without_anywidget_still_steps_and_says_why_no_keys(ex, monkeypatch):
    import sys

    from agno_nb.widgets import keys

    monkeypatch.setattr(keys, "_KEYS_CLASS", None)
    monkeypatch.setitem(sys.modules, "anywidget", None)  # as if it were not installed
    r = replay(ex, "cmp-a")
    assert r.keyboard is None
    assert "needs anywidget" in all_html(r) and 'class="agno-key-hint"' not in all_html(r)
    r.next_button.click()
    assert r.position == 1


def test_show_all_stays_open_across_steps_and_new_views(ex):
    r = replay(ex, "long")
    r.goto_run(0)
    tool_step = next(i for i in range(r.n_steps) if r.goto(i).current_message["role"] == "tool")
    body = r.body.value
    keys = re.findall(r'<details class="agno-more" data-agno-key="([^"]+)"', body)
    assert len(keys) == 1, keys
    key = keys[0]
    assert f'data-agno-key="{key}" open' not in body
    r._on_keys_msg(r.keyboard, {"type": "toggle", "key": key, "open": True})  # the user clicked "show all"
    assert r.expanded == {key}
    r.next()
    assert f'data-agno-key="{key}" open' in r.body.value  # the tool message, still on screen: still open
    r.goto(tool_step)
    assert f'data-agno-key="{key}" open' in r.body.value
    r.show_context = True  # the same message in the model-context view is open too
    r.next()
    assert f'data-agno-key="{key}" open' in r.context.value
    r.show_context = False
    r.goto(tool_step)
    # a second view of the widget is drawn from the same state
    assert f'data-agno-key="{key}" open' in r.body.value
    r._on_keys_msg(r.keyboard, {"type": "toggle", "key": key, "open": False})
    r.next()
    assert f'data-agno-key="{key}" open' not in r.body.value and f'data-agno-key="{key}"' in r.body.value
    # the static copy does not depend on what was opened live
    r._on_keys_msg(r.keyboard, {"type": "toggle", "key": key, "open": True})
    assert 'data-agno-key="' in r.static_html() and not re.search(r'data-agno-key="[^"]+" open', r.static_html())


def test_keys_of_collapsed_texts_are_stable_and_distinct(ex):
    r = replay(ex, "fail")
    r2 = replay(ex, "fail")
    seen = set()
    for i in range(r.n_steps):
        r.goto(i)
        r2.goto(i)
        assert r.header.value + r.body.value == r2.header.value + r2.body.value  # the same markup every time
        found = re.findall(r'data-agno-key="([^"]+)"', r.header.value + r.body.value)
        assert len(found) == len(set(found))
        seen |= set(found)
    assert all(re.fullmatch(r"[mhe]\d+(\.\d+)+", k) for k in seen)


def test_compare_chart_is_svg_that_follows_the_theme(ex, tmp_path):
    c = compare(ex, session_ids=["cmp-a", "cmp-b", "cmp-c"])
    page = c._repr_html_()
    svg = re.search(r'<svg class="agno-chart".*?</svg>', page, re.S).group(0)
    assert "<img" not in page and "data:image/png" not in page  # no baked-in white PNG
    assert f"color:{h.FG}" in svg and "var(--jp-ui-font-color1" in svg  # text and axes: the theme's colour
    assert svg.count("fill:currentColor") >= 4 * 3 + 4  # values and titles
    assert "#111827" in svg  # the fallback where there is no theme (nbconvert, GitHub)
    assert len(svg.encode()) < 12_000
    assert c.labels[1] in svg
    # a hostile session id is text in the chart, like everywhere else
    db = SqliteDb(db_file=str(tmp_path / "h.db"))
    nasty = '</text></svg><script>alert(1)</script>'
    for sid in (nasty, "ok"):
        Agent(id="a", db=db, model=EchoModel()).run("hi", session_id=sid)
    chart = compare(str(tmp_path / "h.db"), session_ids=[nasty, "ok"])._chart
    assert "<script>" not in chart and html.escape(nasty) in chart and chart.count("</svg>") == 1


def _stored_html(name: str) -> str:
    path = agno_nb.__file__.replace("agno_nb/__init__.py", f"notebooks/{name}")
    nb = json.loads(open(path).read())
    return "".join("".join(o.get("data", {}).get("text/html", "")) for c in nb["cells"] for o in c.get("outputs", []))


def test_notebooks_03_and_04_show_the_widgets_features():
    """What notebooks 03 and 04 show without a kernel (their stored static copies), issue 10."""
    nb03 = _stored_html("03-replay-runs.ipynb")
    assert "Keys in the live widget: " in nb03  # the keyboard hint
    assert "show all" in nb03 and 'class="agno-more"' in nb03  # collapsed long content
    assert "Run tree: " in nb03 and "delegate_task_to_member" in nb03  # a team's run tree
    assert re.search(r'class="agno-error".*?ModelError', nb03, re.S)  # a failed run's error
    assert "failed=yes" in nb03 and "sorted by duration" in nb03  # browse: failed filter, sorting
    nb04 = _stored_html("04-compare-agents.ipynb")
    assert "Comparing 3 sessions" in nb04 and "Baseline: <b>eval-detailed" in nb04  # a chosen baseline
    assert "agno-trajectory" in nb04 and "find_hotels(city=" in nb04  # tool trajectories
    assert 'class="agno-chart"' in nb04 and "data:image/png" not in nb04  # the themed chart, not a PNG


def test_times_never_break_between_number_and_unit():
    """The run tree's latency ("863.0 / ms") and status ("ERROR / ModelError") and compare's
    metrics latency wrapped in narrow columns."""
    bar = h.latency_bar(0.863, 3.11)
    assert bar.startswith('<span style="white-space:nowrap">') and bar.endswith("863.0 ms</span>")


def test_chart_value_labels_of_neighbouring_bars_keep_apart():
    """Three sessions' latencies: "152.1 ms" and "141.7 ms" over neighbouring bars nearly touched."""
    import pandas as pd

    from agno_nb.widgets.chart import PANEL_W, bar_chart_svg

    metrics = pd.DataFrame({"total_tokens": [519, 453, 633], "latency": [0.1521, 0.1417, 0.5206],
                            "tool_calls": [4, 4, 4], "errors": [1, 1, 1]})
    svg = bar_chart_svg(metrics, ["a", "b", "c"])
    texts = re.findall(r'<text x="([\d.]+)" y="[\d.]+" font-size="11" text-anchor="middle"[^>]*>([^<]*)</text>', svg)
    latency = [(float(x), t) for x, t in texts if PANEL_W <= float(x) < 2 * PANEL_W]
    assert [t for _, t in latency] == ["152 ms", "142 ms", "521 ms"]
    assert "<title>a: 152.1 ms</title>" in svg  # the exact value, on hover
    small = bar_chart_svg(metrics.assign(latency=[0.000380, 0.0042, 12.34]), ["a", "b", "c"])
    assert all(f">{t}</text>" in small for t in ("380 µs", "4.2 ms", "12.3 s"))  # never "0 ms"
    per_char = 11 * 0.62  # a generous average glyph width of an 11 px sans-serif
    for (x1, t1), (x2, t2) in zip(latency, latency[1:]):
        assert x2 - x1 >= (len(t1) + len(t2)) / 2 * per_char + 6, (t1, t2, x2 - x1)
