"""The widgets in a real JupyterLab, in headless Chromium: they render, and Next steps the replay.

Starts JupyterLab (the venv's, so its ``python3`` kernel and the ipywidgets lab
extension are the venv's; see ``_browser.py``), opens a notebook over two scripted sessions (``_trips.two_agents``) that
shows ``agno_nb.replay`` and ``agno_nb.compare``, runs every cell, clicks
Next, and takes screenshots into ``screenshot_dir`` (a temporary folder). The README's
pictures come from ``tests/test_widgets_browser_keys.py`` (``bash scripts/screenshots.sh``).
"""

from __future__ import annotations

import pytest

import _trips
from _browser import chromium, code_notebook, connect_cell, lab_with_database, open_notebook, run_all_cells, wait_idle
from agno_nb.db.sqlite import SqliteDb

HOSTILE = '''\
from agno_nb import Agent
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import ScriptedModel

db = SqliteDb(db_file=DB)
nasty = '<script>alert(1)</script> <img src=x onerror=alert(2)> <a href="javascript:alert(3)">link</a> </div>'
evil = Agent(id="evil", db=db, model=ScriptedModel([nasty]))
evil.run(nasty, session_id="evil", user_id="mallory")
hostile = agno_nb.replay(ex, "evil")
hostile.add_class("agno-hostile")
display(hostile, agno_nb.browse(ex))
'''

CELLS = ['replay = agno_nb.replay(ex, "trip-concise")\nreplay',
         'agno_nb.compare(ex, session_ids=["trip-concise", "trip-chatty"])', HOSTILE]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab with ``demo.ipynb``: the widgets over a small scripted database."""
    base = tmp_path_factory.mktemp("lab")
    notebooks = {"demo.ipynb": code_notebook([connect_cell(base), *CELLS])}
    with lab_with_database(base, notebooks, lambda path: _trips.two_agents(SqliteDb(db_file=path))) as lab:
        yield lab


def test_replay_and_compare_render_and_step_in_jupyterlab(lab, screenshot_dir):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, chromium(p) as browser:
        dialogs = []
        page = open_notebook(browser, lab, "demo.ipynb", dialogs)
        run_all_cells(page)
        replay = page.locator(".agno-replay:not(.agno-hostile)")
        replay.wait_for(state="visible")
        compare = page.locator(".agno-compare")
        compare.wait_for(state="visible")
        wait_idle(page)

        before = replay.inner_text()
        assert "Session trip-concise" in before and "run 1/4, message 1/5" in before
        assert "Answer in one sentence." in before  # the first step: the system message
        # fewer messages than the scroll area holds sit at its top, not below an empty space
        gap = replay.locator(".agno-scroll").evaluate(
            "s => s.querySelector('.agno-current').getBoundingClientRect().top - s.getBoundingClientRect().top")
        assert 0 <= gap < 40, gap
        # the counter is one line, level with the buttons
        counter = replay.locator(".widget-html", has_text="message 1/5").last.bounding_box()
        button = replay.locator("button", has_text="Next").bounding_box()
        assert counter["height"] < 1.5 * button["height"], (counter, button)
        replay.locator("button", has_text="Next").click()
        page.wait_for_function(
            "() => document.querySelector('.agno-replay:not(.agno-hostile)').innerText.includes('message 2/5')")
        after = replay.inner_text()
        assert after != before
        assert "What's the weather in Lisbon?" in after
        for _ in range(2):  # on to the tool call's result
            replay.locator("button", has_text="Next").click()
        page.wait_for_function(
            "() => document.querySelector('.agno-replay:not(.agno-hostile)').innerText.includes('message 4/5')")
        assert "24C, sunny" in replay.inner_text() and "get_weather" in replay.inner_text()
        replay.locator("button", has_text="Next").click()  # the answer: the whole first turn on screen
        page.wait_for_function(
            "() => document.querySelector('.agno-replay:not(.agno-hostile)').innerText.includes('message 5/5')")
        assert "It is 24C and sunny in Lisbon." in replay.inner_text()
        replay.scroll_into_view_if_needed()
        replay.screenshot(path=str(screenshot_dir / "replay.png"))

        text = compare.inner_text()
        assert "first divergence" in text and "Metrics per session" in text
        assert compare.locator("svg.agno-chart").count() == 1  # the themed chart
        compare.scroll_into_view_if_needed()
        compare.screenshot(path=str(screenshot_dir / "compare.png"))

        # untrusted content shows as text and runs nothing, in the widget and in the browse table
        hostile = page.locator(".agno-hostile")
        hostile.wait_for(state="visible")
        hostile.locator("button", has_text="Next").click()
        page.wait_for_function("() => document.querySelector('.agno-hostile').innerText.includes('message 2/2')")
        assert '<script>alert(1)</script> <img src=x onerror=alert(2)>' in hostile.inner_text()
        assert hostile.locator("script, img, a").count() == 0
        page.locator(".agno-browse").wait_for(state="visible")
        page.wait_for_timeout(500)  # time for any injected handler to fire
        assert dialogs == []
        wait_idle(page)
        assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
    for name in ("replay.png", "compare.png"):
        png = (screenshot_dir / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
