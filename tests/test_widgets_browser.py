"""The widgets in a real JupyterLab, in headless Chromium: they render, and Next steps the replay.

Starts JupyterLab (the venv's, so its ``python3`` kernel and the ipywidgets lab
extension are the venv's) on 127.0.0.1 with a random token, in a throwaway root and
Jupyter config/data dirs, opens a notebook that writes a demo database and shows
``agno_nb.replay`` and ``agno_nb.compare``, runs every cell, clicks Next, and saves
the screenshots the README shows (``docs/img/replay.png``, ``docs/img/compare.png``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 120_000

SETUP = '''\
import json
import tempfile
from pathlib import Path

import agno_nb
from agno_nb import Agent
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import ScriptedModel, tool_call


def get_weather(city: str) -> str:
    """Current weather in a city."""
    if city == "Atlantis":
        raise LookupError(f"unknown city {city!r}")
    return {"Lisbon": "24C, sunny", "Oslo": "9C, light rain"}[city]


def find_hotels(city: str, nights: int) -> str:
    """Hotels with a free room."""
    return json.dumps([{"name": "Casa Alfama", "price": 88 * nights}, {"name": "Tejo View", "price": 120 * nights}])


db = SqliteDb(db_file=str(Path(tempfile.mkdtemp()) / "demo.db"))
questions = ["What's the weather in Lisbon?", "Find me a hotel in Lisbon for 3 nights.",
             "What should I pack for Oslo?", "And the weather in Atlantis?"]
common = [tool_call("get_weather", {"city": "Lisbon"}), "It is 24C and sunny in Lisbon.",
          tool_call("find_hotels", {"city": "Lisbon", "nights": 3}), "Casa Alfama: 264 EUR for 3 nights."]
concise = Agent(name="Concise", id="concise", db=db, tools=[get_weather, find_hotels],
                instructions=["Answer in one sentence."], add_history_to_context=True, num_history_runs=1,
                model=ScriptedModel(common + [tool_call("get_weather", {"city": "Oslo"}),
                                              "Pack a rain jacket: 9C and light rain.",
                                              tool_call("get_weather", {"city": "Atlantis"}),
                                              "Sorry, I cannot find Atlantis."]))
chatty = Agent(name="Chatty", id="chatty", db=db, tools=[get_weather, find_hotels],
               model=ScriptedModel(common + ["Pack layers, a sweater and sunglasses for Oslo.",
                                             "Atlantis is a legend; no forecast exists."]))
for q in questions:
    concise.run(q, session_id="trip-concise", user_id="alice")
    chatty.run(q, session_id="trip-chatty", user_id="alice")
ex = agno_nb.connect(db)
'''


HOSTILE = '''\
nasty = '<script>alert(1)</script> <img src=x onerror=alert(2)> <a href="javascript:alert(3)">link</a> </div>'
evil = Agent(id="evil", db=db, model=ScriptedModel([nasty]))
evil.run(nasty, session_id="evil", user_id="mallory")
hostile = agno_nb.replay(ex, "evil")
hostile.add_class("agno-hostile")
display(hostile, agno_nb.browse(ex))
'''


def _notebook() -> dict:
    cells = [SETUP, 'replay = agno_nb.replay(ex, "trip-concise")\nreplay',
             'agno_nb.compare(ex, session_ids=["trip-concise", "trip-chatty"])', HOSTILE]
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [],
                   "source": src} for i, src in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab: (base url, token, root dir); shut down and killed afterwards."""
    base = tmp_path_factory.mktemp("lab")
    root, home = base / "root", base / "jupyter"
    root.mkdir()
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # no "get news?" toast over the page, no calls out to the internet
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                           "checkForUpdates": False}))
    (root / "demo.ipynb").write_text(json.dumps(_notebook()))
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
           "MPLBACKEND": "Agg", "JUPYTER_PLATFORM_DIRS": "1"}
    log = open(base / "lab.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1", f"--port={port}", "--port-retries=0",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({proc.returncode}):\n{(base / 'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer:\n{(base / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield url, token, root
    finally:
        _stop(proc, url, token)
        log.close()


def _descendants(pid: int) -> list:
    """Processes started by ``pid``, at any depth (kernels run in their own process groups)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _stop(proc: subprocess.Popen, url: str, token: str) -> None:
    """Shut the server down (it stops its kernels), then make sure it and its children are gone."""
    children = _descendants(proc.pid)
    if proc.poll() is None:
        try:
            req = urllib.request.Request(f"{url}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(req, timeout=10).close()
            proc.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)  # the group started with the server: it and its kernels only
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)  # only if a kernel outlived the shutdown
        except ProcessLookupError:
            pass
    assert proc.poll() is not None


def _wait_idle(page) -> None:
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const w = app && app.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return !!k && k.status === 'idle' && !w.sessionContext.isBusy;
        }""", timeout=TIMEOUT_MS)


def test_replay_and_compare_render_and_step_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    url, token, root = lab
    IMG.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{url}/lab/tree/demo.ipynb?token={token}&reset")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            _wait_idle(page)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            replay = page.locator(".agno-replay:not(.agno-hostile)")
            replay.wait_for(state="visible")
            compare = page.locator(".agno-compare")
            compare.wait_for(state="visible")
            _wait_idle(page)

            before = replay.inner_text()
            assert "Session trip-concise" in before and "run 1/4, message 1/5" in before
            assert "Answer in one sentence." in before  # the first step: the system message
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
            replay.screenshot(path=str(IMG / "replay.png"))

            text = compare.inner_text()
            assert "first divergence" in text and "Metrics per session" in text
            assert compare.locator("img[alt='metrics per session']").count() == 1
            compare.scroll_into_view_if_needed()
            compare.screenshot(path=str(IMG / "compare.png"))

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
            _wait_idle(page)
            assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
        finally:
            browser.close()
    for name in ("replay.png", "compare.png"):
        png = (IMG / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
