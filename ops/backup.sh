#!/usr/bin/env bash
# ops/backup.sh [DIRECTORY] — a backup of the eSanté database named by DATABASE_URL.
#
# Writes DIRECTORY/esante-<database>-<UTC time>.dump, pg_dump's custom format (compressed;
# ops/restore.sh and pg_restore read it), and beside it the same name + ".manifest": the
# rows and a fingerprint of every table, counted in the very snapshot pg_dump saved, so
# that ops/check-restore.sh can prove that a restore gives back exactly what was dumped.
# DIRECTORY defaults to $ESANTE_BACKUP_DIR, then ./backups. Both files are private (0600):
# the dump holds health data, password hashes and sealed authenticator secrets.
# Prints the dump's path on standard output. Exits non-zero, leaving nothing, on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ops/lib.sh
. "$here/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help || $# -gt 1 ]]; then
  sed -n '2,10s/^# \{0,1\}//p' "$0"
  exit 2
fi
[[ -n ${DATABASE_URL:-} ]] || die "DATABASE_URL is not set"
directory=${1:-${ESANTE_BACKUP_DIR:-./backups}}

umask 077
mkdir -p "$directory"
split_url "$DATABASE_URL"
dump="$directory/esante-$url_database-$(date -u +%Y%m%dT%H%M%SZ).dump"
[[ ! -e $dump ]] || die "$dump already exists"
partial="$dump.partial"
done_marker="$dump.partial.done"
trap 'rm -f "$partial" "$partial.manifest" "$done_marker"' EXIT

# One read-only transaction exports its snapshot; pg_dump (run from psql with \!, while
# the transaction stays open) dumps that snapshot, and the manifest is counted in it: the
# dump and its manifest describe the same instant, however busy the database is.
export ESANTE_DUMP_PARTIAL=$partial ESANTE_DUMP_DONE=$done_marker ESANTE_DUMP_URL
ESANTE_DUMP_URL=$(url_for "$url_database")
{
  # shellcheck disable=SC2016 # expanded by the shell that psql's \! starts, not here
  printf '%s\n' \
    'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;' \
    'SELECT pg_export_snapshot() AS snapshot \gset' \
    '\setenv ESANTE_DUMP_SNAPSHOT :snapshot' \
    '\! pg_dump --format=custom --no-password --snapshot="$ESANTE_DUMP_SNAPSHOT" --dbname="$ESANTE_DUMP_URL" --file="$ESANTE_DUMP_PARTIAL" && : > "$ESANTE_DUMP_DONE"'
  printf '%s\n' "$MANIFEST_SQL" 'COMMIT;'
} | psql_rows "$DATABASE_URL" --file=- > "$partial.manifest"

# psql 15 does not report a failed \! command: pg_dump's success leaves the marker.
[[ -e $done_marker ]] || die "pg_dump failed; no backup written"
[[ -s $partial.manifest ]] || die "the database has no table; no backup written"
mv "$partial.manifest" "$dump.manifest"
mv "$partial" "$dump"
printf '%s\n' "$dump"
