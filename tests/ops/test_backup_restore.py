"""ops/backup.sh, ops/restore.sh and ops/check-restore.sh: the restore drill of
docs/operations.md, run on a PostgreSQL database holding real data.

The scripts are other processes (pg_dump, pg_restore, psql, `esante`): they only see
committed rows, hence transactional tests on pytest-django's test database.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client

from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings  # noqa: F401 - autouse
from tests.accounts.wizard import activate
from tests.concurrency import ON_POSTGRESQL
from tests.factories import make_person, years_ago

OPS = Path(__file__).resolve().parents[2] / "ops"
EMAIL = "alice@example.lu"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL: these scripts back it up"),
    pytest.mark.django_db(transaction=True),
]


def database_url(name: str | None = None) -> str:
    """The URL of the test database (or of `name` on its server), as DATABASE_URL."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{name or db['NAME']}"


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "esante.settings",
        "ESANTE_BIN": str(Path(sys.executable).parent / "esante"),
        **env,
    }
    return subprocess.run(
        [str(OPS / script), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", f"--dbname={url}", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def database_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def scratch_database(output: str) -> str:
    found = re.search(r"scratch database (\w+)", output)
    assert found, output
    return found.group(1)


def manifest(dump: Path) -> dict[str, tuple[int, str]]:
    lines = Path(f"{dump}.manifest").read_text().splitlines()
    return {name: (int(rows), fingerprint) for name, rows, fingerprint in map(str.split, lines)}


@pytest.fixture
def people() -> list[InsuredPerson]:
    """Alice activated through the wizard (account, letter, DSP, outbox, audit), Bob and
    Charlie in the registry, and a failed login in the audit log: committed rows."""
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    bob = make_person("Bob", "Martin", years_ago(44), sex="M")
    charlie = make_person("Charlie", "Weber", years_ago(30))
    activate(Client(), alice, EMAIL)
    record_event(EventType.LOGIN_FAILED, actor="system", person=charlie, ip_address="192.0.2.7")
    return [alice, bob, charlie]


@pytest.fixture
def backup(people: list[InsuredPerson], tmp_path: Path) -> Path:
    done = run("backup.sh", str(tmp_path / "backups"))
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def test_backup_is_a_private_timestamped_dump_with_the_manifest_of_its_snapshot(
    backup: Path,
) -> None:
    name = connection.settings_dict["NAME"]
    assert re.fullmatch(rf"esante-{name}-\d{{8}}T\d{{6}}Z\.dump", backup.name)
    for written in (backup, Path(f"{backup}.manifest")):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    tables = manifest(backup)
    assert tables["public.registry_insuredperson"][0] == 3
    assert tables["public.accounts_account"][0] == 1
    assert tables["public.audit_auditevent"][0] >= 5
    listing = subprocess.run(
        ["pg_restore", "--list", str(backup)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "TABLE DATA public registry_insuredperson" in listing


def test_check_restore_passes_on_a_fresh_backup_of_real_data(
    people: list[InsuredPerson],
) -> None:
    done = run("check-restore.sh")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "rows: identical" in done.stdout
    assert "esante migrate --check: no migration missing" in done.stdout
    assert "sample: 3 insured persons, 1 accounts" in done.stdout
    assert done.stdout.rstrip().endswith("check-restore: OK")
    assert not database_exists(scratch_database(done.stdout))


def test_check_restore_checks_the_scratch_database_whatever_the_owner_url_says(
    backup: Path,
) -> None:
    """The app's environment may hold DATABASE_OWNER_URL (docs/operations.md, section 3):
    `esante migrate --check` on the scratch database goes without it."""
    done = run("check-restore.sh", str(backup), DATABASE_OWNER_URL=database_url())

    assert done.returncode == 0, done.stdout + done.stderr
    assert "esante migrate --check: no migration missing" in done.stdout


def test_check_restore_fails_when_a_table_lost_its_rows(backup: Path) -> None:
    # A backup whose audit log came out empty, while its manifest counted the rows.
    subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "--exclude-table-data=public.audit_auditevent",
            f"--dbname={database_url()}",
            f"--file={backup}",
        ],
        check=True,
    )

    done = run("check-restore.sh", str(backup))

    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"^> public\.audit_auditevent\t0\t0$", done.stderr, re.M), done.stderr
    assert "FAILED: the restored database differs from the backup" in done.stderr
    assert "OK" not in done.stdout
    assert not database_exists(scratch_database(done.stdout))


def test_check_restore_fails_when_a_row_changed_and_the_counts_agree(backup: Path) -> None:
    # The backup, restored aside (by restore.sh), one name altered, dumped again.
    altered = f"{connection.settings_dict['NAME']}_altered"
    psql(database_url("postgres"), f'CREATE DATABASE "{altered}"')
    try:
        restored = run("restore.sh", str(backup), database_url(altered))
        assert restored.returncode == 0, restored.stderr
        psql(
            database_url(altered),
            "UPDATE registry_insuredperson SET last_name = 'Mertens' WHERE first_name = 'Bob'",
        )
        subprocess.run(
            ["pg_dump", "--format=custom", f"--dbname={database_url(altered)}", f"--file={backup}"],
            check=True,
        )
    finally:
        psql(database_url("postgres"), f'DROP DATABASE IF EXISTS "{altered}" WITH (FORCE)')

    done = run("check-restore.sh", str(backup))

    assert done.returncode == 1, done.stdout + done.stderr
    changed = re.findall(r"^[<>] public\.registry_insuredperson\t(\d+)\t\d+$", done.stderr, re.M)
    assert changed == ["3", "3"], done.stderr
    assert not database_exists(scratch_database(done.stdout))


def test_restore_refuses_a_database_that_holds_tables(backup: Path) -> None:
    done = run("restore.sh", str(backup), database_url())

    assert done.returncode == 2
    assert "is not empty" in done.stderr
    assert InsuredPerson.objects.count() == 3
