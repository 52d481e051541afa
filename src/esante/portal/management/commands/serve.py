"""`esante serve`: what `make run` does — migrate, static files, gunicorn (in demo mode,
the demo app's `serve` adds its data before gunicorn: esante.demo).

With DATABASE_OWNER_URL, the schema is migrated by its owner, who then grants the
application's role (DATABASE_URL) its rights; gunicorn starts without the owner's URL."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from esante.audit.app_role import grant_app_role
from esante.commands import BaseCommand, positive_int
from esante.loopback import is_loopback


class Command(BaseCommand):
    help = "Prépare la base et sert le portail avec gunicorn (PORT, défaut 8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        # argparse applies `type` to a default given as a string too: a bad PORT or
        # WEB_CONCURRENCY is refused like a bad option, before anything is done.
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=positive_int, default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers", type=positive_int, default=os.environ.get("WEB_CONCURRENCY", "2")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if settings.ESANTE_DEMO and not is_loopback(host):
            raise CommandError(
                f"Le mode démo (ESANTE_DEMO=1) ne sert qu'en local, en HTTP : --host {host} "
                "est refusé (127.0.0.1, localhost ou ::1)."
            )
        # Collected even in demo mode: with DEBUG off, whitenoise serves STATIC_ROOT only.
        prepare_database()
        call_command("collectstatic", interactive=False, verbosity=0)
        portal = f"{portal_address(host, port)}/"
        self.before_serving(portal)
        self.stdout.write(f"Portail : {portal}")
        self.stdout.flush()
        # The app servers never see the schema owner's URL.
        for name in OWNER_CREDENTIALS:
            os.environ.pop(name, None)
        # Replace this process by gunicorn, so that signals reach it directly.
        os.execv(  # noqa: S606 - a fixed program, arguments from our own options
            sys.executable,
            [
                sys.executable,
                *gunicorn_arguments(f"{host}:{port}", workers=options["workers"]),
                # gunicorn's own start-up lines name the bound 127.0.0.1, where passkeys
                # are not offered; the demo prints the address to open above.
                *(["--log-level", "warning"] if settings.ESANTE_DEMO else []),
            ],
        )

    def before_serving(self, portal: str) -> None:
        """Once the database and static files are ready, before gunicorn: nothing here; the
        demo's `serve` (esante.demo, demo mode) loads its data and says where to try it."""


def portal_address(host: str, port: int) -> str:
    """The address to open: http://localhost:PORT when serving on 127.0.0.1, as passkeys
    (WebAuthn) need a domain name; browsers refuse them at an IP address."""
    if host in ("127.0.0.1", "localhost"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host.strip('[]')}]"
    return f"http://{host}:{port}"


def prepare_database() -> None:
    """migrate and the cache table, as the schema's owner when DATABASE_OWNER_URL is given
    (never then as the application's role, which could not anyway), and the application's
    role's rights after them; without it, as DATABASE_URL's role (SQLite, development)."""
    using = (
        settings.OWNER_DATABASE
        if settings.OWNER_DATABASE in settings.DATABASES
        else DEFAULT_DB_ALIAS
    )
    with one_node_at_a_time(connections[using]):
        call_command("migrate", database=using, interactive=False, verbosity=0)
        call_command("createcachetable", database=using, verbosity=0)
        if using == settings.OWNER_DATABASE:
            grant_app_role(settings.DATABASES[DEFAULT_DB_ALIAS]["USER"], using=using)


# Where the schema owner's URL may come from: gunicorn's environment goes without them.
OWNER_CREDENTIALS = ("DATABASE_OWNER_URL", "DATABASE_OWNER_URL_FILE")

# pg_advisory_lock's key for the schema: any constant the platform uses for nothing else.
MIGRATION_LOCK = 0x65534E54  # "eSNT"


@contextmanager
def one_node_at_a_time(connection: BaseDatabaseWrapper | None = None) -> Iterator[None]:
    """Nodes started together on a release with new migrations run them one after the
    other (PostgreSQL advisory lock, on `connection`, the default one if None): the first
    migrates, the others find nothing to do. SQLite serves one machine: nothing to
    coordinate."""
    if connection is None:
        connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])


# The access log without query strings (an OpenID Connect callback's `code`, a search)
# nor the Referer (which may carry them); with the request id of the app's own lines.
ACCESS_LOG_FORMAT = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}o)s'
)


def gunicorn_arguments(bind: str, *, workers: int, threads: int = 4) -> list[str]:
    """`python -m gunicorn …` as production runs it (and the cluster tests, and the
    benchmarks): gthread workers, the access log on stdout."""
    return [
        "-m",
        "gunicorn",
        "esante.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
    ]
