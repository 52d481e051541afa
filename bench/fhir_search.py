"""Benchmark: a patient app's FHIR `DocumentReference` search on a record of 1,000
documents, beside the portal's record page of the same record, against gunicorn on
PostgreSQL and Redis (issue 19).

    .venv/bin/python bench/fhir_search.py --sessions 64 --seconds 20 --rounds 2

Each of the 64 sessions is a distinct patient whose DSP holds 1,000 current documents
(`--documents`; the 6 of webserver.seed_patients and the rest bulk-created alike: a
category, a title, an author's name, a date, a PDF's size; no file is read), its
organ-donation answer given. Each patient is on the portal twice: a logged-in browser
(a session in Redis and its PatientSession row, as bench/record_page.py) and a patient
app holding bearer tokens of its own, as the provider issues them (a Token row with the
keyed hash of the token, its standing Consent; one patient-app Service with the scopes
`openid fhirUser launch/patient patient/*.rs`). Both connect from the patient's loopback
address, each over a keep-alive connection of its own. Distinct patients rather than 64
sessions of one: as on the platform, every request reads and journals a record of its
own (64,000 documents in the database, not one hot record), each page and its app read
the very same documents, and each browser is a patient of its own as in record_page.py.

What each side returns, on the same record:
- `record`: the record page (`/dsp/<id>/`, the holder logged in). It has no pagination:
  one answer lists all 1,000 documents (a table row each), with the rest of the page
  (the upload form, the assistants panel, the organ-donation answer) and its
  access-journal line;
- `fhir 50`: `GET /fhir/DocumentReference?patient=<id>&_count=50`, the first page of a
  searchset Bundle (the API's default size): 50 DocumentReference resources, the total
  (1,000) and the paging links; its journal line, its `fhir.request` count in Redis;
- `fhir 200`: the same with `_count=200`, the API's largest page, each app asking the
  five pages (`_offset` 0, 200, … 800) in turn: five of them list the whole record, as
  the record page does in one answer.

Measures, in the same run, the three alternated (`--rounds` each), as record_page.py:
1. saturation: every session sends its next request as soon as the last one answered;
   requests per second, latency percentiles, server CPU per request (gunicorn,
   PostgreSQL and Redis: webserver.Server.cpu), and each search's ratio to the record
   page's run of the same round: requests per second, and CPU per request (search ÷
   record page); per document listed too. With 64 requests always in flight the mean
   latency is 64 / throughput (Little's law): a property of the load, not of the page;
2. a steady load on the `_count=50` search, `--load` times its saturation throughput,
   Poisson arrivals over the 64 apps, each latency counted from the moment its request
   was due.

The rate limit `fhir.request` (1,000 requests an hour per token, esante.ratelimit) is
production's, not raised: it is a table in the code, not a setting bench/settings.py
could change. Each app holds enough tokens instead (each its own line, so its own
count), and uses each for at most TOKEN_BUDGET requests before the next, as an app
whose token was refreshed; their lifetime is the run's (12 hours instead of minutes),
which nothing on the search's path reads but the expiry check.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
import json
import math
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import webserver
from bench.httpclient import Response, Session, loopback_address
from bench.record_page import log_in_sessions

RECORD = "record"
SMALL_PAGE = "fhir 50"
LARGE_PAGE = "fhir 200"
PAGE_SIZES = {SMALL_PAGE: 50, LARGE_PAGE: 200}  # the API's default and largest (settings)
PATIENT_SCOPES = ["openid", "fhirUser", "launch/patient", "patient/*.rs"]
# Requests per token: below fhir.request's 1,000 an hour, the warm-up included.
TOKEN_BUDGET = 900
# More requests per second than this machine serves of any page: the tokens issued are
# enough for every app at this rate over the whole run.
MAX_RATE = 1000
WARM_UP = 2.0  # seconds of each page before the measured runs
TOKEN_LIFETIME = 12 * 3600

Fetch = Callable[[str], Awaitable[Response]]


@dataclass(frozen=True)
class Run:
    page: str
    mode: str
    latencies: list[float]  # sorted, seconds
    seconds: float
    server_cpu: webserver.Cpu
    body_bytes: int
    listed: float  # documents per answer, on average

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def cpu_per_request(self) -> float:
        return self.server_cpu.total / len(self.latencies)

    @property
    def cpu_per_document(self) -> float:
        return self.cpu_per_request / self.listed

    def row(self, baseline: Run | None = None) -> str:
        def ms(fraction: float) -> str:
            return f"{webserver.percentile(self.latencies, fraction) * 1000:>7.1f}"

        if baseline is None:
            throughput_share = cpu_share = f"{'':>6}"
        else:
            throughput_share = f"{self.per_second / baseline.per_second:>6.0%}"
            cpu_share = f"{self.cpu_per_request / baseline.cpu_per_request:>6.0%}"
        requests = len(self.latencies)
        return (
            f"{self.page:<8} {self.mode:<12} {requests:>8} {self.per_second:>7.0f} "
            f"{throughput_share} {ms(0.50)} {ms(0.95)} {ms(0.99)} "
            f"{self.cpu_per_request * 1000:>9.2f} {cpu_share} "
            f"{self.server_cpu.gunicorn / requests * 1000:>8.2f} "
            f"{self.server_cpu.postgres / requests * 1000:>8.2f} "
            f"{self.server_cpu.redis / requests * 1000:>6.2f} "
            f"{self.listed:>5.0f} {self.body_bytes / requests / 1024:>6.0f}"
        )


@dataclass(frozen=True)
class Record:
    number: int  # the patient's, and the loopback address both their clients use
    public_id: str  # the DSP's, which is also its FHIR Patient id


def seed_documents(patients: list[webserver.Patient], documents: int) -> list[Record]:
    """Each patient's DSP filled up to `documents` current documents, made as
    webserver.seed_patients makes its 6 (older dates: the newest stay first)."""
    from esante.records.models import CareRecord, Category, Document

    records = {
        person_id: (pk, public_id)
        for person_id, pk, public_id in CareRecord.objects.filter(
            person_id__in=[p.person_id for p in patients]
        ).values_list("person_id", "pk", "public_id")
    }
    categories = list(Category)
    for patient in patients:
        record_id = records[patient.person_id][0]
        have = Document.objects.filter(record_id=record_id).count()
        Document.objects.bulk_create(
            (
                Document(
                    record_id=record_id,
                    category=categories[number % len(categories)],
                    title=f"Compte rendu {number + 1}",
                    author="Centre hospitalier de Luxembourg",
                    document_date=datetime.date(2025, 12, 31) - datetime.timedelta(days=number * 7),
                    stored_name=secrets.token_hex(16),
                    content_type="application/pdf",
                    size=120_000,
                )
                for number in range(have, documents)
            ),
            batch_size=2000,
        )
    return [Record(p.number, str(records[p.person_id][1])) for p in patients]


def issue_tokens(patients: list[webserver.Patient], per_app: int) -> list[list[str]]:
    """`per_app` live access tokens for each patient's app, as the provider issues them
    (tests/fhir/conftest.issue_token): each a Token row holding the token's keyed hash,
    under the patient's standing Consent to one patient-app Service."""
    from django.utils import timezone

    from esante.keyed_hash import keyed_hash
    from esante.provider.models import Consent, Token
    from esante.provider.server import ACCESS_KIND
    from esante.services.models import ACR_SUBSTANTIAL, Audience, Service

    service = Service.objects.create(
        name="Mon appli santé (benchmark)",
        redirect_uris=["http://127.0.0.1:9/retour"],
        scopes=PATIENT_SCOPES,
        token_endpoint_auth_method=Service.AuthMethod.NONE,
        audience=Audience.PATIENTS,
    )
    Consent.objects.bulk_create(
        Consent(service=service, person_id=patient.person_id, scopes=PATIENT_SCOPES)
        for patient in patients
    )
    now = timezone.now()
    values = [[secrets.token_urlsafe(32) for _ in range(per_app)] for _ in patients]
    Token.objects.bulk_create(
        Token(
            service=service,
            person_id=patient.person_id,
            access_token_hash=keyed_hash(ACCESS_KIND, value),
            scope=" ".join(PATIENT_SCOPES),
            issued_at=now,
            expires_in=TOKEN_LIFETIME,
            auth_time=now - datetime.timedelta(minutes=1),
            acr=ACR_SUBSTANTIAL,
            amr=["pwd", "otp"],
        )
        for patient, tokens in zip(patients, values, strict=True)
        for value in tokens
    )
    return values


