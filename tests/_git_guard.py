"""A pytest plugin that fails the run when the tests changed the git checkout they run from.

Tests write only to temporary folders. This plugin proves it for the files git sees: it
takes ``git status --porcelain --ignored`` (and a hash of every file already listed there)
when the session starts, takes it again when the session ends, and fails the run if
anything differs: a tracked file modified or deleted, a new untracked or ignored file, a
file the user had already changed changed again. What was already dirty before the run
stays out of the verdict unless it changed during the run, so a user's own edits made
before starting the tests never fail it. Tool caches that git ignores and that pytest and
its plugins write by design (``.pytest_cache/``, ``.hypothesis/``, ``__pycache__/``) are
not counted; neither is the folder given to ``--screenshots``, which asks for writing.

It is active only when the rootdir is the top of a git work tree and ``git`` runs, and
only in the controlling process (not in pytest-xdist's workers).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

# Caches written on purpose by the test tools themselves (all in .gitignore).
TOOL_CACHES = {".pytest_cache", ".hypothesis", "__pycache__"}


def _git(root: Path, *args: str) -> bytes | None:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _digest(path: Path) -> str:
    if path.is_symlink():
        return "link:" + str(path.readlink())
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return "dir" if path.is_dir() else "missing"


class GitStatusGuard:
    """Compares the work tree's status before and after the session (see the module docstring)."""

    def __init__(self, root: Path, allowed: list[Path] | None = None) -> None:
        self.root = root
        self.allowed = [p.resolve() for p in allowed or []]
        self.before: dict[str, tuple[str, str]] | None = None

    @classmethod
    def for_checkout(cls, root: Path, allowed: list[Path] | None = None) -> GitStatusGuard | None:
        """A guard if ``root`` is the top of a git work tree, else None."""
        top = _git(root, "rev-parse", "--show-toplevel")
        if top is None or Path(top.decode().strip()).resolve() != root.resolve():
            return None
        return cls(root, allowed)

    def snapshot(self) -> dict[str, tuple[str, str]] | None:
        """path -> (status code, content digest) for every entry ``git status`` lists."""
        # Ignored and untracked folders show as one "dir/" entry (so .venv/ is one line, not
        # thousands); files in them that appear later are not seen, new folders are.
        out = _git(self.root, "status", "--porcelain=v1", "-z", "--ignored=traditional", "--untracked-files=normal")
        if out is None:
            return None
        entries = out.decode("utf-8", "surrogateescape").split("\0")
        state: dict[str, tuple[str, str]] = {}
        i = 0
        while i < len(entries):
            entry = entries[i]
            i += 1
            if not entry:
                continue
            code, path = entry[:2], entry[3:]
            if code[0] in "RC":  # a rename/copy is followed by its source path
                i += 1
            if self._ignored(path):
                continue
            state[path] = (code, _digest(self.root / path))
        return state

    def _ignored(self, path: str) -> bool:
        if TOOL_CACHES.intersection(path.rstrip("/").split("/")):
            return True
        full = (self.root / path).resolve()
        return any(full == a or a in full.parents for a in self.allowed)

    def changes(self, after: dict[str, tuple[str, str]]) -> list[str]:
        """One line per entry that appeared, disappeared or changed since the start."""
        assert self.before is not None
        lines = []
        for path in sorted(set(self.before) | set(after)):
            old, new = self.before.get(path), after.get(path)
            if old == new:
                continue
            if new is None:  # a file the user had changed is back as git has it
                lines.append(f"{old[0]} {path} (clean again)")
            elif old is None:
                lines.append(f"{new[0]} {path}")
            else:
                lines.append(f"{new[0]} {path} (was {old[0].strip()} before the run; content changed)")
        return lines

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.before = self.snapshot()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.before is None:
            return
        after = self.snapshot()
        if after is None:
            return
        changed = self.changes(after)
        if not changed:
            return
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "the tests changed the git checkout", red=True, bold=True)
            reporter.write_line(f"git status in {self.root} differs from the start of the run "
                                "(tests must write only to temporary folders):")
            for line in changed:
                reporter.write_line(f"  {line}")
            reporter.write_line("(a file you edited yourself while the tests ran shows here too)")
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
