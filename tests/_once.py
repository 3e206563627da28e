"""Something expensive built once per test run and shared by the run's pytest-xdist workers."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path
from typing import Callable


def build_once(dest: Path, build: Callable[[Path], None], what: str) -> None:
    """Have ``build(dest)`` make the folder ``dest``, unless an earlier caller did.

    Processes that call this at the same time with the same ``dest`` (pytest-xdist workers)
    take turns on a lock, so one builds and the others find it finished. A failed build is
    recorded, so that the others fail at once with its output instead of building again.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    done, failed = dest / ".complete", dest.parent / f"{dest.name}.failed"
    with open(dest.parent / f"{dest.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.exists():
            raise AssertionError(f"building {what} failed (in another worker):\n{failed.read_text()}")
        if not done.exists():
            shutil.rmtree(dest, ignore_errors=True)
            try:
                dest.mkdir()
                build(dest)
            except BaseException as exc:
                failed.write_text(str(exc)[-20000:])
                raise
            done.touch()
