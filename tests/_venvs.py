"""Throwaway virtual environments for the tests that set up agno_nb as a user would.

The Binder environment (``binder/requirements.txt``, then ``binder/postBuild`` from a copy of
the repository, as repo2docker does) is built once per run and shared by the run's
pytest-xdist workers: the first that asks builds it, the others wait on a lock and find it
finished (``binder_environment``, ``_once.build_once``). It is also the kernel every notebook runs in:
``tests/test_notebooks.py`` runs nbval with ``--nbval-kernel-name agno-nb-binder``, a
kernelspec written here that starts the Binder venv's own Python, so one execution of each
notebook proves both that it runs and shows its stored outputs and that Binder's environment
runs it. ``tests/test_binder.py`` proves the kernel is that Python and that postBuild ran.

Packages are installed with uv (a test dependency) from the package index, through uv's
cache: the pins of ``binder/requirements.txt`` install in seconds, where pip took minutes
(pip resolves slowly on this machine). Nothing of the test environment is in the Binder one.
postBuild itself runs the venv's pip, as on Binder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from _once import build_once

ROOT = Path(__file__).resolve().parents[1]
BINDER_KERNEL = "agno-nb-binder"


def run(cmd, timeout: float = 1800, **kwargs) -> str:
    """Run ``cmd``; fail with the tail of its output unless it exits 0."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-10000:]}\n{proc.stderr[-10000:]}"
    return proc.stdout + proc.stderr


def uv_bin() -> str:
    """The uv executable of the test environment (``uv`` is in the ``test`` extra)."""
    from uv import find_uv_bin

    return find_uv_bin()


def clean_env(base: Mapping[str, str], drop: tuple[str, ...] = ()) -> dict[str, str]:
    """``base`` without what would leak the test environment into a new venv's processes.

    ``PYTHONDONTWRITEBYTECODE`` is left out so the venv's Python caches the bytecode uv
    did not compile.
    """
    leave_out = {"VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_PATH", "PYTHONDONTWRITEBYTECODE", "AGNO_NB_PG_URL",
                 "AGNO_NB_PG_SCHEMA", *drop}
    return {k: v for k, v in base.items() if k not in leave_out}


def copy_repo(dst: Path, names: tuple[str, ...] = ("agno_nb", "notebooks", "binder")) -> None:
    """What a user's checkout holds of the repository: the package, its metadata and ``names``.

    Left out: what a local run generates (the demo database postBuild builds, WAL and journal
    files, annotation stores), never a committed data file (``notebooks/data/*.db``).
    """
    dst.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, dst / name)
    ignore = shutil.ignore_patterns("__pycache__", "demo.db", "demo.db[-.]*", "*.db-wal", "*.db-shm", "*.db-journal",
                                    "*.agno_nb-annotations.sqlite*", ".ipynb_checkpoints", "*.egg-info")
    for name in names:
        shutil.copytree(ROOT / name, dst / name, ignore=ignore)


@dataclass(frozen=True)
class BinderEnv:
    """A built Binder environment: the repository copy it was built from, its venv, its kernelspec."""

    repo: Path
    venv: Path
    jupyter_path: Path  # holds kernels/agno-nb-binder/kernel.json
    postbuild_output: str
    kernel: str = BINDER_KERNEL

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def kernel_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` for a process that starts notebook kernels: it finds the Binder kernelspec."""
        return {**base, "JUPYTER_PATH": str(self.jupyter_path)}


def binder_environment(dest: Path) -> BinderEnv:
    """The Binder environment in ``dest``, built by the first caller, found by the others
    (pytest-xdist workers: see ``_once.build_once``)."""
    build_once(dest, _build_binder, "the Binder environment")
    return BinderEnv(repo=dest / "repo", venv=dest / "venv", jupyter_path=dest / "jupyter",
                     postbuild_output=(dest / "postBuild.log").read_text())


def _build_binder(dest: Path) -> None:
    repo, venv = dest / "repo", dest / "venv"
    copy_repo(repo)
    env = clean_env(os.environ)
    uv = uv_bin()
    # --seed: pip in the venv, as in Binder's (postBuild runs it)
    run([uv, "venv", "-q", "--seed", "--python", sys.executable, venv], env=env)
    bin_dir = venv / "bin"
    run([uv, "pip", "install", "-q", "--python", bin_dir / "python", "-r", repo / "binder" / "requirements.txt"],
        env=env)
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(venv))
    (dest / "postBuild.log").write_text(run(["bash", "binder/postBuild"], cwd=repo, env=env))
    spec = dest / "jupyter" / "kernels" / BINDER_KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(bin_dir / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Binder environment)", "language": "python",
        "env": {"PATH": env["PATH"], "VIRTUAL_ENV": str(venv)},
    }, indent=1))
