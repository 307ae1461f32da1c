#!/usr/bin/env bash
# Create the virtualenv and install edgemesh with its development tools.
# Installs bubblewrap (the preferred sandbox) from Debian's packages if missing.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "installing bubblewrap (sandbox for untrusted code)…"
  { as_root apt-get update -qq && as_root apt-get install -y -qq bubblewrap >/dev/null; } \
    || echo "could not install bubblewrap; workers will fall back to unshare or rlimits"
fi

python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
