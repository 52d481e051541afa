"""Benchmark: the record page of *Mon DSP* under 64 logged-in patients, against gunicorn
on PostgreSQL and Redis, beside a trivial logged-in page measured the same way.

    .venv/bin/python bench/record_page.py --sessions 64 --seconds 20

Each of the 64 sessions is a distinct patient, logged in (a session in Redis and its
PatientSession row, as esante.accounts.patient_sessions.log_in leaves them), connecting from a
loopback address of their own over one keep-alive connection. The record page is the
holder's own DSP (6 documents, the organ-donation answer given), its access-journal line
written on every request; the trivial page (bench/urls.py, only in bench/settings.py) is
a login-required view answering a few bytes: middleware, session and patient only.

Measures, in the same run, alternating the two pages (`--rounds` each):
1. saturation: every session sends its next request as soon as the last one answered;
   requests per second, latency percentiles and server CPU per request (gunicorn,
   PostgreSQL and Redis: webserver.Server.cpu). Target (issue 16): the record page at ≥
   40 % of the trivial page's requests per second and CPU per request (aim 60 %). With
   64 requests always in flight, the mean latency is 64 / throughput (Little's law): a
   property of the load, not of the page;
2. a steady load on the record page, `--load` times its saturation throughput, sent as
   Poisson arrivals spread over the 64 sessions, each latency counted from the moment
   its request was due (late starts included). Target: p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
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

TRIVIAL = "/bench/trivial/"
MY_RECORD = "/mon-dsp/"


@dataclass(frozen=True)
class Run:
    page: str
    mode: str
    latencies: list[float]  # sorted, seconds
    seconds: float
    server_cpu: webserver.Cpu

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def cpu_per_request(self) -> float:
        return self.server_cpu.total / len(self.latencies)

    def row(self, baseline: Run | None = None) -> str:
        def ms(fraction: float) -> str:
            return f"{webserver.percentile(self.latencies, fraction) * 1000:>7.1f}"

        if baseline is None:
            throughput_share = cpu_share = f"{'':>6}"
        else:
            throughput_share = f"{self.per_second / baseline.per_second:>6.0%}"
            cpu_share = f"{baseline.cpu_per_request / self.cpu_per_request:>6.0%}"
        requests = len(self.latencies)
        return (
            f"{self.page:<8} {self.mode:<12} {requests:>8} {self.per_second:>7.0f} "
            f"{throughput_share} {ms(0.50)} {ms(0.95)} {ms(0.99)} "
            f"{self.cpu_per_request * 1000:>9.2f} {cpu_share} "
            f"{self.server_cpu.gunicorn / requests * 1000:>8.2f} "
            f"{self.server_cpu.postgres / requests * 1000:>8.2f} "
            f"{self.server_cpu.redis / requests * 1000:>6.2f}"
        )


def log_in_sessions(patients: list[webserver.Patient]) -> list[dict[str, str]]:
    """Each patient's cookies, logged in as esante.accounts.patient_sessions.log_in does it."""
    from django.conf import settings
    from django.contrib.sessions.backends.cache import SessionStore
    from django.utils import timezone

    from esante.accounts.models import Account, PatientSession
    from esante.accounts.patient_sessions import DEVICE_COOKIE, SESSION_KEY

    accounts = dict(
        Account.objects.filter(person_id__in=[p.person_id for p in patients]).values_list(
            "person_id", "pk"
        )
    )
    cookies = []
    for patient in patients:
        store = SessionStore()
        store.create()
        now = timezone.now()
        row = PatientSession.objects.create(
            account_id=accounts[patient.person_id],
            session_key=store.session_key or "",
            started_at=now,
            last_seen_at=now,
            ip_address=loopback_address(patient.number),
            user_agent="esante-bench",
        )
        store[SESSION_KEY] = row.pk
        store.save()
        cookies.append({settings.SESSION_COOKIE_NAME: store.session_key or "", DEVICE_COOKIE: "x"})
    return cookies


async def saturate(
    server: webserver.Server, sessions: list[tuple[Session, str]], page: str, seconds: float
) -> Run:
    latencies: list[float] = []

    async def browse(session: Session, path: str) -> None:
        while (sent := time.perf_counter()) < deadline:
            response = await session.get(path)
            if response.status != 200:
                raise AssertionError(f"{path}: {response.status}")
            latencies.append(time.perf_counter() - sent)

    server_cpu, started = server.cpu(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(browse(session, path) for session, path in sessions))
    return Run(
        page,
        "saturation",
        sorted(latencies),
        time.perf_counter() - started,
        server.cpu() - server_cpu,
    )


