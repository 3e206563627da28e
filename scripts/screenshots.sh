#!/usr/bin/env bash
# Refresh the README's screenshots (docs/img/replay.png, compare.png, browse-dark.png): runs the
# browser test that takes them (tests/test_widgets_browser_keys.py, real JupyterLab in headless
# Chromium) and copies them into docs/img once it passes. The test suite itself only
# ever writes its screenshots to temporary folders. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_venv test
setup_chromium
.venv/bin/python -m pytest -p no:cacheprovider -q tests/test_widgets_browser_keys.py --screenshots docs/img "$@"
git status --short docs/img 2>/dev/null || true
