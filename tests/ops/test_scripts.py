"""The parts of ops/*.sh that need no database: how a DATABASE_URL reaches libpq."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

OPS = Path(__file__).resolve().parents[2] / "ops"


def bash(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_password_leaves_the_url_for_the_environment() -> None:
    done = bash(
        f'. "{OPS}/lib.sh"; '
        'split_url "postgres://esante:p%40ss%3Aw0rd@db.example.lu:5432/esante?sslmode=require"; '
        'printf "%s\\n" "$url_password" "$url_database" "$(url_for esante_restore)"'
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "p@ss:w0rd",
        "esante",
        "postgres://esante@db.example.lu:5432/esante_restore?sslmode=require",
    ]


def test_the_scripts_refuse_what_is_not_a_postgresql_database(tmp_path: Path) -> None:
    sqlite = bash(f'"{OPS}/backup.sh" "{tmp_path}"', DATABASE_URL="sqlite:///var/esante.sqlite3")
    unset = bash(f'unset DATABASE_URL; "{OPS}/check-restore.sh"')

    assert (sqlite.returncode, unset.returncode) == (2, 2)
    assert "not a PostgreSQL URL" in sqlite.stderr
    assert "DATABASE_URL is not set" in unset.stderr
    assert not list(tmp_path.iterdir())
