"""Benchmark: complete patient logins against gunicorn on PostgreSQL and Redis.

    .venv/bin/python bench/login.py --clients 4 16 --seconds 30

A complete login is what a browser does: the login page, matricule and password posted
(one Argon2id verification), the code page, the one-time code posted (read from the
outbox table, as the patient reads their e-mail), and *Mes services eSanté*. Each
patient logs in once, from a loopback address of their own and a browser the account
knows (its device cookie), so no rate limit or "new device" notice is involved.

Measures, in the same run: (a) the baseline, the CPU time of one Argon2id verification
with the project's hasher and parameters (settings.PASSWORD_HASHERS), in this process
before and after the load; (b) for each number of concurrent clients, complete logins
per second, and the server's CPU during the run (utime + stime from /proc of gunicorn's
master and workers, the PostgreSQL cluster and the Redis server: webserver.Server.cpu)
divided by the logins done, and that over (a). Target (issue 16): server CPU per login ≤
1.5 × (a), and below the ratio of django-allauth's login measured the same hour
(bench/peer.py).

The server runs in demo mode (ESANTE_DEMO=1) for one reason: outside demo mode the
outbox masks the code in a message's body once the message is delivered, so nothing
could read it. Demo mode changes nothing else on the login's path but a banner and plain
HTTP (no TLS proxy is claimed: the client sends no X-Forwarded-Proto, and its Origin is
http://); see docs/benchmarks.md. The database (`bench_login_<pid>`) is created on the PostgreSQL
server of DATABASE_URL (default: local) and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import webserver
from bench.httpclient import Session, loopback_address

LOGIN = "/connexion/patient/"
LOGIN_CODE = "/connexion/patient/code/"
SERVICES = "/mes-services/"
DEVICE_COOKIE = "esante_appareil"  # esante.accounts.patient_sessions.DEVICE_COOKIE
ONE_TIME_CODE = re.compile(r"\b\d{6}\b")
WARM_UP_LOGINS = 16


@dataclass(frozen=True)
class Level:
    clients: int
    logins: int
    seconds: float
    server_cpu: webserver.Cpu
    client_cpu: float


async def read_code(outbox: object, person_id: int) -> str:
    """The code in the newest message to the person (the e-mail they would read)."""
    import psycopg

    assert isinstance(outbox, psycopg.AsyncConnection)
    cursor = await outbox.execute(
        "SELECT body FROM notifications_outboundmessage WHERE person_id = %s "
        "ORDER BY id DESC LIMIT 1",
        (person_id,),
    )
    row = await cursor.fetchone()
    found = ONE_TIME_CODE.search(row[0]) if row else None
    if found is None:
        raise AssertionError(f"no one-time code in the outbox for person {person_id}")
    return found.group()


async def log_in(port: int, patient: webserver.Patient, outbox: object) -> None:
    """One complete login, as a browser does it; raises if any step answers otherwise."""
    browser = Session(
        port,
        loopback_address(patient.number),
        {DEVICE_COOKIE: patient.device_cookie},
        https=False,  # demo mode serves plain HTTP, as `make run` does
    )
    try:
        page = await browser.get(LOGIN)
        credentials = {"matricule": patient.matricule, "password": webserver.PASSWORD}
        sent = await browser.post(LOGIN, {"csrfmiddlewaretoken": page.csrf_token(), **credentials})
        if (sent.status, sent.location) != (302, LOGIN_CODE):
            raise AssertionError(f"credentials: {sent.status} {sent.location}")
        code_page = await browser.get(LOGIN_CODE)
        code = await read_code(outbox, patient.person_id)
        done = await browser.post(
            LOGIN_CODE, {"csrfmiddlewaretoken": code_page.csrf_token(), "code": code}
        )
        if (done.status, done.location) != (302, SERVICES):
            raise AssertionError(f"code: {done.status} {done.location}")
        home = await browser.get(SERVICES)
        if home.status != 200:
            raise AssertionError(f"Mes services: {home.status}")
    finally:
        await browser.close()


async def run_level(
    server: webserver.Server,
    database_url: str,
    patients: list[webserver.Patient],
    clients: int,
    seconds: float,
) -> Level:
    """`clients` browsers logging in one patient after another for `seconds`."""
    import psycopg

    outboxes = [
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) for _ in range(clients)
    ]
    # The backends of these connections serve the load generator, not the site.
    not_counted = frozenset([outbox.info.backend_pid for outbox in outboxes])
    logins = 0

    async def client(outbox: psycopg.AsyncConnection[tuple[str]]) -> None:
        nonlocal logins
        while time.monotonic() < deadline:
            if not patients:
                raise RuntimeError("every seeded patient has logged in: raise --patients")
            await log_in(server.port, patients.pop(), outbox)
            logins += 1

    server_cpu = server.cpu(not_counted=not_counted)
    client_cpu, started = time.process_time(), time.monotonic()
    deadline = started + seconds
    try:
        await asyncio.gather(*(client(outbox) for outbox in outboxes))
        return Level(
            clients,
            logins,
            time.monotonic() - started,
            server.cpu(not_counted=not_counted) - server_cpu,
            time.process_time() - client_cpu,
        )
    finally:
        for outbox in outboxes:
            await outbox.close()


def hash_verification_cpu(rounds: int) -> float:
    """CPU seconds of one verification of a real account's hash (the login's hasher)."""
    from django.contrib.auth.hashers import check_password

    from esante.accounts.models import Account

    encoded = Account.objects.values_list("password", flat=True).first()
    assert encoded and encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$"), encoded
    started = time.process_time()
    for _ in range(rounds):
        if not check_password(webserver.PASSWORD, encoded):
            raise AssertionError("the seeded hash does not verify")
    return (time.process_time() - started) / rounds


async def measure(
    server: webserver.Server,
    database_url: str,
    patients: list[webserver.Patient],
    levels: list[int],
    seconds: float,
    profile: Path | None = None,
) -> list[Level]:
    import psycopg

    # Every worker thread's first requests load templates and open connections.
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as outbox:
        first = [patients.pop() for _ in range(WARM_UP_LOGINS)]
        await asyncio.gather(*(log_in(server.port, patient, outbox) for patient in first))
    results = []
    for number, clients in enumerate(levels):
        with webserver.py_spy(server, seconds, profile if number == 0 else None):
            results.append(await run_level(server, database_url, patients, clients, seconds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--patients", type=int, default=4000, help="accounts seeded")
    parser.add_argument("--hash-rounds", type=int, default=20)
    parser.add_argument(
        "--profile", type=Path, help="py-spy each worker during the first level, into this dir"
    )
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="esante-bench-login-"))
    try:
        with webserver.own_database(f"bench_login_{os.getpid()}") as database_url:
            environment = webserver.server_environment(database_url, workdir, demo=True)
            try:
                webserver.set_up_django(environment)
                patients = webserver.seed_patients(options.patients)
                print(
                    f"PostgreSQL database {database_url.rsplit('/', 1)[1]}, {len(patients)} "
                    f"patients; gunicorn {webserver.WORKERS} workers × {webserver.THREADS} "
                    f"threads (gthread); {os.cpu_count()} CPU(s)",
                    flush=True,
                )
                hash_before = hash_verification_cpu(options.hash_rounds)
                with webserver.gunicorn(environment, workdir) as server:
                    levels = asyncio.run(
                        measure(
                            server,
                            database_url,
                            patients,
                            options.clients,
                            options.seconds,
                            options.profile,
                        )
                    )
                hash_after = hash_verification_cpu(options.hash_rounds)
            finally:
                webserver.forget_redis_keys(environment)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    hash_cpu = statistics.mean([hash_before, hash_after])
    print(
        f"(a) one Argon2id verification (m=19 MiB, t=2, p=1): {hash_cpu * 1000:.1f} ms CPU "
        f"(before the load {hash_before * 1000:.1f} ms, after {hash_after * 1000:.1f} ms)"
    )
    print(
        "Server CPU per login: gunicorn + PostgreSQL + Redis (the issue-16 counting); "
        "the old counting (gunicorn alone) after it."
    )
    print(
        f"{'clients':>7} {'logins':>7} {'seconds':>8} {'logins/s':>9} "
        f"{'server CPU/login':>17} {'× (a)':>6} {'gunicorn':>9} {'postgres':>9} {'redis':>7} "
        f"{'old × (a)':>9} {'client CPU/login':>17}"
    )
    for level in levels:
        cpu, logins = level.server_cpu, level.logins
        per_login = cpu.total / logins
        print(
            f"{level.clients:>7} {logins:>7} {level.seconds:>8.1f} "
            f"{logins / level.seconds:>9.1f} {per_login * 1000:>14.1f} ms "
            f"{per_login / hash_cpu:>6.2f} {cpu.gunicorn / logins * 1000:>6.1f} ms "
            f"{cpu.postgres / logins * 1000:>6.1f} ms {cpu.redis / logins * 1000:>4.1f} ms "
            f"{cpu.gunicorn / logins / hash_cpu:>9.2f} "
            f"{level.client_cpu / logins * 1000:>14.1f} ms"
        )
    print(
        "Target (issue 16): server CPU per login ≤ 1.5 × (a), below the django-allauth "
        "peer's ratio measured the same hour (../shared/peers/allauth-login/)."
    )


if __name__ == "__main__":
    main()