class App:
    """A patient app: its connection and its tokens, each used for TOKEN_BUDGET requests."""

    def __init__(self, session: Session, tokens: list[str]):
        self.session = session
        self.tokens = tokens
        self.sent = 0

    async def get(self, path: str) -> Response:
        turn = self.sent // TOKEN_BUDGET
        if turn >= len(self.tokens):
            raise AssertionError(
                f"an app has used its {len(self.tokens)} tokens: raise MAX_RATE in {__file__}"
            )
        self.sent += 1
        headers = {
            "Authorization": f"Bearer {self.tokens[turn]}",
            "Accept": "application/fhir+json",
        }
        return await self.session.get(path, headers)


@dataclass(frozen=True)
class Client:
    """One session's way to a page: `fetch` (the browser's or the app's) and the paths
    it asks in turn."""

    fetch: Fetch
    paths: tuple[str, ...]
    listed: tuple[int, ...]  # documents each path's answer lists


def page_clients(
    page: str, records: list[Record], browsers: list[Session], apps: list[App], documents: int
) -> list[Client]:
    if page == RECORD:
        return [
            Client(browser.get, (f"/dsp/{record.public_id}/",), (documents,))
            for record, browser in zip(records, browsers, strict=True)
        ]
    size = PAGE_SIZES[page]
    offsets = range(0, documents, size) if page == LARGE_PAGE else range(1)
    clients = []
    for record, app in zip(records, apps, strict=True):
        paths = [
            f"/fhir/DocumentReference?patient={record.public_id}&_count={size}"
            + (f"&_offset={offset}" if page == LARGE_PAGE else "")
            for offset in offsets
        ]
        listed = [min(size, documents - offset) for offset in offsets]
        turn = record.number % len(paths)  # every page of the five in flight at once
        clients.append(
            Client(
                app.get, tuple(paths[turn:] + paths[:turn]), tuple(listed[turn:] + listed[:turn])
            )
        )
    return clients


