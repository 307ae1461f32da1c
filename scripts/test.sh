#!/usr/bin/env bash
# The whole test suite, on SQLite and PostgreSQL; what `make test` and CI run.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

[ -x "$venv/bin/python" ] || scripts/bootstrap.sh "$venv"
export EDGEMESH_TEST_PG_URL
EDGEMESH_TEST_PG_URL=$(PYTHON="$venv/bin/python" scripts/ensure-postgres.sh)

"$venv/bin/ruff" format --check src tests bench
"$venv/bin/ruff" check src tests bench
"$venv/bin/mypy"
"$venv/bin/pytest" -n "${EDGEMESH_TEST_WORKERS:-auto}" -p no:cacheprovider "${@:2}"
