"""Every tutorial notebook runs top to bottom under nbval, offline, in Binder's environment.

The kernel is the Binder environment's Python (``binder`` in conftest.py: built once per
run from ``binder/`` alone, see ``_venvs.py`` and ``tests/test_binder.py``), so each
notebook is executed once per run and that one execution proves both that it runs and
shows its stored outputs and that Binder runs it. 02, 03 and 07 run in strict mode: their
stored outputs are compared with fresh ones (after ``nbval_sanitize.cfg``), which holds
because the demo database is deterministic and 07 reads the committed
``notebooks/data/agno-3.1-everything.db`` (real agno 3.1.10 wrote it: ``scripts/agno_world.py``).
The others run with ``--nbval-lax`` (they show wall-clock timings).
nbval runs in a subprocess, in a copy of the notebook and ``notebooks/data/`` without ``demo.db``,
so each run builds the demo database afresh, with an empty ``pytest.ini`` of its own, so it never
sees the outer pytest's options (nor pyproject.toml's, which leave nbval out).
The strict outputs are compared under binder/requirements.txt's pinned versions (pandas's
reprs, say), not whatever the test environment resolved.

After a deliberate change to what the notebooks show (the demo data, DataFrame
columns, widget HTML), store fresh outputs, without live widget state:

    rm -f notebooks/demo.db* && env -u AGNO_NB_PG_URL TQDM_DISABLE=1 .venv/bin/jupyter nbconvert \
        --to notebook --execute --inplace --ExecutePreprocessor.store_widget_state=False notebooks/0*.ipynb

(``demo.db*``: an annotations file or WAL left beside it changes 03's outputs; ``TQDM_DISABLE``:
see below.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from _venvs import BinderEnv, clean_env

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")
STRICT = {"02-sessions-to-dataframes.ipynb", "03-replay-runs.ipynb", "07-everything-agno-stores.ipynb"}
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def run_nbval(tmp_path: Path, notebook: str, binder: BinderEnv, **extra_env: str) -> None:
    work = tmp_path / "notebooks"
    work.mkdir()
    shutil.copy(NOTEBOOKS / notebook, work / notebook)
    shutil.copytree(NOTEBOOKS / "data", work / "data")  # 07's database, which real agno wrote
    data_before = _listing(work / "data")
    shutil.copy(SANITIZE, work / SANITIZE.name)
    (work / "pytest.ini").write_text("[pytest]\n")
    mode = ["--nbval", "--nbval-sanitize-with", SANITIZE.name] if notebook in STRICT else ["--nbval-lax"]
    cmd = [sys.executable, "-m", "pytest", "-c", "pytest.ini", "-q", "-p", "no:cacheprovider", "-p", "nbval", *mode,
           "--nbval-kernel-name", binder.kernel, "--nbval-cell-timeout", "300", notebook]
    # nbval is the one plugin this pytest needs: loading the others installed costs a second each time.
    # TQDM_DISABLE (tqdm's own setting): on a busy machine a load can pass the second after which
    # agno_nb shows a progress bar, an output the stored notebook does not have.
    env = {**binder.kernel_env(clean_env(os.environ)), **extra_env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           "TQDM_DISABLE": "1"}
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"nbval failed on {notebook}:\n{proc.stdout[-15000:]}\n{proc.stderr[-3000:]}"
    # reading the committed data writes nothing beside it (no annotations file, WAL, journal) nor into it
    assert _listing(work / "data") == data_before


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_every_numbered_notebook_is_tested():
    assert [n[:2] for n in ALL] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("notebook", ALL)
def test_notebook(notebook, tmp_path, binder):
    run_nbval(tmp_path, notebook, binder)


def test_postgres_notebook_with_a_server(pg_url, pg_schema, tmp_path, binder):
    """05 against the machine's PostgreSQL, in a fresh schema dropped afterwards."""
    try:
        run_nbval(tmp_path, "05-postgres.ipynb", binder, AGNO_NB_PG_URL=pg_url, AGNO_NB_PG_SCHEMA=pg_schema)
        engine = sa.create_engine(pg_url)
        with engine.connect() as conn:
            n = conn.execute(sa.text(f'select count(*) from "{pg_schema}".notebook_sessions')).scalar()
        engine.dispose()
        assert n == 61  # the demo's 60 sessions and the one the notebook's agent wrote
    finally:
        engine = sa.create_engine(pg_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema if exists "{pg_schema}" cascade'))
        engine.dispose()