def check(path: str, response: Response) -> None:
    if response.status != 200:
        raise AssertionError(f"{path}: {response.status} {response.body[:300]!r}")


async def saturate(
    server: webserver.Server, clients: list[Client], page: str, seconds: float
) -> Run:
    latencies: list[float] = []
    body_bytes = listed = 0

    async def browse(client: Client) -> None:
        nonlocal body_bytes, listed
        for path, documents in itertools.cycle(zip(client.paths, client.listed, strict=True)):
            if (sent := time.perf_counter()) >= deadline:
                return
            response = await client.fetch(path)
            check(path, response)
            latencies.append(time.perf_counter() - sent)
            body_bytes += len(response.body)
            listed += documents

    server_cpu, started = server.cpu(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(browse(client) for client in clients))
    return Run(
        page,
        "saturation",
        sorted(latencies),
        time.perf_counter() - started,
        server.cpu() - server_cpu,
        body_bytes,
        listed / len(latencies),
    )


async def steady(
    server: webserver.Server, clients: list[Client], page: str, rate: float, seconds: float
) -> Run:
    """Poisson arrivals at `rate` requests/s over all clients; each latency from the
    moment the request was due, so that a client held up by a slow answer counts it."""
    latencies: list[float] = []
    body_bytes = listed = 0
    gap = len(clients) / rate  # each client's mean time between requests

    async def browse(number: int, client: Client) -> None:
        nonlocal body_bytes, listed
        timing = random.Random(number)
        due = started + timing.expovariate(1 / gap)
        for path, documents in itertools.cycle(zip(client.paths, client.listed, strict=True)):
            if due >= deadline:
                return
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            response = await client.fetch(path)
            check(path, response)
            latencies.append(time.perf_counter() - due)
            body_bytes += len(response.body)
            listed += documents
            due += timing.expovariate(1 / gap)

    server_cpu, started = server.cpu(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(browse(n, client) for n, client in enumerate(clients)))
    return Run(
        page,
        f"{rate:.0f}/s steady",
        sorted(latencies),
        time.perf_counter() - started,
        server.cpu() - server_cpu,
        body_bytes,
        listed / max(1, len(latencies)),
    )


