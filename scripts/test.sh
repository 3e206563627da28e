#!/usr/bin/env bash
# Set up .venv from pyproject.toml and run the whole test suite (storage, analysis,
# widgets in a real browser, notebooks under nbval). Extra arguments go to pytest.
# Tests run in parallel (pytest-xdist): AGNO_NB_TEST_WORKERS workers (default 4; most
# tests wait on subprocesses, kernels and databases, so more workers than cores pay off),
# the longest first; the tests of a module with an expensive shared setup (a JupyterLab, a
# Dask cluster, a kernel) on one worker (see tests/conftest.py). `-n 0` runs them one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_venv test
setup_chromium
start_postgres
start_mysql
.venv/bin/python -m pytest -n "${AGNO_NB_TEST_WORKERS:-4}" --dist load "$@"
