"""What the web benchmarks (bench/login.py, bench/record_page.py, bench/fhir_search.py)
share: a PostgreSQL database of their own seeded with activated patients, gunicorn
serving it as in production, and the CPU time that gunicorn spends.

The server runs production's settings (DEBUG off, JSON logs, Redis for the cache,
sessions and rate limits, Argon2id at production parameters) through bench/settings.py,
which only adds a trivial logged-in page. Redis is database 9 (BENCH_REDIS_URL for
another) with a key prefix of this run's own; its keys are deleted at the end.
"""

from __future__ import annotations

import datetime
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
# Database 9; BENCH_REDIS_URL for another (a machine where something else uses 9: a test
# run with REDIS_URL empties its database at every test).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
PASSWORD = "Soleil d'hiver 2024"  # noqa: S105 - every seeded account's, a benchmark's
# gunicorn as `esante serve` runs it: threads overlap the waits on PostgreSQL and Redis;
# two processes, one per core, run Python in parallel despite the GIL.
WORKERS = 2
# Another number of threads, to compare (BENCH_GUNICORN_THREADS=1: one request at a time
# per worker); the figures to report are serve's.
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@contextmanager
def own_database(name: str) -> Iterator[str]:
    """A new database `name` on the server of BENCH_DATABASE_URL (or the local one),
    dropped at the end; yields its URL."""
    import psycopg
    from psycopg import sql

    server_url = os.environ.get("DATABASE_URL") or POSTGRES
    if not server_url.startswith(("postgres://", "postgresql://")):
        sys.exit("The web benchmarks need PostgreSQL: DATABASE_URL must name its server.")
    identifier = sql.Identifier(name)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        yield urlsplit(server_url)._replace(path=f"/{name}").geturl()
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))


def server_environment(database_url: str, workdir: Path, *, demo: bool) -> dict[str, str]:
    """Production's configuration, on this run's database, Redis prefix and var/ dir."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ESANTE_", "DJANGO_", "REDIS_", "DATABASE_", "LOG_", "SECURE_"))
        and key not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_BACKEND")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=os.pathsep.join([str(PROJECT_DIR), str(PROJECT_DIR / "src")]),
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=f"bench-{os.getpid()}",
        DEBUG="0",
        ESANTE_DEMO="1" if demo else "0",
        SECRET_KEY="bench-secret-key-" + secrets.token_urlsafe(40),
        ESANTE_CODE_HMAC_KEY="bench-code-hmac-key-" + secrets.token_urlsafe(20),
        ESANTE_VAR_DIR=str(workdir / "var"),
        ALLOWED_HOSTS="127.0.0.1",
        # TLS ends at the proxy in front of gunicorn, which says so in X-Forwarded-Proto.
        SECURE_PROXY_SSL_HEADER="1",
        # E-mail is "sent" into memory: the outbox table is what the benchmark reads.
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    return environment


def set_up_django(environment: dict[str, str]) -> None:
    """This process on the server's settings and database: migrate, collect static."""
    os.environ.update(environment)
    sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "src")]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


@dataclass(frozen=True)
class Patient:
    number: int  # also picks the loopback address the patient connects from
    person_id: int
    matricule: str
    email: str
    device_cookie: str  # the device cookie of a browser the account knows (no notice)


