"""`make bench`: every benchmark of bench/ at the sizes the issues set as targets.

    make bench                     # PostgreSQL at 127.0.0.1:5432 (the figures in README)
    BENCH_DATABASE_URL=sqlite make bench   # the same on SQLite

login.py, record_page.py, fhir_search.py and budget.py need PostgreSQL and Redis
(database 9, or BENCH_REDIS_URL's): they are skipped on SQLite, and so is peer.py,
django-allauth's login measured beside ours. Each benchmark prints its own figures, with
a baseline measured in the same run (the machine is shared and noisy: compare the
ratios, not the seconds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"

BENCHMARKS = [
    ["import_registry.py", "--rows", "1000000"],
    ["issue_letters.py", "--letters", "100000"],
    ["login.py", "--clients", "4", "16"],
    # Right after ours, within the hour, as issue 16 asks: django-allauth's login.
    ["peer.py"],
    ["record_page.py", "--sessions", "64"],
    # Issue 19: the FHIR DocumentReference search, as a ratio to the record page.
    ["fhir_search.py", "--sessions", "64"],
    ["budget.py", "--logins", "200", "--pages", "400"],
]

# gunicorn on PostgreSQL and Redis (the peer's own benchmark beside the login's)
WEB_BENCHMARKS = {"login.py", "peer.py", "record_page.py", "fhir_search.py", "budget.py"}


def main() -> None:
    env = dict(os.environ)
    database_url = env.pop("BENCH_DATABASE_URL", POSTGRES)
    env.pop("DATABASE_URL", None)
    if database_url != "sqlite":
        env["DATABASE_URL"] = database_url
    failed = 0
    for script, *arguments in BENCHMARKS:
        if database_url == "sqlite" and script in WEB_BENCHMARKS:
            print(f"\n=== {script}: skipped, it needs PostgreSQL and Redis ===", flush=True)
            continue
        print(f"\n=== {script} {' '.join(arguments)} ===", flush=True)
        done = subprocess.run(
            [sys.executable, str(BENCH_DIR / script), *arguments], env=env, check=False
        )
        failed += done.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
