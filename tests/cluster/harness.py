"""The cluster harness: two real app servers (gunicorn) on two loopback ports, sharing
one PostgreSQL database and one Redis: the production stack of docs/operations.md, small.

The cluster gets its own database (created, migrated, dropped here) and its own key
prefix in Redis db 13 (deleted at the end), so it never meets pytest-django's test
database nor the test run's cache. It runs only when the test run itself is configured
for PostgreSQL and Redis (DATABASE_URL, REDIS_URL), as in CI; the SQLite run skips it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
import requests

from esante.portal.management.commands.serve import gunicorn_arguments
from tests.servers import free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # seconds for both nodes to answer /readyz
PEOPLE = 12  # made once per run; each test takes the ones it needs
REDIS_DB = 13  # not the run's own cache db, which tests/conftest.py clears per test

CONFIGURED = os.environ.get("DATABASE_URL", "").startswith("postgres") and bool(
    os.environ.get("REDIS_URL")
)
needs_cluster = pytest.mark.skipif(
    not CONFIGURED, reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)"
)


@dataclass(frozen=True)
class Person:
    matricule: str
    letter_code: str
    email: str


@dataclass
class Cluster:
    nodes: list[str]  # base URLs of node A and node B
    database_url: str
    redis_url: str
    key_prefix: str
    people: list[Person] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)  # each node's output, access log included

    @property
    def a(self) -> str:
        return self.nodes[0]

    @property
    def b(self) -> str:
        return self.nodes[1]

    def take_person(self) -> Person:
        assert self.people, f"the cluster seeds {PEOPLE} people: raise PEOPLE"
        return self.people.pop(0)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of `sql` on the cluster's database (read straight, as an operator would)."""
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def clear_rate_limits(self) -> None:
        """Every client here is 127.0.0.1: per-IP counters would carry from test to test."""
        client = redis.Redis.from_url(self.redis_url)
        keys = list(client.scan_iter(f"{self.key_prefix}:*:rl:*"))
        if keys:
            client.delete(*keys)


def _server_url(database_url: str, name: str) -> str:
    """`database_url` pointing at database `name` instead, as psycopg reads it."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, f"/{name}", "", ""))


def _environment(
    database_url: str, redis_url: str, key_prefix: str, var_dir: Path, *, debug: bool = True
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # The run's own settings (tests.settings, its test database and cache) stay here.
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DEBUG"}
        and not key.startswith(("ESANTE_", "REDIS_", "SECRET_KEY"))
    }
    env.update(
        # DEBUG: plain-HTTP cookies (no Secure flag) and no HTTPS redirect on loopback.
        # Without it, production: behind a TLS-terminating load balancer (tls_browser).
        DEBUG="1" if debug else "0",
        ESANTE_DEMO="1",  # the outbox keeps codes in clear: the tests read them there
        ESANTE_CAPTCHA_TEST_MODE="1",  # "PASSED" answers the captcha
        SECRET_KEY="cluster-secret-key-" + "k" * 40,  # the same on both nodes
        ESANTE_CODE_HMAC_KEY="cluster-code-hmac-key",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=key_prefix,
        ESANTE_VAR_DIR=str(var_dir),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(PROJECT_DIR),
    )
    if not debug:
        env["SECURE_PROXY_SSL_HEADER"] = "1"
    return env


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
        try:
            if requests.get(f"{base_url}/readyz", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still loading
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{base_url} not ready after {START_TIMEOUT} s:\n{log.read_text()}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _via_port(url: str, port: int | None) -> str:
    """`url` with its port replaced by `port` (a proxy in front of the same server)."""
    if port is None:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"{parts.hostname}:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@contextmanager
def running_cluster(
    var_dir: Path,
    *,
    count: int = 2,
    database_port: int | None = None,
    redis_port: int | None = None,
    debug: bool = True,
) -> Iterator[Cluster]:
    """Create and migrate the database, seed people, start `count` nodes; undo it all.

    `database_port` and `redis_port` send the nodes (not the set-up, nor
    `Cluster.query`) through another port: a proxy that a fault test cuts. Without
    `debug`, the nodes run as in production, behind TLS (see browser.TlsBrowser)."""
    run_id = secrets.token_hex(4)
    name = f"esante_cluster_{run_id}"
    admin_url = _server_url(os.environ["DATABASE_URL"], "postgres")
    database_url = _server_url(os.environ["DATABASE_URL"], name)
    redis_url = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{REDIS_DB}"))
    key_prefix = f"esante-cluster-{run_id}"
    env = _environment(database_url, redis_url, key_prefix, var_dir)
    node_env = _environment(
        _via_port(database_url, database_port),
        _via_port(redis_url, redis_port),
        key_prefix,
        var_dir,
        debug=debug,
    )

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # a fresh name, no user input
    processes: list[subprocess.Popen[bytes]] = []
    try:
        _run([sys.executable, "-m", "esante", "migrate", "--no-input", "-v", "0"], env)
        people = json.loads(_run([sys.executable, "-m", "tests.cluster.seed", str(PEOPLE)], env))
        if not debug:  # production serves the collected, hashed static files
            _run(
                [sys.executable, "-m", "esante", "collectstatic", "--no-input", "-v", "0"], node_env
            )
        nodes = []
        logs: list[Path] = []
        labels = "abcdefgh"[:count]
        for label in labels:
            port = free_port()
            log = var_dir / f"node-{label}.log"
            with log.open("wb") as output:
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            *gunicorn_arguments(f"127.0.0.1:{port}", workers=2),
                            "--timeout",
                            "60",
                        ],
                        cwd=PROJECT_DIR,
                        env=node_env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            nodes.append(f"http://127.0.0.1:{port}")
            logs.append(log)
        for base_url, process, label in zip(nodes, processes, labels, strict=True):
            _wait_ready(base_url, process, var_dir / f"node-{label}.log")
        yield Cluster(
            nodes=nodes,
            database_url=database_url,
            redis_url=redis_url,
            key_prefix=key_prefix,
            people=[
                Person(each["matricule"], each["letter_code"], f"cluster{index}@example.lu")
                for index, each in enumerate(people)
            ],
            logs=logs,
        )
    finally:
        for process in processes:
            _stop(process)
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{key_prefix}:*"))
        if keys:
            client.delete(*keys)
