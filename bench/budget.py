"""Where a request's CPU goes, in one process: the per-request budget of docs/benchmarks.md.

    .venv/bin/python bench/budget.py --logins 200 --pages 400

Runs the login's five requests (the login page, matricule and password, the code page,
the code, *Mes services*) for `--logins` seeded patients, then the *Mon DSP* record page
and the trivial logged-in page `--pages` times each, through Django's test client on
production's settings (DEBUG off, PostgreSQL, Redis, CSRF checked), and prints per
request: the CPU time (median), the SQL statements and Redis commands it sent, and its
CPU split into parts, each measured by a timer around the code that does it:

- each middleware, its own time (what it does around the next one, not the next one);
- the session (read from and written to Redis), the rate limits, the patient's session
  row (request.patient), the audit log and the access journal, the templates, the ORM
  (building the SQL, the round trip, the rows), the statements written by hand
  (esante.raw_sql: the round trip, the rows), the delivery of the code after the
  response, the database health check (`CONN_HEALTH_CHECKS`, measured apart: Django's
  test client skips it);
- the view: what is left of the request.

A part's time excludes the parts it calls (the audit log's INSERT is counted under the
ORM, a template's query too), so the parts add up to the request. The timers cost CPU
themselves (about 2 µs each): the parts are for finding where the time goes; the
request's total is also measured without them, and that is the figure to compare. The
database is this benchmark's own (`bench_budget_<pid>`), in demo mode as bench/login.py
for the same reason (the code is read from the outbox).
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import webserver
from bench.httpclient import loopback_address

ONE_TIME_CODE = re.compile(r"\b\d{6}\b")
LOGIN_STEPS = ("login page", "credentials", "code page", "code", "Mes services")


class Timers:
    """CPU time per part, each part's own (its callees that are parts are subtracted)."""

    def __init__(self) -> None:
        self.own: collections.Counter[str] = collections.Counter()
        self.enabled = False
        self._stack = threading.local()

    def wrap(self, part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return function(*args, **kwargs)
            stack = self._stack.__dict__.setdefault("frames", [])
            stack.append(0.0)
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.thread_time() - started
                inner = stack.pop()
                self.own[part] += elapsed - inner
                if stack:
                    stack[-1] += elapsed

        return timed

    def patch(self, owner: Any, name: str, part: str) -> None:
        setattr(owner, name, self.wrap(part, getattr(owner, name)))


def install_timers(timers: Timers) -> None:
    """Timers around the parts of a request (module docstring)."""
    from django.conf import settings
    from django.contrib.sessions.backends.cache import SessionStore as CacheStore
    from django.core.handlers.base import BaseHandler
    from django.db.models.sql import compiler
    from django.template.backends.jinja2 import Template as JinjaTemplate
    from django.template.base import Template
    from django.test.client import ClientHandler

    from esante import ratelimit, raw_sql, sessions
    from esante.accounts import patient_sessions
    from esante.audit import actions as audit_actions
    from esante.notifications import actions as notification_actions
    from esante.records import actions as record_actions

    for dotted in settings.MIDDLEWARE:
        module_name, class_name = dotted.rsplit(".", 1)
        middleware = getattr(importlib.import_module(module_name), class_name)
        middleware.__call__ = timers.wrap(class_name, middleware.__call__)
    timers.patch(ClientHandler, "__call__", "handler (WSGI, request, response)")
    timers.patch(BaseHandler, "_get_response", "view")
    timers.patch(sessions.SessionStore, "load", "session (Redis)")
    for name in ("save", "delete", "cycle_key", "exists"):
        timers.patch(CacheStore, name, "session (Redis)")
    for name in ("attempts", "hit", "reserve", "check", "check_and_hit", "within_limit"):
        timers.patch(ratelimit, name, "rate limits (Redis)")
    timers.patch(ratelimit.Reservation, "release", "rate limits (Redis)")
    timers.patch(patient_sessions, "current_session", "patient's session row")
    for name in ("record_event", "record_events"):
        timers.patch(audit_actions, name, "audit log")
    timers.patch(record_actions, "journal", "access journal")
    timers.patch(notification_actions, "deliver_all", "code delivered after the response")
    timers.patch(Template, "render", "templates")
    timers.patch(JinjaTemplate, "render", "templates")  # esante.portal.jinja's
    for owner in (
        compiler.SQLCompiler,
        compiler.SQLInsertCompiler,
        compiler.SQLUpdateCompiler,
        compiler.SQLDeleteCompiler,
    ):
        timers.patch(owner, "execute_sql", "ORM (SQL built, sent, rows)")
    timers.patch(raw_sql.Select, "rows", "plain SQL (esante.raw_sql: sent, rows)")
    timers.patch(raw_sql, "returning", "plain SQL (esante.raw_sql: sent, rows)")
    # The functions patched above are also imported by name elsewhere: rebind those.
    wrapped = {}
    for source in (ratelimit, patient_sessions, audit_actions, record_actions):
        for value in vars(source).values():
            if hasattr(value, "__wrapped__"):
                wrapped[id(value.__wrapped__)] = value
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("esante."):
            for name, value in list(vars(module).items()):
                if id(value) in wrapped:
                    setattr(module, name, wrapped[id(value)])


class Counters:
    """SQL statements (Django's query log) and Redis commands (the server's INFO)."""

    def __init__(self) -> None:
        import redis
        from django.conf import settings

        self.redis = redis.Redis.from_url(settings.REDIS_URL)
        self.show_sql = False

    def redis_commands(self) -> int:
        stats = self.redis.info("commandstats")
        # INFO itself is counted once per reading: not the request's.
        return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")

    @contextmanager
    def counting(self) -> Iterator[dict[str, int]]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counts: dict[str, int] = {}
        before = self.redis_commands()
        with CaptureQueriesContext(connection) as queries:
            yield counts
        counts["sql"] = len(queries)
        if self.show_sql:
            for query in queries:
                print("   ", query["sql"][:300])
        counts["redis"] = self.redis_commands() - before


class Step:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cpu: list[float] = []
        self.sql: list[int] = []
        self.redis: list[int] = []
        self.parts: collections.Counter[str] = collections.Counter()
        self.timed = 0


def one_request(
    step: Step, send: Callable[[], Any], timers: Timers, counters: Counters, *, parts: bool
) -> Any:
    """Send one request, its CPU into `step`: with the part timers, or bare."""
    if parts:
        with counters.counting() as counts:
            timers.own.clear()
            timers.enabled = True
            try:
                response = send()
            finally:
                timers.enabled = False
        step.parts.update(timers.own)
        step.timed += 1
        step.sql.append(counts["sql"])
        step.redis.append(counts["redis"])
    else:
        started = time.thread_time()
        response = send()
        step.cpu.append(time.thread_time() - started)
    return response


@functools.cache
def shared_handler() -> Any:
    from django.test.client import ClientHandler

    return ClientHandler(enforce_csrf_checks=True)


def read_code(person_id: int) -> str:
    from esante.notifications.models import OutboundMessage

    body = OutboundMessage.objects.filter(person_id=person_id).latest("id").body
    found = ONE_TIME_CODE.search(body)
    assert found, body
    return found.group()


def log_in(
    patient: webserver.Patient,
    steps: dict[str, Step],
    timers: Timers,
    counters: Counters,
    *,
    parts: bool,
) -> Any:
    """One complete login, as bench/login.py does it; returns the logged-in client."""
    from django.test import Client

    from esante.accounts.patient_sessions import DEVICE_COOKIE

    client = Client(
        enforce_csrf_checks=True,
        REMOTE_ADDR=loopback_address(patient.number),
        HTTP_USER_AGENT="esante-bench",
        HTTP_HOST="127.0.0.1",
    )
    client.cookies[DEVICE_COOKIE] = patient.device_cookie
    client.handler = shared_handler()  # a new one would load the middleware again

    def request(name: str, send: Callable[[], Any], status: int) -> Any:
        response = one_request(steps[name], send, timers, counters, parts=parts)
        assert response.status_code == status, (name, response.status_code)
        return response

    page = request("login page", lambda: client.get("/connexion/patient/"), 200)
    token = page.cookies["csrftoken"].value
    credentials = {
        "csrfmiddlewaretoken": token,
        "matricule": patient.matricule,
        "password": webserver.PASSWORD,
    }
    request("credentials", lambda: client.post("/connexion/patient/", credentials), 302)
    code_page = request("code page", lambda: client.get("/connexion/patient/code/"), 200)
    token = code_page.cookies.get("csrftoken", page.cookies["csrftoken"]).value
    code = {"csrfmiddlewaretoken": token, "code": read_code(patient.person_id)}
    request("code", lambda: client.post("/connexion/patient/code/", code), 302)
    request("Mes services", lambda: client.get("/mes-services/"), 200)
    return client


def health_check_cpu(rounds: int) -> float:
    """What CONN_HEALTH_CHECKS adds to a request that reuses its connection."""
    from django.db import connection

    connection.ensure_connection()
    started = time.thread_time()
    for _ in range(rounds):
        connection.health_check_done = False  # type: ignore[attr-defined]
        connection.close_if_health_check_failed()
    return (time.thread_time() - started) / rounds


def report(steps: list[Step], health_check: float) -> None:
    print(
        f"\nCPU per request, ms (median of the bare runs), and its parts (mean of the timed "
        f"runs); SQL statements and Redis commands per request. A reused connection's "
        f"health check (CONN_HEALTH_CHECKS, on the first query of each request through "
        f"gunicorn): {health_check * 1000:.3f} ms."
    )
    names = [s.name for s in steps]
    print(f"{'':<38}" + "".join(f"{n[:13]:>14}" for n in names))
    print(
        f"{'CPU per request (bare)':<38}"
        + "".join(f"{statistics.median(s.cpu) * 1000:>14.2f}" for s in steps)
    )
    print(f"{'SQL statements':<38}" + "".join(f"{statistics.mean(s.sql):>14.1f}" for s in steps))
    print(f"{'Redis commands':<38}" + "".join(f"{statistics.mean(s.redis):>14.1f}" for s in steps))
    every_part = collections.Counter[str]()
    for step in steps:
        every_part.update({part: cpu / step.timed for part, cpu in step.parts.items()})
    for part, _ in every_part.most_common():
        print(
            f"{part[:37]:<38}" + "".join(f"{s.parts[part] / s.timed * 1000:>14.2f}" for s in steps)
        )
    print(
        f"{'sum of the parts (timed)':<38}"
        + "".join(f"{sum(s.parts.values()) / s.timed * 1000:>14.2f}" for s in steps)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--pages", type=int, default=400, help="record and trivial pages")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="esante-bench-budget-"))
    try:
        with webserver.own_database(f"bench_budget_{os.getpid()}") as database_url:
            environment = webserver.server_environment(database_url, workdir, demo=True)
            try:
                webserver.set_up_django(environment)
                measure(options.logins, options.pages)
            finally:
                webserver.forget_redis_keys(environment)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(logins: int, pages: int) -> None:
    patients = webserver.seed_patients(2 * logins + 8)
    timers = Timers()
    install_timers(timers)
    counters = Counters()
    steps = {name: Step(name) for name in LOGIN_STEPS}
    record, trivial = Step("record page"), Step("trivial page")
    clients: list[Any] = []
    for number, patient in enumerate(patients):
        # Warm-up first (templates compiled, connections open), then alternately bare
        # and timed, so that both see the same machine.
        parts = number % 2 == 1
        client = log_in(patient, steps, timers, counters, parts=parts and number >= 8)
        if number < 8:
            for step in steps.values():
                step.cpu.clear()
        if len(clients) < 16:
            clients.append(client)
    urls = [c.get("/mon-dsp/")["Location"] for c in clients]
    for number in range(2 * pages):
        client, url = clients[number % len(clients)], urls[number % len(urls)]
        parts = number % 4 >= 2
        record_page = functools.partial(client.get, url)
        trivial_page = functools.partial(client.get, "/bench/trivial/")
        one_request(record, record_page, timers, counters, parts=parts)
        one_request(trivial, trivial_page, timers, counters, parts=parts)
    report([*steps.values(), record, trivial], health_check_cpu(2000))


if __name__ == "__main__":
    main()
