# Shared setup steps, sourced by scripts/demo.sh and scripts/test.sh.

venv_uv() {  # installs uv into .venv with its pip and prints its path; says why not and fails otherwise
  if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip -q >/dev/null 2>&1
    local log
    log=$(.venv/bin/python -m pip install -q --disable-pip-version-check uv 2>&1) ||
      { echo "note: pip install uv failed; installing with pip, which takes minutes:" >&2
        echo "$log" | tail -5 >&2; return 1; }
  fi
  echo "$PWD/.venv/bin/uv"
}

setup_venv() {  # setup_venv EXTRA: .venv with agno_nb installed editable with that extra
  # uv (Astral's installer, from PyPI) resolves and installs in seconds where pip takes minutes:
  # $UV or uv on PATH, else installed into .venv by its pip; pip itself if even that fails
  local extra=$1 python=${PYTHON:-python3} uv=${UV:-}
  [ -n "$uv" ] || uv=$(command -v uv 2>/dev/null) || uv=""
  if [ ! -x .venv/bin/python ]; then
    if [ -n "$uv" ]; then
      "$uv" venv -q --seed --python "$python" .venv  # --seed: pip in it, as python -m venv gives
    else
      "$python" -m venv .venv
    fi
  fi
  local stamp=".venv/.installed-$extra" sum
  sum=$(sha256sum pyproject.toml | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    [ -n "$uv" ] || uv=$(venv_uv) || uv=""
    if [ -n "$uv" ]; then
      "$uv" pip install -q --python .venv/bin/python -e ".[$extra]"
    else
      .venv/bin/python -m pip install -q --upgrade pip
      .venv/bin/python -m pip install -q -e ".[$extra]"
    fi
    echo "$sum" > "$stamp"
  fi
}

setup_chromium() {  # Debian's chromium for the browser tests; Playwright never downloads one
  if command -v chromium >/dev/null 2>&1; then return; fi
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
  else
    echo "note: no chromium on PATH and cannot apt-get it; browser tests will fail" >&2
  fi
}

start_postgres() {  # the machine's own PostgreSQL, started if it is installed but down
  if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
      for _ in $(seq 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    fi
  fi
}

start_mysql() {  # the machine's own MariaDB/MySQL, started if it is installed but down
  if command -v mysqladmin >/dev/null 2>&1 && ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
    if [ -x /usr/sbin/mariadbd ]; then
      start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
      for _ in $(seq 20); do mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && break; sleep 0.5; done
    fi
  fi
}
