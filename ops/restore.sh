#!/usr/bin/env bash
# ops/restore.sh DUMP TARGET_DATABASE_URL — restores a backup of ops/backup.sh.
#
# TARGET_DATABASE_URL names an existing, empty database (createdb -O esante_owner esante_new):
# this script never overwrites data; a target holding any table is refused. The restore
# is one transaction (all or nothing), stops at the first error, and makes the objects
# belong to the target URL's user (restore as the schema owner, DATABASE_OWNER_URL's
# role); the planner's statistics are rebuilt at the end. Then give the app's role its
# rights (esante grant-app-role) and point DATABASE_URL at the target.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ops/lib.sh
. "$here/lib.sh"

if [[ $# -ne 2 || $1 == -h || $1 == --help ]]; then
  sed -n '2,9s/^# \{0,1\}//p' "$0"
  exit 2
fi
dump=$1
target=$2
[[ -f $dump && -r $dump ]] || die "$dump: no such readable file"
split_url "$target"

tables=$(psql_rows "$target" --command="
  SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'")
if [[ $tables != 0 ]]; then
  die "the target database $url_database is not empty ($tables tables): restore into a new database"
fi

pg_run "$target" pg_restore --no-password --exit-on-error --single-transaction \
  --no-owner --no-acl "$dump"
psql_rows "$target" --command='ANALYZE'
printf 'restored %s into %s\n' "$dump" "$url_database" >&2
