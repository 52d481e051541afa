# shellcheck shell=bash
# What ops/backup.sh, ops/restore.sh and ops/check-restore.sh share. Sourced, not run.
#
# Database URLs are the app's DATABASE_URL form (postgres:// or postgresql://, as libpq
# reads them). The password is taken out of the URL and handed to libpq in PGPASSWORD,
# so that it never shows in the process list (`ps`) nor in an error message.

die() {
  printf '%s: %s\n' "${0##*/}" "$*" >&2
  exit 2
}

# split_url URL: sets url_scheme, url_user, url_password (decoded), url_host (host[:port]),
# url_database and url_query ("" or "?…"). Refuses anything but a PostgreSQL URL.
split_url() {
  local url=$1 rest
  if [[ ! $url =~ ^(postgres|postgresql):// ]]; then
    die "not a PostgreSQL URL (postgres://user@host:5432/name); SQLite is backed up by copying its file"
  fi
  url_scheme=${url%%://*}
  rest=${url#*://}
  url_user='' url_password=''
  if [[ $rest == *@* ]]; then
    local userinfo=${rest%%@*}
    rest=${rest#*@}
    url_user=${userinfo%%:*}
    if [[ $userinfo == *:* ]]; then
      url_password=${userinfo#*:}
      # Percent-decoding, as libpq does for a URL (%40 is @).
      url_password=$(printf '%b' "${url_password//%/\\x}")
    fi
  fi
  url_query=''
  if [[ $rest == *\?* ]]; then
    url_query="?${rest#*\?}"
    rest=${rest%%\?*}
  fi
  url_host=${rest%%/*}
  url_database=''
  if [[ $rest == */* ]]; then
    url_database=${rest#*/}
  fi
  if [[ -z $url_database ]]; then
    die "the URL names no database"
  fi
}

# url_for DATABASE_NAME: the URL of the last split_url, without its password, naming
# another database on the same server.
url_for() {
  local userinfo=''
  if [[ -n $url_user ]]; then
    userinfo="$url_user@"
  fi
  printf '%s://%s%s/%s%s' "$url_scheme" "$userinfo" "$url_host" "$1" "$url_query"
}

# pg_run URL COMMAND [ARGS…]: runs a PostgreSQL client (psql, pg_dump, pg_restore) on the
# database of URL, its password in the environment only.
pg_run() {
  local url=$1
  shift
  split_url "$url"
  local command=$1
  shift
  if [[ -n $url_password ]]; then
    PGPASSWORD=$url_password "$command" --dbname="$(url_for "$url_database")" "$@"
  else
    "$command" --dbname="$(url_for "$url_database")" "$@"
  fi
}

# psql with settings that make its output a stable, plain list: no .psqlrc, stop at the
# first error, unaligned rows separated by tabs, no headers nor footers.
psql_rows() {
  local url=$1
  shift
  pg_run "$url" psql -X -q -v ON_ERROR_STOP=1 --no-align --tuples-only --field-separator=$'\t' "$@"
}

# The manifest of a database: one line per table, "schema.table<TAB>rows<TAB>fingerprint".
# The fingerprint is the sum of the rows' md5 (60 bits each): any changed, lost or added
# row changes it, in one pass and constant memory whatever the table's size, whatever the
# rows' order. The session settings fix how values are written as text (time zone, dates,
# floats, bytea), so that two servers configured differently still agree.
# shellcheck disable=SC2034 # used by the scripts that source this file
MANIFEST_SQL=$(cat <<'SQL'
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;
SET bytea_output = 'hex';
SELECT format(
    'SELECT %L, count(*), coalesce(sum((''x'' || left(md5(t::text), 15))::bit(60)::bigint), 0) FROM %I.%I AS t',
    format('%s.%s', n.nspname, c.relname), n.nspname, c.relname)
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, c.relname
\gexec
SQL
)
