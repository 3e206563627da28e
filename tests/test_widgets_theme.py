"""The widgets in a browser (headless Chromium), issue 10: readable in JupyterLab's light and
dark themes (text contrast at least 4.5:1, WCAG AA), errors visible, and the static copy of
an executed notebook visible in nbconvert's HTML with the network off.

Screenshots go to pytest's ``tmp_path`` only (look at them when a test fails).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _browser import TIMEOUT_MS, chromium, running_lab, wait_idle

ROOT = Path(__file__).resolve().parents[1]
AA = 4.5
TIMEOUT_TEXT = "upstream model timed out after 30 s"

SETUP = '''\
import json, tempfile
from pathlib import Path

import agno_nb
from agno_nb import Agent
from agno_nb.agent.models import ModelError
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import ScriptedModel, tool_call

BIG = json.dumps({"rows": [{"id": i, "name": f"item {i}"} for i in range(300)]})


def timeout(_):
    raise ModelError("upstream model timed out after 30 s")


def get_weather(city: str) -> str:
    """Current weather in a city."""
    if city == "Atlantis":
        raise LookupError(f"unknown city {city!r}")
    return {"Lisbon": "24C, sunny", "Oslo": "9C, light rain"}[city]


def find_hotels(city: str, nights: int) -> str:
    """Hotels with a free room."""
    return BIG


db = SqliteDb(db_file=str(Path(tempfile.mkdtemp()) / "demo.db"))
Agent(id="flaky", db=db, tools=[find_hotels], instructions=["Be brief."],
      model=ScriptedModel([tool_call("find_hotels", {"city": "Lisbon", "nights": 3}), timeout])).run(
    "Find me a hotel in Lisbon for 3 nights.", session_id="trip-failed", user_id="alice")
questions = ["What's the weather in Lisbon?", "Find me a hotel in Lisbon for 3 nights.", "And in Atlantis?"]
scripts = {
    "concise": [tool_call("get_weather", {"city": "Lisbon"}), "24C and sunny.",
                tool_call("find_hotels", {"city": "Lisbon", "nights": 3}), "Casa Alfama.",
                tool_call("get_weather", {"city": "Atlantis"}), "No such city."],
    "no-hotels": [tool_call("get_weather", {"city": "Lisbon"}), "24C and sunny.",
                  tool_call("get_weather", {"city": "Lisbon"}), "No hotels, but it is sunny.",
                  tool_call("get_weather", {"city": "Atlantis"}), "No such city."],
    "plain": ["Sunny, I think.", "Try Casa Alfama.", "Atlantis is a legend."],
}
for name, script in scripts.items():
    agent = Agent(id=name, db=db, tools=[get_weather, find_hotels], model=ScriptedModel(script))
    for q in questions:
        agent.run(q, session_id=f"trip-{name}", user_id="bob")
ex = agno_nb.connect(db)
'''

CELLS = [
    SETUP,
    'replay = agno_nb.replay(ex, "trip-failed").goto(-1)\nreplay',
    'agno_nb.compare(ex, session_ids=["trip-concise", "trip-no-hotels", "trip-plain"])',
    'agno_nb.browse(ex)',
]


def _notebook() -> dict:
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [],
                   "source": src} for i, src in enumerate(CELLS)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def _env(home: Path) -> dict:
    return {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
            "MPLBACKEND": "Agg", "JUPYTER_PLATFORM_DIRS": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free localhost port, in throwaway dirs: (url, token)."""
    with running_lab(tmp_path_factory.mktemp("lab-theme"), {"theme.ipynb": _notebook()}) as running:
        yield running.url, running.token


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, chromium(p) as b:
        yield b


# Every visible text node under ``root``: its colour against the background it is drawn on
# (translucent backgrounds composited up to the first opaque one), as a WCAG contrast ratio.
CONTRAST_JS = """
(root) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const l = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parse(getComputedStyle(e).backgroundColor);
      if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
    }
    let base = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim();
    const el = n.parentElement;
    if (!text || !el || el.closest('select, option, [disabled], .jupyter-widgets-disabled')) continue;
    if (!el.getClientRects().length) continue;  // not rendered (collapsed, display:none)
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || parseFloat(style.opacity) < 1) continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const a = lum(fg), b = lum(bg);
    out.push({text: text.slice(0, 40), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
              color: style.color, background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(',') + ')'});
  }
  return out;
}
"""


def _set_theme(page, theme: str) -> None:
    page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    light = "true" if theme == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # the theme's stylesheet applies


@pytest.fixture(scope="module")
def notebook_page(lab, browser):
    """The notebook opened and run once; the tests switch themes on the same page."""
    url, token = lab
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/lab/tree/theme.ipynb?token={token}&reset")
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
    _set_theme(page, theme)
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
                           "03-replay-runs.ipynb"], cwd=work, env=_env(tmp_path / "jupyter"),
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