async def steady(
    server: webserver.Server,
    sessions: list[tuple[Session, str]],
    rate: float,
    seconds: float,
) -> Run:
    """Poisson arrivals at `rate` requests/s over all sessions; each latency from the
    moment the request was due, so that a session held up by a slow answer counts it."""
    latencies: list[float] = []
    gap = len(sessions) / rate  # each session's mean time between requests

    async def browse(number: int, session: Session, path: str) -> None:
        timing = random.Random(number)
        due = started + timing.expovariate(1 / gap)
        while due < deadline:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            response = await session.get(path)
            if response.status != 200:
                raise AssertionError(f"{path}: {response.status}")
            latencies.append(time.perf_counter() - due)
            due += timing.expovariate(1 / gap)

    server_cpu, started = server.cpu(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(browse(n, s, path) for n, (s, path) in enumerate(sessions)))
    return Run(
        "record",
        f"{rate:.0f}/s steady",
        sorted(latencies),
        time.perf_counter() - started,
        server.cpu() - server_cpu,
    )


async def measure(
    server: webserver.Server,
    patients: list[webserver.Patient],
    cookies: list[dict[str, str]],
    rounds: int,
    seconds: float,
    load: float,
    profile: Path | None,
) -> list[Run]:
    sessions = [
        Session(server.port, loopback_address(patient.number), jar)
        for patient, jar in zip(patients, cookies, strict=True)
    ]
    records = []
    for session in sessions:  # where each one's DSP is; also warms every worker thread up
        found = await session.get(MY_RECORD)
        if found.status != 302 or not found.location.startswith("/dsp/"):
            raise AssertionError(f"Mon DSP: {found.status} {found.location}")
        records.append((session, found.location))
    trivial = [(session, TRIVIAL) for session in sessions]
    await saturate(server, trivial, "trivial", 2)
    await saturate(server, records, "record", 2)
    runs = []
    try:
        for number in range(rounds):
            runs.append(await saturate(server, trivial, "trivial", seconds))
            with webserver.py_spy(server, seconds, profile if number == 0 else None):
                runs.append(await saturate(server, records, "record", seconds))
        saturation = statistics.mean(r.per_second for r in runs if r.page == "record")
        runs.append(await steady(server, records, saturation * load, seconds))
    finally:
        for session in sessions:
            await session.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20, help="of each run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each page, alternated")
    parser.add_argument(
        "--load", type=float, default=0.5, help="steady run's rate, × record saturation"
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy each worker during the first record run, here"
    )
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="esante-bench-record-"))
    try:
        with webserver.own_database(f"bench_record_{os.getpid()}") as database_url:
            environment = webserver.server_environment(database_url, workdir, demo=False)
            try:
                webserver.set_up_django(environment)
                patients = webserver.seed_patients(options.sessions)
                cookies = log_in_sessions(patients)
                print(
                    f"PostgreSQL database {database_url.rsplit('/', 1)[1]}, {len(patients)} "
                    f"logged-in patients; gunicorn {webserver.WORKERS} workers × "
                    f"{webserver.THREADS} threads (gthread); {os.cpu_count()} CPU(s)",
                    flush=True,
                )
                with webserver.gunicorn(environment, workdir) as server:
                    client_cpu = time.process_time()
                    runs = asyncio.run(
                        measure(
                            server,
                            patients,
                            cookies,
                            options.rounds,
                            options.seconds,
                            options.load,
                            options.profile,
                        )
                    )
                    client_cpu = time.process_time() - client_cpu
            finally:
                webserver.forget_redis_keys(environment)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        "Server CPU: gunicorn + PostgreSQL + Redis (the issue-16 counting), then each part; "
        "÷triv.: the trivial run before it over this one, requests/s and CPU/request."
    )
    print(
        f"{'page':<8} {'mode':<12} {'requests':>8} {'req/s':>7} {'÷triv.':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU ms/req':>9} {'÷triv.':>6} "
        f"{'gunicorn':>8} {'postgres':>8} {'redis':>6}"
    )
    baseline = None
    for run in runs:
        if run.page == "trivial":
            baseline = run
        print(run.row(baseline if run.page == "record" and run.mode == "saturation" else None))
    pairs = [
        (trivial, record)
        for trivial, record in itertools.pairwise(runs)
        if (trivial.page, record.page, record.mode) == ("trivial", "record", "saturation")
    ]
    throughput = statistics.mean(r.per_second / t.per_second for t, r in pairs)
    cpu = statistics.mean(t.cpu_per_request / r.cpu_per_request for t, r in pairs)
    old_cpu = statistics.mean(
        (t.server_cpu.gunicorn / len(t.latencies)) / (r.server_cpu.gunicorn / len(r.latencies))
        for t, r in pairs
    )
    steady_run = runs[-1]
    requests = sum(len(r.latencies) for r in runs)
    print(
        f"record page at saturation: {throughput:.0%} of the trivial page's requests/s, "
        f"{cpu:.0%} of its server CPU per request (old counting, gunicorn alone: "
        f"{old_cpu:.0%}); target ≥ 40 %, aim 60 %. p99 at {steady_run.per_second:.0f} req/s "
        f"steady: {webserver.percentile(steady_run.latencies, 0.99) * 1000:.0f} ms "
        f"(target < 100 ms). Load generator: {client_cpu / requests * 1000:.2f} ms CPU/request"
    )


if __name__ == "__main__":
    main()
