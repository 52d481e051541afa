"""Issue 13, item 12 (ASVS 5.0 16.4.2): the audit log and the access journals cannot be
erased, not even by the application's own database role.

On every backend the models' querysets refuse update() and delete(). On PostgreSQL the
application runs under a role that owns no table (`DATABASE_URL`); the schema belongs to
another one (`DATABASE_OWNER_URL`), which alone migrates: the application's role may not
TRUNCATE, disable the append-only triggers, nor UPDATE or DELETE a line of those tables.
The test suite itself keeps running as the owner (its live-server tests truncate).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from esante.audit.actions import record_event
from esante.audit.models import AppendOnlyError, AuditEvent, EventType
from esante.records.actions import journal
from esante.records.models import AccessAction, AccessEntry, Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.concurrency import ON_POSTGRESQL, needs_postgresql
from tests.test_settings import run_settings

ROOT = Path(__file__).resolve().parents[2]
APPEND_ONLY_TABLES = ("audit_auditevent", "records_accessentry")


def alices_journal_line(alice: InsuredPerson) -> AccessEntry:
    record = CareRecord.objects.create(person=alice)
    return journal(record, actor=alice, capacity=Capacity.OWNER, action=AccessAction.READ_RECORD)


# Every backend: the application refuses to change or erase a line ----------------------


@pytest.mark.django_db
def test_queryset_update_and_delete_of_the_audit_log_are_refused(alice: InsuredPerson) -> None:
    event = record_event(EventType.LOGIN_FAILED, actor="anonymous", person=alice)

    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(actor="someone")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        alice.audit_events.all().delete()
    event.actor = "someone"
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["actor"])

    assert AuditEvent.objects.get().actor == "anonymous"


@pytest.mark.django_db
def test_queryset_update_and_delete_of_the_access_journal_are_refused(
    alice: InsuredPerson,
) -> None:
    entry = alices_journal_line(alice)

    with pytest.raises(AppendOnlyError):
        AccessEntry.objects.filter(pk=entry.pk).update(target="changed")
    with pytest.raises(AppendOnlyError):
        AccessEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        entry.record.journal.all().delete()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    entry.target = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        AccessEntry.objects.bulk_update([entry], ["target"])

    assert AccessEntry.objects.get().target == ""


# The settings: DATABASE_OWNER_URL beside DATABASE_URL ----------------------------------


@pytest.mark.parametrize(
    ("urls", "refusal"),
    [
        (
            {"DATABASE_OWNER_URL": "esante_owner@db/esante"},
            "DATABASE_OWNER_URL n'est pas une URL de base de données valable",
        ),
        (
            {"DATABASE_OWNER_URL": "postgres://esante_owner:pass word@db:port/esante"},
            "DATABASE_OWNER_URL n'est pas une URL de base de données valable",
        ),
        (
            {"DATABASE_OWNER_URL": "postgres://esante_owner@db/"},
            "DATABASE_OWNER_URL n'est pas une URL de base de données valable",
        ),
        (
            {"DATABASE_URL": "mysql://esante@db/esante"},
            "DATABASE_URL n'est pas une URL de base de données valable",
        ),
        (
            {"DATABASE_URL": "", "DATABASE_OWNER_URL": "postgres://esante_owner@db/esante"},
            "DATABASE_OWNER_URL ne sert qu'avec PostgreSQL",
        ),
        (
            {"DATABASE_OWNER_URL": "sqlite:////tmp/esante.sqlite3"},
            "DATABASE_OWNER_URL doit désigner PostgreSQL",
        ),
        (
            {"DATABASE_URL": "postgres://db/esante"},
            "DATABASE_URL doit nommer le rôle de l'application",
        ),
        (
            {"DATABASE_OWNER_URL": "postgres://esante:other@db/esante"},
            "DATABASE_URL et DATABASE_OWNER_URL nomment le même rôle",
        ),
    ],
)
def test_a_bad_owner_url_stops_the_start_with_a_message_naming_it(
    urls: dict[str, str], refusal: str, tmp_path: Path
) -> None:
    production = {
        "SECRET_KEY": "s" * 50,
        "ESANTE_CODE_HMAC_KEY": "k" * 20,
        "ESANTE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://esante:app-password@db/esante",
        "DATABASE_OWNER_URL": "postgres://esante_owner:owner-password@db/esante",
    }
    assert run_settings(production).returncode == 0

    result = run_settings({**production, **urls})

    assert result.returncode != 0
    assert refusal in result.stderr
    assert "password@" not in result.stderr  # the URL, which may hold one, is not shown


def test_the_app_servers_start_without_the_owner_url(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """`esante serve` keeps the owner's URL to itself: gunicorn's environment lacks it."""
    from esante.portal.management.commands import serve

    seen: dict[str, str] = {}

    def execv(program: str, arguments: list[str]) -> None:
        seen.update(os.environ)
        raise SystemExit(0)

    settings.ESANTE_DEMO = False
    monkeypatch.setattr(serve, "prepare_database", lambda: None)
    monkeypatch.setattr(serve, "call_command", lambda *args, **options: None)
    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.setenv("DATABASE_OWNER_URL", "postgres://esante_owner:owner-password@db/esante")
    monkeypatch.setenv("DATABASE_OWNER_URL_FILE", "/run/secrets/owner-url")

    with pytest.raises(SystemExit):
        call_command("serve", stdout=io.StringIO())

    assert seen
    assert "DATABASE_OWNER_URL" not in seen
    assert "DATABASE_OWNER_URL_FILE" not in seen


# PostgreSQL: the application's role owns nothing and may only append -------------------


def role_name(suffix: str) -> str:
    """A role of this test database only (roles belong to the whole server)."""
    return f"{connection.settings_dict['NAME']}_{suffix}"[:63]


def create_role(name: str, *, login: bool = True) -> None:
    with connection.cursor() as cursor:
        drop_role(name)
        cursor.execute(
            sql.SQL("CREATE ROLE {} {}").format(
                sql.Identifier(name), sql.SQL("LOGIN" if login else "NOLOGIN")
            )
        )


def drop_role(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        if cursor.fetchone() is not None:
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def connect_as(role: str, database: str | None = None) -> psycopg.Connection[Any]:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "localhost",
        port=db["PORT"] or 5432,
        dbname=database or db["NAME"],
        user=role,
        password=db["PASSWORD"] or None,
        autocommit=True,
    )


def refusal(app: psycopg.Connection[Any], statement: str) -> str:
    """The error PostgreSQL answers to `statement` run as the application's role."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        app.execute(statement)
    return str(refused.value)


