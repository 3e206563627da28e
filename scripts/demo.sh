#!/usr/bin/env bash
# The tutorials, offline: set up .venv, build the demo database, check that the notebooks'
# kernel imports what they use and reads the database (so a broken setup fails here, loudly,
# in seconds; scripts/demo_check.py), then serve notebooks/ in JupyterLab.
#   bash scripts/demo.sh            # ... and open the printed URL
#   bash scripts/demo.sh --no-lab   # stop after the check (or AGNO_NB_DEMO_NO_LAB=1)
# PORT picks JupyterLab's port (default 8888).
set -euo pipefail
cd "$(dirname "$0")/.."

no_lab=${AGNO_NB_DEMO_NO_LAB:-0}
for arg in "$@"; do
  case $arg in
    --no-lab) no_lab=1 ;;
    *) echo "usage: bash scripts/demo.sh [--no-lab]" >&2; exit 2 ;;
  esac
done

source scripts/setup.sh
setup_venv notebooks
# Jupyter's python3 kernel runs the first `python` on PATH: make it this venv's.
export PATH="$PWD/.venv/bin:$PATH"

echo "building notebooks/demo.db ..."
python -m agno_nb.demo notebooks/demo.db

echo "checking the notebooks' kernel ..."
python scripts/demo_check.py notebooks

if [ "$no_lab" = 1 ]; then
  exit 0
fi
port=${PORT:-8888}
token=$(python -c "import secrets; print(secrets.token_hex(16))")
echo
echo "JupyterLab: http://127.0.0.1:$port/lab?token=$token"
echo "(Ctrl-C to stop)"
root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(--allow-root)  # containers often run as root; Jupyter refuses without it
# offline: no news feed and no update check, so no "fetch news?" prompt over the notebooks
exec jupyter lab --no-browser --ip 127.0.0.1 --port "$port" --ServerApp.port_retries=0 "${root_flag[@]}" \
  --ServerApp.root_dir="$PWD/notebooks" --IdentityProvider.token="$token" \
  --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