def seed_patients(count: int) -> list[Patient]:
    """`count` activated adult patients with the same password, each with an e-mail
    channel of their own, a DSP of 6 documents and its organ-donation answer, and a known
    browser. Argon2id runs once here: every account stores that one real hash (the
    production hasher's parameters), so that each login verifies a real hash."""
    from django.contrib.auth.hashers import make_password
    from django.core import signing
    from django.utils import timezone

    from esante.accounts.activation.cgu import CGU_VERSION
    from esante.accounts.models import Account, CodeChannel, KnownDevice
    from esante.accounts.patient_sessions import (
        DEVICE_COOKIE,
        DEVICE_COOKIE_SALT,
        DEVICE_HASH_KIND,
        account_keys,
    )
    from esante.keyed_hash import keyed_hash
    from esante.records.models import CareRecord, Category, Document, OrganDonationDeclaration
    from esante.registry import matricule
    from esante.registry.identifiers import new_esante_id
    from esante.registry.models import InsuredPerson

    password_hash = make_password(PASSWORD)
    now = timezone.now()
    persons = InsuredPerson.objects.bulk_create(
        InsuredPerson(
            matricule=matricule.make(
                datetime.date(1950, 1, 1) + datetime.timedelta(days=n // 900), n % 900
            ),
            esante_id=new_esante_id(),
            first_name="Alice",
            last_name=f"Bench {n}",
            birth_date=datetime.date(1950, 1, 1) + datetime.timedelta(days=n // 900),
            address_line1="12, rue de la Gare",
            postal_code="L-1611",
            locality="Luxembourg",
        )
        for n in range(count)
    )
    accounts = Account.objects.bulk_create(
        Account(
            person=person,
            password=password_hash,
            code_channel=CodeChannel.EMAIL,
            email=f"patient{n}@bench.example",
            cgu_version=CGU_VERSION,
            cgu_accepted_at=now,
        )
        for n, person in enumerate(persons)
    )
    records = CareRecord.objects.bulk_create(CareRecord(person=person) for person in persons)
    OrganDonationDeclaration.objects.bulk_create(
        OrganDonationDeclaration(record=record, refuses_removal=False) for record in records
    )
    categories = list(Category)
    Document.objects.bulk_create(
        Document(
            record=record,
            category=categories[number % len(categories)],
            title=f"Compte rendu {number + 1}",
            author="Centre hospitalier de Luxembourg",
            document_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=number * 30),
            stored_name=secrets.token_hex(16),
            content_type="application/pdf",
            size=120_000,
        )
        for record in records
        for number in range(6)
    )
    tokens = [secrets.token_urlsafe(32) for _ in accounts]
    KnownDevice.objects.bulk_create(
        KnownDevice(account=account, token_hash=keyed_hash(DEVICE_HASH_KIND, token))
        for account, token in zip(accounts, tokens, strict=True)
    )
    # As remember_device signs it (HttpResponse.set_signed_cookie): the account's key, a
    # dot, the token. Until issue 16 the benchmark sent the bare token, which no longer
    # passed the signature: every login was then a new browser's, with its notice.
    signer = signing.get_cookie_signer(salt=DEVICE_COOKIE + DEVICE_COOKIE_SALT)
    return [
        Patient(
            n,
            person.pk,
            person.matricule,
            f"patient{n}@bench.example",
            signer.sign(f"{account_keys(person.matricule)[0]}.{token}"),
        )
        for n, (person, token) in enumerate(zip(persons, tokens, strict=True))
    ]


def forget_redis_keys(environment: dict[str, str]) -> None:
    """Delete this run's sessions and rate-limit counters from its Redis database."""
    import redis

    client = redis.Redis.from_url(environment["REDIS_URL"])
    keys = list(client.scan_iter(match=f"{environment['REDIS_KEY_PREFIX']}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


@dataclass(frozen=True)
class ProcessTimes:
    command: str
    parent: int
    own: int  # utime + stime, in clock ticks
    reaped: int  # cutime + cstime: the children it has waited for


def process_table() -> dict[int, ProcessTimes]:
    """Every process's CPU times from /proc, read at one moment."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a process that has just exited
        command = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()  # fields[0] is the state (field 3)
        table[int(entry.name)] = ProcessTimes(
            command,
            int(fields[1]),
            int(fields[11]) + int(fields[12]),  # utime, stime (fields 14, 15)
            int(fields[13]) + int(fields[14]),  # cutime, cstime (fields 16, 17)
        )
    return table


@dataclass(frozen=True)
class Cpu:
    """CPU seconds of what serves a run: gunicorn (master and workers), PostgreSQL (the
    whole cluster: its postmaster, the backends alive and those it has reaped, the
    writers) and the Redis server. The database and Redis run on this machine, so the
    machine must be quiet: any other client of them is counted too."""

    gunicorn: float
    postgres: float
    redis: float

    @property
    def total(self) -> float:
        return self.gunicorn + self.postgres + self.redis

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.gunicorn - other.gunicorn,
            self.postgres - other.postgres,
            self.redis - other.redis,
        )


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    def cpu(self, *, not_counted: frozenset[int] = frozenset()) -> Cpu:
        """The CPU seconds so far of gunicorn, PostgreSQL and Redis; `not_counted` are
        the PostgreSQL backends of the load generator's own connections."""
        table = process_table()
        gunicorn = sum(
            times.own + (times.reaped if pid == self.pid else 0)
            for pid, times in table.items()
            if pid == self.pid or times.parent == self.pid
        )
        postgres = sum(
            times.own
            + (times.reaped if table.get(times.parent, times).command != "postgres" else 0)
            for pid, times in table.items()
            if times.command == "postgres" and pid not in not_counted
        )
        redis = sum(times.own for times in table.values() if times.command == "redis-server")
        return Cpu(gunicorn / CLOCK_TICKS, postgres / CLOCK_TICKS, redis / CLOCK_TICKS)

    def cpu_seconds(self) -> float:
        """The old counting (until issue 16): the gunicorn master and workers only."""
        return self.cpu().gunicorn

    def worker_pids(self) -> list[int]:
        return [pid for pid, times in process_table().items() if times.parent == self.pid]


@contextmanager
def py_spy(server: Server, seconds: float, output: Path | None) -> Iterator[None]:
    """With `output`, py-spy samples each worker for `seconds` (collapsed stacks, one
    file per worker, for docs/benchmarks.md): the run's figures are then not the ones
    to report, the sampling costs CPU too."""
    if output is None:
        yield
        return
    output.mkdir(parents=True, exist_ok=True)
    py_spy_program = Path(sys.executable).with_name("py-spy")
    samplers = [
        subprocess.Popen(
            [
                str(py_spy_program),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(seconds))),
                "--rate",
                "250",
                "--nonblocking",
                "--gil",  # the thread holding the GIL: Python CPU time, not waits
                "--format",
                "raw",
                "--output",
                str(output / f"worker-{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
        )
        for pid in server.worker_pids()
    ]
    try:
        yield
    finally:
        for sampler in samplers:
            sampler.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def gunicorn(environment: dict[str, str], workdir: Path) -> Iterator[Server]:
    """gunicorn on 127.0.0.1 with the arguments `esante serve` gives it (gthread, its
    access log format on stdout), its access log and JSON application log in
    `workdir`/gunicorn.log; stopped at the end."""
    from esante.portal.management.commands.serve import gunicorn_arguments

    port = free_port()
    log = (workdir / "gunicorn.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            *gunicorn_arguments(f"127.0.0.1:{port}", workers=WORKERS, threads=THREADS),
        ],
        env=environment,
        stdout=log,
        stderr=log,
        cwd=workdir,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = urllib.request.Request(
                    f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-Proto": "https"}
                )
                with urllib.request.urlopen(probe, timeout=5):  # noqa: S310
                    break
            except OSError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    log_name = workdir / "gunicorn.log"
                    raise RuntimeError(f"gunicorn did not start: see {log_name}") from error
                time.sleep(0.2)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]