@pytest.fixture
def app_role() -> Iterator[str]:
    """A login role given the application's rights on the test database (which the test
    suite's own role owns, as production's owner role does)."""
    name = role_name("app")
    create_role(name)
    call_command("grant_app_role", name)
    yield name
    drop_role(name)


@needs_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_app_role_cannot_truncate_disable_the_triggers_delete_or_update(
    app_role: str, alice: InsuredPerson
) -> None:
    record_event(EventType.LOGIN_FAILED, actor="anonymous", person=alice)
    entry = alices_journal_line(alice)
    rows = {
        "audit_auditevent": (
            "(at, event_type, actor, details) VALUES (now(), 'login.failed', 'app', '{}')"
        ),
        "records_accessentry": (
            f"(public_id, record_id, at, capacity, action, target) "
            f"VALUES (gen_random_uuid(), {entry.record_id}, now(), 'owner', 'read_record', '')"
        ),
    }

    with connect_as(app_role) as app:
        for table in APPEND_ONLY_TABLES:
            before = app.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            app.execute(f"INSERT INTO {table} {rows[table]}")
            after = app.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            assert before is not None and after == (before[0] + 1,)

            assert "permission denied" in refusal(app, f"TRUNCATE {table}")
            assert "must be owner" in refusal(
                app, f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"
            )
            assert "must be owner" in refusal(app, f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            assert "permission denied" in refusal(app, f"DELETE FROM {table}")  # noqa: S608
            assert "permission denied" in refusal(app, f"UPDATE {table} SET at = now()")  # noqa: S608
            assert "must be owner" in refusal(app, f"DROP TABLE {table}")

        # The ordinary tables stay the application's to change (but not to truncate).
        app.execute("UPDATE registry_insuredperson SET locality = locality WHERE false")
        app.execute("DELETE FROM django_session WHERE false")
        assert "permission denied" in refusal(app, "TRUNCATE django_session")

    assert AuditEvent.objects.count() == 2
    assert AccessEntry.objects.count() == 2


@needs_postgresql
@pytest.mark.postgres
@pytest.mark.django_db
def test_grant_app_role_refuses_a_role_that_could_erase_the_log() -> None:
    with pytest.raises(CommandError, match="est superutilisateur, ou le propriétaire"):
        call_command("grant_app_role", connection.settings_dict["USER"])
    with pytest.raises(CommandError, match="n'existe pas"):
        call_command("grant_app_role", role_name("nobody"))


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's refusal")
@pytest.mark.django_db
def test_grant_app_role_has_nothing_to_do_on_sqlite() -> None:
    with pytest.raises(CommandError, match="SQLite est un seul fichier, sans rôles"):
        call_command("grant_app_role", "esante")


@pytest.fixture
def fresh_database() -> Iterator[tuple[str, str, str]]:
    """An empty database owned by a schema owner role, and an application role that may
    not even log in yet: (database, owner, app)."""
    database, owner, app = role_name("roles"), role_name("owner"), role_name("app2")
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        create_role(owner)
        create_role(app, login=False)
        cursor.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(owner)
            )
        )
    yield database, owner, app
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
    drop_role(app)
    drop_role(owner)


