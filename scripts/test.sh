#!/usr/bin/env bash
# Set up .venv from pyproject.toml and run the whole test suite (storage, analysis,
# widgets in a real browser, notebooks under nbval). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_venv test
setup_chromium
start_postgres
start_mysql
.venv/bin/python -m pytest "$@"
