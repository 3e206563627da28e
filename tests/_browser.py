"""JupyterLab and headless Chromium for the browser tests (and ``scripts/screenshots.sh``).

``running_lab`` starts the venv's JupyterLab on 127.0.0.1 with a random token, in a
throwaway root and throwaway Jupyter config/data dirs, and stops it (and its kernels)
afterwards. ``open_notebook`` opens a notebook of that root in a Playwright page and
waits for its kernel; ``run_all_cells`` and ``wait_idle`` drive it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 120_000

# Every visible text node under ``root``: its colour (an SVG text's fill) against the background it is
# drawn on (translucent backgrounds composited up to the first opaque one), as a WCAG contrast ratio.
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
    const fg = over(parse(el.closest('svg') ? style.fill : style.color), bg);
    const a = lum(fg), b = lum(bg);
    out.push({text: text.slice(0, 40), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
              color: style.color, background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(',') + ')'});
  }
  return out;
}
"""


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: its base URL, token and root folder."""

    url: str
    token: str
    root: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"


def code_notebook(cells: list[str]) -> dict:
    """An nbformat 4 notebook of code cells for the ``python3`` kernel."""
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [],
                   "source": src} for i, src in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(home: Path) -> dict[str, str]:
    """This process's environment with Jupyter's and IPython's config, data and runtime in ``home``."""
    return {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
            "MPLBACKEND": "Agg", "JUPYTER_PLATFORM_DIRS": "1"}


@contextlib.contextmanager
def running_lab(base: Path, notebooks: dict[str, dict]) -> Iterator[Lab]:
    """JupyterLab serving ``notebooks`` (name -> nbformat dict) from ``base/root``; stopped on exit."""
    root, home = base / "root", base / "jupyter"
    root.mkdir(parents=True)
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # no "get news?" toast over the page, no calls out to the internet
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                           "checkForUpdates": False}))
    for name, nb in notebooks.items():
        (root / name).write_text(json.dumps(nb))
    token, port = secrets.token_hex(16), free_port()
    env = jupyter_env(home)
    log_path = base / "lab.log"
    log = open(log_path, "wb")
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
                raise RuntimeError(f"JupyterLab exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Lab(url, token, root)
    finally:
        stop(proc, url, token)
        log.close()


@contextlib.contextmanager
def lab_with_database(base: Path, notebooks: dict[str, dict], build: Callable[[str], None]) -> Iterator[Lab]:
    """``running_lab``, with ``build(base/"trips.db")`` writing the notebooks' database meanwhile
    in a thread of this process (JupyterLab's start takes seconds); the notebooks read it as ``DB``."""
    db = base / "trips.db"
    failed: list[BaseException] = []

    def write():
        try:
            build(str(db))
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread below
            failed.append(exc)

    worker = threading.Thread(target=write)
    worker.start()
    try:
        with running_lab(base, notebooks) as lab:
            worker.join()
            if failed:
                raise failed[0]
            yield lab
    finally:
        worker.join()


def connect_cell(base: Path) -> str:
    """The first cell of a ``lab_with_database`` notebook: ``DB``, and ``ex`` connected to it."""
    return f"import agno_nb\nDB = {json.dumps(str(base / 'trips.db'))}\nex = agno_nb.connect(DB)"


def descendants(pid: int) -> list[int]:
    """Processes started by ``pid``, at any depth (kernels run in their own process groups)."""
    parents: dict[int, list[int]] = {}
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


def stop(proc: subprocess.Popen, url: str, token: str) -> None:
    """Shut the server down (it stops its kernels), then make sure it and its children are gone."""
    children = descendants(proc.pid)
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


@contextlib.contextmanager
def chromium(playwright):
    """Debian's headless Chromium through Playwright (Playwright never downloads a browser here)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


def open_notebook(browser, lab: Lab, name: str, dialogs: list | None = None):
    """A 1400×1000 page on notebook ``name``, its kernel idle; alert/confirm dialogs go to ``dialogs``."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    if dialogs is not None:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(lab.notebook_url(name))
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    wait_idle(page)
    return page


def run_all_cells(page) -> None:
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def wait_idle(page) -> None:
    """Wait until the current notebook's kernel is idle and nothing is queued."""
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const w = app && app.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return !!k && k.status === 'idle' && !w.sessionContext.isBusy;
        }""", timeout=TIMEOUT_MS)


def set_theme(page, theme: str) -> None:
    """Switch JupyterLab to ``theme`` ("JupyterLab Light" / "JupyterLab Dark") and wait until it shows."""
    page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    light = "true" if theme == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=TIMEOUT_MS)
    page.wait_for_function(
        """(light) => { const bg = getComputedStyle(document.querySelector('.jp-Notebook')).backgroundColor;
                        const v = bg.match(/\\d+/g).slice(0, 3).map(Number).reduce((a, b) => a + b);
                        return light ? v > 600 : v < 150; }""", arg=theme == "JupyterLab Light", timeout=TIMEOUT_MS)
