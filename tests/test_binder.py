"""Binder: the environment built from ``binder/`` alone runs every notebook.

A fresh virtual environment gets ``binder/requirements.txt``, then ``binder/postBuild``
runs from a copy of the repository with that environment first on PATH, as
repo2docker does, and every notebook is executed with that environment's kernel.
pip installs from the run's wheelhouse (``_venvs.py``: the same pins, downloaded once
from the index for this test and the demo script's), so nothing of the test
environment is in the Binder one. Slow: a full install and every notebook.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _venvs import offline_env, run

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def copy_repo(dst: Path) -> None:
    """What Binder needs of the repository: the package, its metadata, notebooks, binder/."""
    dst.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, dst / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.db", "*.db-*", ".ipynb_checkpoints", "*.egg-info")
    for name in ("agno_nb", "notebooks", "binder"):
        shutil.copytree(ROOT / name, dst / name, ignore=ignore)


def test_binder_environment_runs_every_notebook(tmp_path, wheelhouse):
    import nbformat  # here, not at the top: every xdist worker imports this module (and nbformat is slow)

    repo, venv = tmp_path / "repo", tmp_path / "venv"
    copy_repo(repo)
    run([sys.executable, "-m", "venv", venv])
    bin_dir = venv / "bin"
    env = offline_env(wheelhouse, os.environ, drop=("AGNO_NB_PG_URL", "PYTHONPATH", "JUPYTER_PATH", "VIRTUAL_ENV"))
    run([bin_dir / "python", "-m", "pip", "install", "-q", "-r", repo / "binder" / "requirements.txt"], env=env)
    env.update(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(venv))

    run(["bash", "binder/postBuild"], cwd=repo, env=env)
    assert (repo / "notebooks" / "demo.db").stat().st_size > 100_000

    # A probe notebook proves the kernel is the Binder environment's Python.
    probe = repo / "notebooks" / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, agno_nb; print(sys.prefix); print(agno_nb.__file__)")]), probe)
    notebooks = sorted((repo / "notebooks").glob("*.ipynb"))
    out = tmp_path / "executed"
    # two nbconvert processes, each with every other notebook: this test is the run's longest,
    # and near its end the other workers are idle (demo.db is already built, so none races to).
    procs = [subprocess.Popen([bin_dir / "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output-dir", out,
                               "--ExecutePreprocessor.timeout=600", *notebooks[half::2]], cwd=repo, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for half in (0, 1)]
    for proc in procs:
        output = proc.communicate(timeout=1800)[0]
        assert proc.returncode == 0, f"nbconvert failed:\n{output[-10000:]}"
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in notebooks]
    printed = json.loads((out / "probe.ipynb").read_text())["cells"][0]["outputs"][0]["text"]
    prefix, module = "".join(printed).split()
    assert Path(prefix).resolve() == venv.resolve() and Path(module).resolve().is_relative_to(repo.resolve())