def url(role: str, database: str) -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{role}{password}@{db['HOST'] or 'localhost'}{port}/{database}"


def prepare_database(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """What `esante serve` does before gunicorn starts, in a process of its own."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from esante.portal.management.commands.serve import prepare_database; "
            "prepare_database()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@needs_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_serve_migrates_with_the_owner_url_and_gives_the_app_role_its_rights(
    fresh_database: tuple[str, str, str],
) -> None:
    database, owner, app = fresh_database
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="esante.settings",
        DATABASE_URL=url(app, database),
        DATABASE_OWNER_URL=url(owner, database),
    )

    # `esante serve`'s preparation of the database, the application's role unable to log
    # in: had any step used DATABASE_URL, it would have failed.
    prepared = prepare_database(env)
    assert prepared.returncode == 0, prepared.stderr

    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(app)))
    with connect_as(owner, database) as schema_owner:
        owners = dict(
            schema_owner.execute(
                "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        )
        privileges = dict(
            schema_owner.execute(
                "SELECT tablename, array_to_string(array["
                " CASE WHEN has_table_privilege(%(app)s, tablename, 'SELECT') THEN 'SELECT' END,"
                " CASE WHEN has_table_privilege(%(app)s, tablename, 'INSERT') THEN 'INSERT' END,"
                " CASE WHEN has_table_privilege(%(app)s, tablename, 'UPDATE') THEN 'UPDATE' END,"
                " CASE WHEN has_table_privilege(%(app)s, tablename, 'DELETE') THEN 'DELETE' END,"
                " CASE WHEN has_table_privilege(%(app)s, tablename, 'TRUNCATE') THEN 'TRUNCATE' END"
                "], ' ') FROM pg_tables WHERE schemaname = 'public'",
                {"app": app},
            ).fetchall()
        )
    assert "audit_auditevent" in owners
    assert "esante_cache" in owners  # createcachetable ran with the owner's URL too
    assert set(owners.values()) == {owner}
    for table, rights in privileges.items():
        expected = "SELECT INSERT" if table in APPEND_ONLY_TABLES else "SELECT INSERT UPDATE DELETE"
        assert (table, rights) == (table, expected)

    with connect_as(app, database) as application:
        application.execute(
            "INSERT INTO audit_auditevent (at, event_type, actor, details) "
            "VALUES (now(), 'login.failed', 'app', '{}')"
        )
        assert "permission denied" in refusal(application, "TRUNCATE audit_auditevent")
        assert "permission denied" in refusal(application, "DELETE FROM records_accessentry")
        # A table the owner adds later (a release's migration) is the application's to use.
        with connect_as(owner, database) as schema_owner:
            schema_owner.execute("CREATE TABLE later (id bigint GENERATED BY DEFAULT AS IDENTITY)")
        application.execute("INSERT INTO later DEFAULT VALUES")
        application.execute("DELETE FROM later")

    # A node given only DATABASE_URL starts on the migrated schema (the release step
    # migrated with the owner's URL): nothing to create, its role's rights suffice.
    del env["DATABASE_OWNER_URL"]
    started = prepare_database(env)
    assert started.returncode == 0, started.stderr
