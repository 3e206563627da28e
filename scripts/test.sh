#!/usr/bin/env bash
# Set up .venv from pyproject.toml and run the whole test suite (storage, analysis,
# widgets in a real browser, notebooks under nbval). Extra arguments go to pytest.
# Tests run in parallel (pytest-xdist): AGNO_NB_TEST_WORKERS workers (default 3 on the 2-core
# CI machine: many tests wait on subprocesses, kernels and databases, so one more worker than
# cores pays off, but each worker's collection costs ~10 s of CPU, and 4 were slower),
# the longest first; the tests of a module with an expensive shared setup (a JupyterLab, a
# Dask cluster, a kernel) on one worker (see tests/conftest.py). `-n 0` runs them one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_venv test
setup_chromium
start_postgres
start_mysql
# Bytecode: where PYTHONDONTWRITEBYTECODE is set, every process of the run (workers, kernels,
# the tests' subprocesses) would compile pandas, DuckDB and Jupyter from source again. The run
# keeps the bytecode it compiles in .venv/pycache instead (never beside the checkout's files).
export PYTHONPYCACHEPREFIX="$PWD/.venv/pycache"
unset PYTHONDONTWRITEBYTECODE
.venv/bin/python -m pytest -n "${AGNO_NB_TEST_WORKERS:-3}" --dist load "$@"
