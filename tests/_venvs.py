"""Throwaway virtual environments for the tests that set up agno_nb as a user would.

``tests/test_binder.py`` (Binder's ``requirements.txt`` + ``postBuild``) and
``tests/test_demo.py`` (``scripts/demo.sh``) each build a fresh venv with nothing from
the test environment in it. Both install from one wheelhouse downloaded once per run
from the package index (``pip download -r binder/requirements.txt`` resolves the same
pins a networked ``pip install -r`` would), instead of fetching the same ~200 MB of
wheels twice. pip compiles no bytecode at install time (most of JupyterLab's files are
never imported by a test); the venv's Python writes ``.pyc`` files for what it imports.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
BINDER_REQUIREMENTS = ROOT / "binder" / "requirements.txt"


def run(cmd, timeout: float = 1800, **kwargs) -> str:
    """Run ``cmd``; fail with the tail of its output unless it exits 0."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-10000:]}\n{proc.stderr[-10000:]}"
    return proc.stdout


def build_requirements() -> list[str]:
    """pyproject.toml's ``[build-system] requires``: what ``pip install -e .`` fetches to build agno_nb."""
    text = (ROOT / "pyproject.toml").read_text()
    if tomllib is None:
        return re.findall(r'"([^"]+)"', text.split("[build-system]", 1)[1].split("build-backend", 1)[0])
    return tomllib.loads(text)["build-system"]["requires"]


def download_wheelhouse(dest: Path) -> Path:
    """Download Binder's pinned requirements and the build backend into ``dest``, once.

    Processes that call this at the same time with the same ``dest`` (pytest-xdist workers)
    take turns on a lock: the first downloads, the others find the finished folder.
    """
    done = dest / ".complete"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / f"{dest.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(dest, ignore_errors=True)  # what a failed attempt left
            run([sys.executable, "-m", "pip", "download", "-q", "--dest", dest,
                 "-r", BINDER_REQUIREMENTS, *build_requirements()])
            done.touch()
    return dest


def offline_env(wheelhouse: Path, base: Mapping[str, str], drop: tuple[str, ...] = ()) -> dict[str, str]:
    """``base`` for processes that pip-install into a throwaway venv: from ``wheelhouse`` only.

    The caller's own ``PIP_*`` settings (an index, find-links) are left out so the result
    does not depend on them; ``PYTHONDONTWRITEBYTECODE`` is left out so the venv's Python
    caches the bytecode pip did not compile; ``drop`` names more variables to leave out.
    """
    env = {k: v for k, v in base.items()
           if not k.startswith("PIP_") and k != "PYTHONDONTWRITEBYTECODE" and k not in drop}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse), PIP_COMPILE="0", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env
