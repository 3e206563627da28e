#!/usr/bin/env bash
# Set up .venv from pyproject.toml and run the whole test suite (storage, analysis,
# widgets in a real browser, notebooks under nbval). Extra arguments go to pytest.
# Tests run in parallel (pytest-xdist): AGNO_NB_TEST_WORKERS workers (default 4; most
# tests wait on subprocesses, kernels and databases, so more workers than cores pay off),
# the longest first (see tests/conftest.py). `-n 0` runs them one at a time. Tests marked
# xdist_group("name") run on one worker, which starts their module's expensive fixture (a
# JupyterLab, a Dask cluster, a kernel) once; --no-loadscope-reorder keeps the order above.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_venv test
setup_chromium
start_postgres
start_mysql
.venv/bin/python -m pytest -n "${AGNO_NB_TEST_WORKERS:-4}" --dist loadgroup --no-loadscope-reorder "$@"
