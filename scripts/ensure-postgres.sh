#!/usr/bin/env bash
# Print a PostgreSQL URL with which the tests can create and drop databases.
# Uses the server on 127.0.0.1:5432 if it lets us in (trust auth, as on CI);
# otherwise installs Debian's postgresql if needed, starts it, and creates a
# role of our own (edgemesh_test) rather than touching anyone else's.
set -euo pipefail

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "need root (or sudo) to run: $*" >&2; return 1
  fi
}

answers() {
  "$PYTHON" - "$1" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
}

PYTHON=${PYTHON:-python3}
ours="postgresql://edgemesh_test:edgemesh@127.0.0.1:5432/postgres"
for url in "${EDGEMESH_TEST_PG_URL:-}" \
           "postgresql://postgres@127.0.0.1:5432/postgres" "$ours"; do
  if [ -n "$url" ] && answers "$url"; then echo "$url"; exit 0; fi
done

echo "no PostgreSQL answers on 127.0.0.1:5432; installing Debian's postgresql…" >&2
servers() { ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null || true; }
if [ -z "$(servers)" ]; then
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
# The newest installed server, not the newest config folder: a removed
# package can leave its /etc/postgresql/NN behind.
version=$(servers | sed 's#/usr/lib/postgresql/\([^/]*\)/.*#\1#' | sort -V | tail -n 1)
[ -n "$version" ] || { echo "no PostgreSQL server could be installed" >&2; exit 1; }
if [ ! -d "/etc/postgresql/$version/main" ]; then
  as_root pg_createcluster "$version" main >&2
fi
as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
# Debian moves a new cluster to the next free port when 5432 is taken.
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')
ours="postgresql://edgemesh_test:edgemesh@127.0.0.1:${port:-5432}/postgres"
create_role="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'edgemesh_test') THEN
    CREATE ROLE edgemesh_test LOGIN CREATEDB PASSWORD 'edgemesh';
  END IF;
END \$\$;"
for _ in $(seq 1 30); do
  echo "$create_role" | as_root su postgres -c "psql -q -p ${port:-5432}" >/dev/null 2>&1 && break
  sleep 1
done
answers "$ours" || { echo "PostgreSQL did not come up" >&2; exit 1; }
echo "$ours"