async def verify(records: list[Record], browser: Session, app: App, documents: int) -> None:
    """The first patient's page lists every document, and their app's search finds them."""
    record = records[0]
    path = f"/dsp/{record.public_id}/"
    page = await browser.get(path)
    check(path, page)
    section = page.body.split(b'id="documents"', 1)[-1].split(b"</section>", 1)[0]
    rows = section.count(b'<tr role="row">') - 1  # the header's
    if rows != documents:
        raise AssertionError(f"the record page lists {rows} documents, not {documents}")
    path = f"/fhir/DocumentReference?patient={record.public_id}&_count=50"
    found = await app.get(path)
    check(path, found)
    bundle = json.loads(found.body)
    if bundle["total"] != documents or len(bundle["entry"]) != min(50, documents):
        raise AssertionError(f"the search found {bundle['total']}, {len(bundle['entry'])} listed")


async def measure(
    server: webserver.Server,
    records: list[Record],
    cookies: list[dict[str, str]],
    tokens: list[list[str]],
    options: argparse.Namespace,
) -> list[Run]:
    browsers = [
        Session(server.port, loopback_address(record.number), jar)
        for record, jar in zip(records, cookies, strict=True)
    ]
    apps = [
        App(Session(server.port, loopback_address(record.number)), own)
        for record, own in zip(records, tokens, strict=True)
    ]
    pages = {
        page: page_clients(page, records, browsers, apps, options.documents)
        for page in (RECORD, SMALL_PAGE, LARGE_PAGE)
    }
    runs = []
    try:
        await verify(records, browsers[0], apps[0], options.documents)
        for page, clients in pages.items():  # also warms every worker thread up
            await saturate(server, clients, page, WARM_UP)
        for number in range(options.rounds):
            runs.append(await saturate(server, pages[RECORD], RECORD, options.seconds))
            with webserver.py_spy(
                server, options.seconds, options.profile if number == 0 else None
            ):
                runs.append(await saturate(server, pages[SMALL_PAGE], SMALL_PAGE, options.seconds))
            runs.append(await saturate(server, pages[LARGE_PAGE], LARGE_PAGE, options.seconds))
        saturation = statistics.mean(r.per_second for r in runs if r.page == SMALL_PAGE)
        runs.append(
            await steady(
                server, pages[SMALL_PAGE], SMALL_PAGE, saturation * options.load, options.seconds
            )
        )
    finally:
        for session in [*browsers, *(app.session for app in apps)]:
            await session.close()
    return runs


def tokens_per_app(options: argparse.Namespace) -> int:
    """Enough for each app at MAX_RATE over every run that asks the API."""
    api_seconds: float = 2 * WARM_UP + (options.rounds * 2 + 1) * options.seconds
    sessions: int = options.sessions
    return math.ceil(api_seconds * MAX_RATE / sessions / TOKEN_BUDGET) + 1


