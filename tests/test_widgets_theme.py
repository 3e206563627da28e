"""The widgets in a browser (headless Chromium), issue 10: readable in JupyterLab's light and
dark themes (text contrast at least 4.5:1, WCAG AA), errors visible, and the static copy of
an executed notebook visible in nbconvert's HTML with the network off.

Screenshots go to pytest's ``tmp_path`` only (look at them when a test fails).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import _trips
from _browser import (CONTRAST_JS, TIMEOUT_MS, chromium, code_notebook, connect_cell, jupyter_env, lab_with_database,
                      set_theme, wait_idle)
from agno_nb.db.sqlite import SqliteDb

ROOT = Path(__file__).resolve().parents[1]
AA = 4.5
TIMEOUT_TEXT = _trips.TIMEOUT_TEXT

CELLS = [
    'replay = agno_nb.replay(ex, "trip-failed").goto(-1)\nreplay',
    'agno_nb.compare(ex, session_ids=["trip-concise", "trip-no-hotels", "trip-plain"])',
    'agno_nb.browse(ex)',
]


def _build(path: str) -> None:
    db = SqliteDb(db_file=path)
    _trips.failed_trip(db)
    _trips.three_trips(db)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free localhost port, in throwaway dirs, the notebook's database built meanwhile."""
    base = tmp_path_factory.mktemp("lab-theme")
    with lab_with_database(base, {"theme.ipynb": code_notebook([connect_cell(base), *CELLS])}, _build) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, chromium(p) as b:
        yield b


@pytest.fixture(scope="module")
def notebook_page(lab, browser):
    """The notebook opened and run once; the tests switch themes on the same page."""
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(lab.notebook_url("theme.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    wait_idle(page)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    for cls in ("agno-replay", "agno-compare", "agno-browse"):
        page.locator(f".{cls}").first.wait_for(state="visible")
    wait_idle(page)
    page.wait_for_timeout(1000)
    yield page
    page.close()


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_widgets_are_readable_in_light_and_dark_theme(notebook_page, theme, tmp_path):
    page = notebook_page
    set_theme(page, theme)
    assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
    worst = {}
    for cls in ("agno-replay", "agno-compare", "agno-browse"):
        widget = page.locator(f".{cls}").first
        widget.scroll_into_view_if_needed()
        widget.screenshot(path=str(tmp_path / f"{cls}-{theme.split()[-1].lower()}.png"))
        measured = widget.evaluate(CONTRAST_JS)
        assert len(measured) > 20, (cls, measured)
        low = [m for m in measured if m["ratio"] < AA]
        assert low == [], f"{theme}, {cls}: text below {AA}:1 contrast: {low[:10]}"
        worst[cls] = min(m["ratio"] for m in measured)
    print(f"\n[widgets theme] {theme}: lowest text contrast " +
          ", ".join(f"{k} {v:.1f}:1" for k, v in worst.items()) + f" (screenshots in {tmp_path})")
    # the live views hide their static twins; the failed run's error is on screen
    assert page.locator(".agno-static-copy").evaluate_all("els => els.filter(e => e.offsetParent).length") == 0
    replay = page.locator(".agno-replay").first
    assert TIMEOUT_TEXT in replay.inner_text() and "ModelError" in replay.inner_text()
    assert "show all" in replay.inner_text()  # the long tool result is collapsed
    compare = page.locator(".agno-compare").first.inner_text()
    assert "Baseline" in compare and "find_hotels" in compare
    browse = page.locator(".agno-browse").first.inner_text()
    assert "ModelError" in browse and "ERROR" in browse


def test_replay_page_does_not_jump_when_stepping(notebook_page):
    page = notebook_page
    replay = page.locator(".agno-replay").first
    replay.scroll_into_view_if_needed()
    button = replay.locator("button", has_text="Prev").first
    before = button.bounding_box()
    heights = set()
    for _ in range(3):
        button.click()
        page.wait_for_timeout(400)
        heights.add(round(replay.locator(".agno-scroll").bounding_box()["height"]))
        box = button.bounding_box()
        assert abs(box["y"] - before["y"]) < 2, "the controls moved"
    assert len(heights) == 1  # the message area keeps its height
    # the current message is inside the scroll area's visible part
    visible = replay.locator(".agno-current").evaluate(
        """el => { const s = el.closest('.agno-scroll').getBoundingClientRect(), r = el.getBoundingClientRect();
                   return r.bottom > s.top && r.top < s.bottom; }""")
    assert visible


def test_executed_notebook_03_as_html_shows_its_static_copies_offline(browser, tmp_path):
    """``jupyter nbconvert --execute --to html``: the widget outputs need scripts from a CDN;
    with the network off the static copies must be what shows."""
    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / "03-replay-runs.ipynb", work)
    proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html",
                           "03-replay-runs.ipynb"], cwd=work,
                          env={**jupyter_env(tmp_path / "jupyter"), "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = work / "03-replay-runs.html"
    context = browser.new_context(offline=True)
    asked = []

    def block(route):
        asked.append(route.request.url)
        route.abort()

    context.route("http*://**", block)
    page = context.new_page()
    try:
        page.goto(out.as_uri(), wait_until="load")
        page.wait_for_timeout(1500)
        copies = page.locator(".agno-static-copy")
        assert copies.count() >= 3
        for i in range(copies.count()):
            assert copies.nth(i).is_visible()
        text = page.locator("body").inner_text()
        assert "Session " in text and "Run tree" in text and "First 10 of" in text
        assert "ModelError" in text and TIMEOUT_TEXT in text  # the failed run of the last cell
        assert "sessions · page 1/" in text  # browse
        # the page does want the widget scripts from a CDN, which is why the copies matter
        assert "embed-amd.js" in out.read_text() and "application/vnd.jupyter.widget-state+json" in out.read_text()
        page.screenshot(path=str(tmp_path / "nbconvert-offline.png"), full_page=False)
    finally:
        context.close()


def test_browse_fits_the_notebook_with_one_line_rows(notebook_page):
    """The name and the error are cut with an ellipsis (whole in the tooltip) rather than
    pushing the status column out of view or wrapping rows to several lines."""
    page = notebook_page
    browse = page.locator(".agno-browse").first
    browse.scroll_into_view_if_needed()
    grid = browse.locator(".widget-gridbox").first
    fit = grid.evaluate("g => ({scroll: g.scrollWidth, client: g.clientWidth})")
    assert fit["scroll"] <= fit["client"] + 1, fit
    boxes = browse.locator(".agno-open").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.top, r.height]; })")
    assert len(boxes) >= 4
    pitch = [b[0] - a[0] for a, b in zip(boxes, boxes[1:])]  # one session's line to the next
    assert max(pitch) <= 1.5 * max(h for _, h in boxes), (pitch, boxes)
    status = browse.locator(".agno-cut").filter(has_text="ModelError").first
    assert _trips.TIMEOUT_TEXT in status.locator("span[title]").first.get_attribute("title")
