"""Redis or PostgreSQL goes away under a running app server, then comes back.

One gunicorn node reaches the shared PostgreSQL and Redis through TCP proxies
(tests/faults/proxy.py) that the tests cut and reconnect. While a component is away,
every page is the French 503 page with Retry-After (never a stack trace), `/readyz` says
which component is missing while `/healthz` still answers, and nothing is half-written.
Once it is back, the same browsers go on where they were, without any manual repair.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
import requests

from tests.cluster.browser import (
    CAPTCHA,
    PASSWORD,
    TlsBrowser,
    activate,
    last_one_time_code,
    location,
    log_in,
    reach_one_time_code_step,
)
from tests.cluster.harness import PROJECT_DIR, Cluster, needs_cluster, running_cluster
from tests.faults.proxy import TcpProxy

pytestmark = [pytest.mark.postgres, needs_cluster]

OUTAGE_PAGE = "Le service est momentanément indisponible"


@pytest.fixture(scope="module")
def proxies() -> Iterator[tuple[TcpProxy, TcpProxy]]:
    database = TcpProxy(urlsplit(os.environ["DATABASE_URL"]).port or 5432)
    cache = TcpProxy(urlsplit(os.environ["REDIS_URL"]).port or 6379)
    database.start()
    cache.start()
    yield database, cache
    database.cut()
    cache.cut()


@pytest.fixture(scope="module")
def node(
    proxies: tuple[TcpProxy, TcpProxy], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    database, cache = proxies
    with running_cluster(
        tmp_path_factory.mktemp("outage-var"),
        count=1,
        database_port=database.port,
        redis_port=cache.port,
        debug=False,  # production error pages
    ) as running:
        yield running


@pytest.fixture
def database(proxies: tuple[TcpProxy, TcpProxy], node: Cluster) -> Iterator[TcpProxy]:
    """The node's path to PostgreSQL, reconnected after the test whatever happened."""
    node.clear_rate_limits()
    yield proxies[0]
    if not proxies[0].is_up:
        proxies[0].reconnect()


@pytest.fixture
def cache(proxies: tuple[TcpProxy, TcpProxy], node: Cluster) -> Iterator[TcpProxy]:
    """The node's path to Redis, reconnected after the test whatever happened."""
    node.clear_rate_limits()
    yield proxies[1]
    if not proxies[1].is_up:
        proxies[1].reconnect()


def assert_outage_page(response: requests.Response) -> None:
    assert response.status_code == 503, response.text[:2000]
    assert response.headers["Retry-After"] == "60"
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert OUTAGE_PAGE in page
    assert 'lang="fr"' in page
    assert "Traceback" not in page and "Exception" not in page


def readiness(node: Cluster) -> tuple[int, dict[str, str]]:
    response = requests.get(f"{node.a}/readyz", timeout=30)
    return response.status_code, response.json()


def count(node: Cluster, sql: str, *params: object) -> int:
    return int(node.query(sql, *params)[0][0])


def test_redis_down_is_a_503_page_writes_nothing_and_the_journey_goes_on_once_back(
    node: Cluster, cache: TcpProxy
) -> None:
    person = node.take_person()
    browser = TlsBrowser()
    steps = [
        ("/activation/commencer/", {"accept_cgu": "on"}),
        (
            "/activation/etape-1/",
            {"matricule": person.matricule, "code": person.letter_code, **CAPTCHA},
        ),
        ("/activation/etape-2/", {"password1": PASSWORD, "password2": PASSWORD}),
    ]
    for path, data in steps:
        assert browser.post(node.a, path, data).status_code == 302
    messages_before = count(node, "SELECT count(*) FROM notifications_outboundmessage")

    cache.cut()
    assert_outage_page(browser.get(node.a, "/activation/etape-3/"))
    assert_outage_page(
        browser.post(node.a, "/activation/etape-3/", {"channel": "email", "email": person.email})
    )
    assert_outage_page(TlsBrowser().get(node.a, "/connexion/patient/"))
    assert readiness(node) == (
        503,
        {"status": "unavailable", "database": "ok", "cache": "unavailable"},
    )
    assert requests.get(f"{node.a}/healthz", timeout=30).status_code == 200
    # Nothing was half-written: no code, no message, no account.
    assert count(node, "SELECT count(*) FROM notifications_outboundmessage") == messages_before
    assert (
        count(
            node,
            "SELECT count(*) FROM accounts_account a JOIN registry_insuredperson p "
            "ON p.id = a.person_id WHERE p.matricule = %s",
            person.matricule,
        )
        == 0
    )

    cache.reconnect()
    assert readiness(node)[0] == 200
    # The session was kept by Redis: the browser goes on at step 3.
    assert browser.get(node.a, "/activation/etape-3/").status_code == 200
    sent = browser.post(node.a, "/activation/etape-3/", {"channel": "email", "email": person.email})
    assert location(sent) == "/activation/etape-3/code/", sent.text[:2000]
    code = last_one_time_code(node, person.email)
    done = browser.post(node.a, "/activation/etape-3/code/", {"code": code})
    assert location(done) == "/activation/etape-4/", done.text[:2000]


