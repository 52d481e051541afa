#!/usr/bin/env bash
# ops/check-restore.sh [DUMP] — the restore drill: proves that a backup restores.
#
# Without DUMP, takes a fresh backup of DATABASE_URL (ops/backup.sh, into a temporary
# directory removed at the end); with DUMP, checks that backup (its .manifest beside it).
# Restores it into a scratch database (ops/restore.sh), then verifies:
#   1. every table, its row count and its content fingerprint equal the manifest, which
#      backup.sh counted in the dump's own snapshot (a table missing, emptied, short of a
#      row or with a changed row fails);
#   2. `esante migrate --check` on the restored database: the code and the schema agree;
#   3. a sample query through the app's own tables.
# The scratch database is dropped at the end, whatever happened. Exits 0 when the restore
# is exact, 1 on any difference, 2 on a usage error.
# The scratch database is created on the server of RESTORE_CHECK_SERVER_URL (any database
# URL of that server; default DATABASE_URL), by a role allowed to CREATE DATABASE.
# `esante` is taken from ESANTE_BIN, else from PATH; it runs with the environment given.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ops/lib.sh
. "$here/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help || $# -gt 1 ]]; then
  sed -n '2,17s/^# \{0,1\}//p' "$0"
  exit 2
fi
[[ -n ${DATABASE_URL:-} ]] || die "DATABASE_URL is not set"
server=${RESTORE_CHECK_SERVER_URL:-$DATABASE_URL}
esante=${ESANTE_BIN:-esante}
command -v "$esante" >/dev/null || die "$esante not found: set ESANTE_BIN or PATH"

fail() {
  printf 'check-restore: FAILED: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d)
split_url "$server"
scratch="esante_restore_check_$(date -u +%Y%m%d%H%M%S)_$$"
scratch_url=$(url_for "$scratch")
if [[ -n $url_password ]]; then
  # restore.sh, psql and esante (libpq all three) find the scratch database's password
  # here, never in a command line.
  export PGPASSWORD=$url_password
fi
created=''
cleanup() {
  if [[ -n $created ]]; then
    psql_rows "$server" --command="DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" ||
      printf 'check-restore: could not drop the scratch database %s\n' "$scratch" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ $# -eq 1 ]]; then
  dump=$1
else
  dump=$("$here/backup.sh" "$work")
fi
[[ -f $dump.manifest ]] || die "$dump.manifest not found: check a backup made by ops/backup.sh"
printf 'check-restore: %s into the scratch database %s\n' "$dump" "$scratch"

psql_rows "$server" --command="CREATE DATABASE \"$scratch\""
created=1
"$here/restore.sh" "$dump" "$scratch_url" 2>"$work/restore.log" ||
  fail "the restore stopped: $(cat "$work/restore.log")"

# 1. Every table, its rows and its content, as in the dump's snapshot.
printf '%s\n' "$MANIFEST_SQL" | psql_rows "$scratch_url" --file=- >"$work/restored.manifest"
if ! diff "$dump.manifest" "$work/restored.manifest" >"$work/manifest.diff"; then
  printf 'check-restore: table, rows, fingerprint (< backup, > restored):\n' >&2
  grep '^[<>]' "$work/manifest.diff" >&2 || true
  fail "the restored database differs from the backup"
fi
tables=$(wc -l <"$dump.manifest")
rows=$(awk -F '\t' '{ total += $2 } END { print total }' "$dump.manifest")
printf 'check-restore: %d tables, %d rows: identical\n' "$tables" "$rows"

# 2. The code of this release and the restored schema agree (no migration missing). On the
# scratch database only: without the schema owner's URL of the app's environment.
env -u DATABASE_OWNER_URL -u DATABASE_OWNER_URL_FILE DATABASE_URL="$scratch_url" \
  "$esante" migrate --check >"$work/migrate.log" 2>&1 ||
  fail "esante migrate --check on the restored database: $(cat "$work/migrate.log")"
printf 'check-restore: esante migrate --check: no migration missing\n'

# 3. A sample query across the app's tables, as the app would read them.
sample=$(psql_rows "$scratch_url" --command="
  SELECT format('%s insured persons, %s accounts, %s audit events (last: %s), %s DSP accesses',
    (SELECT count(*) FROM registry_insuredperson), (SELECT count(*) FROM accounts_account),
    (SELECT count(*) FROM audit_auditevent),
    coalesce((SELECT max(at) AT TIME ZONE 'UTC' || ' UTC' FROM audit_auditevent)::text, 'none'),
    (SELECT count(*) FROM records_accessentry))") ||
  fail "the sample query failed on the restored database"
printf 'check-restore: sample: %s\n' "$sample"
printf 'check-restore: OK\n'