def report(runs: list[Run], documents: int) -> None:
    print(
        "Server CPU: gunicorn + PostgreSQL + Redis, then each part; ÷rec.: over the record "
        "page's run of the same round (requests/s, CPU/request); docs: documents listed per "
        "answer; KB: its body."
    )
    print(
        f"{'page':<8} {'mode':<12} {'requests':>8} {'req/s':>7} {'÷rec.':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU ms/req':>9} {'÷rec.':>6} "
        f"{'gunicorn':>8} {'postgres':>8} {'redis':>6} {'docs':>5} {'KB':>6}"
    )
    baseline = None
    for run in runs:
        if run.page == RECORD:
            baseline = run
        print(run.row(baseline if run.page != RECORD and run.mode == "saturation" else None))
    rounds = [runs[start : start + 3] for start in range(0, len(runs) - 1, 3)]
    record_cpu = statistics.mean(r.cpu_per_request for r, _s, _l in rounds)
    for index, page in ((1, SMALL_PAGE), (2, LARGE_PAGE)):
        throughput = statistics.mean(each[index].per_second / each[0].per_second for each in rounds)
        cpu = statistics.mean(
            each[index].cpu_per_request / each[0].cpu_per_request for each in rounds
        )
        per_document = statistics.mean(
            each[index].cpu_per_document / each[0].cpu_per_document for each in rounds
        )
        print(
            f"search _count={PAGE_SIZES[page]} ÷ record page: {throughput:.0%} of its "
            f"requests/s, {cpu:.0%} of its server CPU per request, {per_document:.0%} of "
            f"its server CPU per document listed"
        )
    large = statistics.mean(each[2].cpu_per_request for each in rounds)
    pages = math.ceil(documents / PAGE_SIZES[LARGE_PAGE])
    print(
        f"The whole record ({documents:,} documents): the record page in 1 request, "
        f"{record_cpu * 1000:.1f} ms of server CPU; the search in {pages} requests of "
        f"_count={PAGE_SIZES[LARGE_PAGE]}, {pages * large * 1000:.1f} ms "
        f"({pages * large / record_cpu:.0%} of the page's)"
    )
    steady_run = runs[-1]
    print(
        f"p99 of the _count={PAGE_SIZES[SMALL_PAGE]} search at {steady_run.per_second:.0f} "
        f"req/s steady: {webserver.percentile(steady_run.latencies, 0.99) * 1000:.0f} ms "
        f"(p95 {webserver.percentile(steady_run.latencies, 0.95) * 1000:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=64, help="patients, each a page and an app")
    parser.add_argument("--documents", type=int, default=1000, help="in each patient's DSP")
    parser.add_argument("--seconds", type=float, default=20, help="of each run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each page, alternated")
    parser.add_argument(
        "--load", type=float, default=0.5, help="steady run's rate, × the search's saturation"
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy each worker during the first search run, here"
    )
    options = parser.parse_args()
    if options.documents < 6:
        parser.error("--documents: at least the 6 every seeded record has")

    workdir = Path(tempfile.mkdtemp(prefix="esante-bench-fhir-"))
    try:
        with webserver.own_database(f"bench_fhir_{os.getpid()}") as database_url:
            environment = webserver.server_environment(database_url, workdir, demo=False)
            try:
                webserver.set_up_django(environment)
                seeding = time.perf_counter()
                patients = webserver.seed_patients(options.sessions)
                records = seed_documents(patients, options.documents)
                cookies = log_in_sessions(patients)
                tokens = issue_tokens(patients, tokens_per_app(options))
                print(
                    f"PostgreSQL database {database_url.rsplit('/', 1)[1]}, {len(patients)} "
                    f"patients with {options.documents:,} documents each, logged in and with "
                    f"an app of {len(tokens[0])} tokens (seeded in "
                    f"{time.perf_counter() - seeding:.0f} s); gunicorn {webserver.WORKERS} "
                    f"workers × {webserver.THREADS} threads (gthread); {os.cpu_count()} CPU(s)",
                    flush=True,
                )
                with webserver.gunicorn(environment, workdir) as server:
                    client_cpu = time.process_time()
                    runs = asyncio.run(measure(server, records, cookies, tokens, options))
                    client_cpu = time.process_time() - client_cpu
            finally:
                webserver.forget_redis_keys(environment)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    report(runs, options.documents)
    requests = sum(len(r.latencies) for r in runs)
    print(f"Load generator: {client_cpu / requests * 1000:.2f} ms CPU/request")


if __name__ == "__main__":
    main()
