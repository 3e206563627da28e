"""The test run keeps the checkout as it found it, and CI never passes a run that tested nothing.

The git status guard (``_git_guard.py``, wired in by ``conftest.py``) is tried on a small
git repository holding this conftest and a test that writes where it should not; pytest
runs there in a subprocess, as ``scripts/test.sh`` would run it here. ``.ci/run`` is tried
with a stand-in for ``scripts/test.sh`` that exits as pytest would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

WRITER = '''\
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_writes(tmp_path, screenshot_dir):
    (tmp_path / "scratch.txt").write_text("fine")  # temporary folders are fine
    (ROOT / ".hypothesis").mkdir(exist_ok=True)  # so are the tools' own caches
    (ROOT / ".hypothesis" / "example").write_text("cache")
    (screenshot_dir / "shot.png").write_bytes(b"png")
    for spec in filter(None, os.environ.get("WRITE", "").split(",")):
        name, _, text = spec.partition("=")
        (ROOT / name).write_text(text)
'''


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A git repository with this suite's conftest and helpers, one writer test, and some tracked files."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    for name in ("conftest.py", "_git_guard.py", "_venvs.py", "_once.py"):
        shutil.copy(TESTS / name, repo / "tests" / name)
    (repo / "tests" / "test_writer.py").write_text(WRITER)
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    (repo / ".gitignore").write_text("*.db\n.hypothesis/\n__pycache__/\n.pytest_cache/\n")
    (repo / "tracked.txt").write_text("as committed\n")
    (repo / "notes.txt").write_text("as committed\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def run_pytest(repo: Path, *args: str, write: str = "") -> subprocess.CompletedProcess:
    # only the plugins these runs use (the others installed cost a second each to load)
    env = {**os.environ, "WRITE": write, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "xdist", *args],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_a_run_that_changes_the_checkout_fails_and_names_the_files(checkout):
    (checkout / "notes.txt").write_text("edited by the user\n")
    (checkout / "mine.txt").write_text("untracked, the user's\n")
    # in pytest-xdist's workers, as scripts/test.sh runs them
    proc = run_pytest(checkout, "-n", "2",
                      write="tracked.txt=changed,new.txt=untracked,demo.db=ignored,notes.txt=changed again")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout and "the tests changed the git checkout" in proc.stdout
    listed = proc.stdout.split("the tests changed the git checkout", 1)[1]
    assert re.search(r"^\s+M tracked\.txt$", listed, re.M)
    assert re.search(r"^\s+\?\? new\.txt$", listed, re.M) and re.search(r"^\s+!! demo\.db$", listed, re.M)
    # a file the user had changed before the run, changed again by a test
    assert re.search(r"^\s+M notes\.txt \(was M before the run; content changed\)$", listed, re.M)
    assert "mine.txt" not in listed and ".hypothesis" not in listed and "scratch" not in listed


def test_the_users_own_changes_before_the_run_never_fail_it(checkout, tmp_path):
    (checkout / "tracked.txt").write_text("edited by the user\n")
    (checkout / "mine.txt").write_text("untracked, the user's\n")
    (checkout / "scratch.db").write_text("ignored, the user's\n")
    (checkout / "notes.txt").unlink()
    shots = tmp_path / "shots"
    proc = run_pytest(checkout, "--screenshots", str(shots))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed the git checkout" not in proc.stdout
    assert (shots / "shot.png").read_bytes() == b"png"  # --screenshots: copied once the test passed


def readme_test_command() -> str:
    """The command the README gives for the tests (its opening code block)."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    command = next(line for line in block.splitlines() if "test" in line)
    return command.split("#", 1)[0].strip()


@pytest.mark.parametrize(("pytest_exit", "ci_exit"), [(0, 0), (1, 1), (2, 2), (5, 1)])
def test_ci_runs_the_readme_command_and_fails_when_nothing_was_collected(tmp_path, pytest_exit, ci_exit):
    assert readme_test_command() == "bash scripts/test.sh"
    (tmp_path / ".ci").mkdir()
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    # a stand-in for scripts/test.sh: records how it was called, exits as pytest did
    (tmp_path / "scripts" / "test.sh").write_text(f'echo "$# $PWD" > called\nexit {pytest_exit}\n')
    proc = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], cwd=tmp_path / "scripts", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == ci_exit
    assert (tmp_path / "called").read_text().split() == ["0", str(tmp_path)]  # no arguments, from the top
    assert ("collected no tests" in proc.stderr) == (pytest_exit == 5)
