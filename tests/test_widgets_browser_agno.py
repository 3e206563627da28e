"""Approvals, compaction folds, span waterfalls and the exact model context in a real
JupyterLab (headless Chromium), light and dark: they show, read at AA contrast, and the
browse filter for sessions awaiting approval works from its checkbox.

The notebook reads a copy of the committed agno world (real agno 3.1.10 wrote it).
Screenshots go to ``screenshot_dir`` (``--screenshots DIR`` keeps them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _browser import CONTRAST_JS, chromium, code_notebook, connect_cell, lab_with_database, open_notebook, \
    run_all_cells, set_theme, wait_idle

WORLD = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "agno-3.1-everything.db"
AA = 4.5

CELLS = [
    'import warnings\nwarnings.simplefilter("ignore")  # fake-model has no price\n'
    'approved = agno_nb.replay(ex, "approval_approved").goto(1)\napproved.add_class("agno-t-approved")\n'
    'pending = agno_nb.replay(ex, "approval_pending").goto(1)\npending.add_class("agno-t-pending")\n'
    'display(approved, pending)',
    'folded = agno_nb.replay(ex, "compaction").goto(8)\nfolded.add_class("agno-t-compaction")\nfolded',
    'traced = agno_nb.replay(ex, "tools").goto(3)\ntraced.show_context = True\ntraced.add_class("agno-t-traced")\n'
    'traced',
    'agno_nb.browse(ex)',
]
WIDGETS = ("agno-t-approved", "agno-t-pending", "agno-t-compaction", "agno-t-traced")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab-agno")
    with lab_with_database(base, {"agno.ipynb": code_notebook([connect_cell(base), *CELLS])},
                           lambda path: shutil.copy(WORLD, path)) as running:
        yield running


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_approvals_folds_waterfalls_and_exact_context_in_jupyterlab(lab, theme, screenshot_dir):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, chromium(p) as browser:
        page = open_notebook(browser, lab, "agno.ipynb")
        run_all_cells(page)
        for cls in WIDGETS + ("agno-browse",):
            page.locator(f".{cls}").first.wait_for(state="visible")
        wait_idle(page)
        set_theme(page, theme)
        page.wait_for_timeout(800)
        assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
        tag = theme.split()[-1].lower()

        approved = page.locator(".agno-t-approved")
        box = approved.locator(".agno-approval")
        assert box.count() == 1 and "approved by carol" in box.inner_text()
        pending = page.locator(".agno-t-pending").locator(".agno-approval-pending")
        assert "awaiting approval" in pending.inner_text()
        waterfall = approved.locator(".agno-waterfall")
        assert waterfall.get_attribute("open") is not None
        assert approved.locator(".agno-span").count() == 5
        bars = approved.locator(".agno-span span[style*='position:absolute']").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().width)")
        assert len(bars) == 5 and max(bars) > 20  # drawn, as bars

        folded = page.locator(".agno-t-compaction")
        fold = folded.locator(".agno-compaction")
        assert "6 messages compacted" in fold.inner_text() and "420 → 177" in fold.inner_text()
        summary = fold.locator("details.agno-compaction-summary")
        assert not summary.locator("div").first.is_visible()  # collapsed
        summary.locator("summary").click()
        assert summary.locator("div").first.is_visible()

        traced = page.locator(".agno-t-traced")
        assert "from the trace (exact)" in traced.locator(".agno-context-exact").inner_text()

        for cls in WIDGETS:
            widget = page.locator(f".{cls}")
            widget.scroll_into_view_if_needed()
            widget.screenshot(path=str(screenshot_dir / f"{cls}-{tag}.png"))
            measured = widget.evaluate(CONTRAST_JS)
            low = [m for m in measured if m["ratio"] < AA]
            assert low == [], f"{theme}, {cls}: text below {AA}:1 contrast: {low[:10]}"

        browse = page.locator(".agno-browse")
        checkbox = browse.locator("label", has_text="Only awaiting approval (1 session)")
        checkbox.click()
        page.wait_for_function("() => document.querySelector('.agno-browse').innerText.includes('1 sessions')")
        shown = browse.inner_text().replace("\xa0", " ")
        assert "1 awaiting approval" in shown
        assert browse.locator(".agno-open").first.get_attribute("title") == "approval_pending"
        browse.scroll_into_view_if_needed()
        browse.screenshot(path=str(screenshot_dir / f"agno-browse-awaiting-{tag}.png"))


def test_static_copy_in_nbconvert_html_shows_them_offline(tmp_path, screenshot_dir):
    """``jupyter nbconvert --execute --to html`` with no kernel behind the page and the network
    off: the static copies carry the approval, the fold and the waterfall."""
    import json
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright

    from _browser import jupyter_env

    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(WORLD, work / "agno.db")
    cells = ['import warnings\nwarnings.simplefilter("ignore")\nimport agno_nb\nex = agno_nb.connect("agno.db")',
             'agno_nb.replay(ex, "approval_pending")', 'agno_nb.replay(ex, "compaction")']
    (work / "static.ipynb").write_text(json.dumps(code_notebook(cells)))
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html", "static.ipynb"],
                          cwd=work, env={**jupyter_env(tmp_path / "jupyter"), "PYTHONPATH": str(root)},
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with sync_playwright() as p, chromium(p) as browser:
        context = browser.new_context(offline=True)
        context.route("http*://**", lambda route: route.abort())
        page = context.new_page()
        try:
            page.goto((work / "static.html").as_uri(), wait_until="load")
            page.wait_for_timeout(1000)
            copies = page.locator(".agno-static-copy")
            assert copies.count() == 2 and copies.nth(0).is_visible()
            pending = copies.nth(0)
            assert "awaiting approval" in pending.locator(".agno-approval-pending").inner_text()
            assert pending.locator(".agno-waterfall .agno-span").count() == 2
            folded = copies.nth(1)
            assert folded.locator(".agno-compaction").count() == 2 and folded.locator(".agno-fold").count() == 2
            pending.screenshot(path=str(screenshot_dir / "static-pending.png"))
        finally:
            context.close()