def test_redis_back_empty_ends_the_sessions_and_everyone_starts_again_cleanly(
    node: Cluster, cache: TcpProxy
) -> None:
    """Redis keeps nothing on disk here: a restart empties it. Sessions and counters go;
    the accounts, records and letters live in PostgreSQL and are all still there."""
    holder, newcomer = node.take_person(), node.take_person()
    activate(node, holder, TlsBrowser())
    logged_in = TlsBrowser()
    log_in(node, logged_in, holder, node.a, node.a)
    half_way = TlsBrowser()
    for path, data in [
        ("/activation/commencer/", {"accept_cgu": "on"}),
        (
            "/activation/etape-1/",
            {"matricule": newcomer.matricule, "code": newcomer.letter_code, **CAPTCHA},
        ),
    ]:
        assert half_way.post(node.a, path, data).status_code == 302

    cache.cut()
    client = redis.Redis.from_url(node.redis_url)
    keys = list(client.scan_iter(f"{node.key_prefix}:*"))
    assert keys, "the sessions were in Redis"
    client.delete(*keys)
    cache.reconnect()

    # The logged-in person is asked to log in again, and can.
    response = logged_in.get(node.a, "/mes-services/")
    assert response.status_code == 302
    assert location(response).startswith("/connexion/patient/")
    log_in(node, logged_in, holder, node.a, node.a)
    assert logged_in.get(node.a, "/mes-services/").status_code == 200
    # The activation half-way is sent back to its start, and the same letter still works.
    back = half_way.get(node.a, "/activation/etape-2/")
    assert back.status_code == 302
    assert location(back).startswith("/activation/")
    reach_one_time_code_step(TlsBrowser(), node.nodes, newcomer)
    assert (
        count(
            node,
            "SELECT count(*) FROM accounts_account a JOIN registry_insuredperson p "
            "ON p.id = a.person_id WHERE p.matricule = %s",
            newcomer.matricule,
        )
        == 0
    )  # an account only exists once its one-time code is confirmed


def test_postgresql_down_is_a_503_page_and_the_sessions_go_on_once_back(
    node: Cluster, database: TcpProxy
) -> None:
    person = node.take_person()
    activate(node, person, TlsBrowser())
    browser = TlsBrowser()
    log_in(node, browser, person, node.a, node.a)
    assert browser.get(node.a, "/mes-services/").status_code == 200
    events_before = count(node, "SELECT count(*) FROM audit_auditevent")

    database.cut()
    assert_outage_page(browser.get(node.a, "/mes-services/"))
    stranger = TlsBrowser()
    # A page that needs no data still opens (its session is in Redis); its form does not.
    assert stranger.get(node.a, "/connexion/patient/").status_code == 200
    assert_outage_page(
        stranger.post(
            node.a,
            "/connexion/patient/",
            {"matricule": person.matricule, "password": PASSWORD, **CAPTCHA},
        )
    )
    assert readiness(node) == (
        503,
        {"status": "unavailable", "database": "unavailable", "cache": "ok"},
    )
    assert requests.get(f"{node.a}/healthz", timeout=30).status_code == 200

    database.reconnect()
    # The workers' kept connections were reset: the first request after the outage
    # reconnects by itself (CONN_HEALTH_CHECKS), and the session is still valid.
    assert readiness(node)[0] == 200
    assert browser.get(node.a, "/mes-services/").status_code == 200
    # The refused login wrote nothing, and counted nothing against the person.
    assert count(node, "SELECT count(*) FROM audit_auditevent") == events_before
    assert (
        count(
            node,
            "SELECT a.failed_logins FROM accounts_account a JOIN registry_insuredperson p "
            "ON p.id = a.person_id WHERE p.matricule = %s",
            person.matricule,
        )
        == 0
    )
    other = TlsBrowser()
    log_in(node, other, person, node.a, node.a)


def test_deliver_outbox_with_the_database_down_fails_in_one_french_line_then_recovers(
    node: Cluster, database: TcpProxy
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DEBUG"}
        and not key.startswith(("ESANTE_", "REDIS_", "SECRET_KEY"))
    }
    proxied = urlsplit(node.database_url)
    env.update(
        DATABASE_URL=proxied._replace(
            netloc=f"{proxied.username}@127.0.0.1:{database.port}"
        ).geturl(),
        SECRET_KEY="cluster-secret-key-" + "k" * 40,
        ESANTE_CODE_HMAC_KEY="cluster-code-hmac-key",
        ESANTE_VAR_DIR=str(PROJECT_DIR / "var" / "test-outbox"),
        DEBUG="1",
        PYTHONPATH=str(PROJECT_DIR),
    )
    command = [sys.executable, "-m", "esante", "deliver-outbox"]

    database.cut()
    down = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert down.returncode != 0
    assert "Traceback" not in down.stderr
    assert "base de données" in down.stderr.lower()

    database.reconnect()
    back = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert back.returncode == 0, back.stderr
    assert "remis" in back.stdout
