"""Request ids, JSON logs, /healthz and /readyz — and no secret in any log line."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from esante import observability
from esante.accounts.models import Account
from esante.notifications.models import OutboundMessage
from tests.accounts.conftest import activation_settings  # noqa: F401 - autouse
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import (
    PASSWORD,
    issue_letter,
    last_one_time_code,
    start,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in ready["Cache-Control"]


def test_the_health_checks_answer_in_plain_http_where_pages_go_to_https(
    client: Client, settings: Any
) -> None:
    """The load balancer checks each node directly, without TLS (docs/operations.md)."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_cache_or_the_database_fails(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("down")

    monkeypatch.setattr(cache, "set", broken)
    no_cache = client.get("/readyz")
    monkeypatch.undo()
    monkeypatch.setattr(connection, "cursor", broken)
    no_database = client.get("/readyz")

    assert (no_cache.status_code, no_cache.json()["cache"]) == (503, "unavailable")
    assert (no_database.status_code, no_database.json()["database"]) == (503, "unavailable")


def test_every_response_carries_a_request_id(client: Client) -> None:
    made = client.get("/healthz")["X-Request-ID"]
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})["X-Request-ID"]
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\nforged"})["X-Request-ID"]

    assert len(made) == 32
    assert kept == "lb-1234abcd"
    assert replaced != "bad id\nforged" and "\n" not in replaced


def test_json_log_lines_carry_the_request_id() -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(observability.JsonFormatter())
    handler.addFilter(observability.RequestIdFilter())
    logger = logging.getLogger("esante.test")
    logger.addHandler(handler)

    def view(request: HttpRequest) -> HttpResponse:
        logger.warning("quelque chose « d'accentué »")
        return HttpResponse("ok")

    try:
        request = RequestFactory().get("/", headers={"X-Request-ID": "req-abcdef12"})
        observability.RequestIdMiddleware(view)(request)
    finally:
        logger.removeHandler(handler)

    entry = json.loads(lines[0])
    assert entry["request_id"] == "req-abcdef12"
    assert entry["message"] == "quelque chose « d'accentué »"
    assert entry["level"] == "WARNING" and entry["logger"] == "esante.test"


def test_djangos_own_request_log_lines_carry_the_request_id(client: Client) -> None:
    """ "Not Found: …" is logged by Django after the middleware chain has answered."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(getattr(record, "request_id", "?"))

    handler = Collect()
    handler.addFilter(observability.RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/nulle-part/", headers={"X-Request-ID": "lb-0042abcd"})
    finally:
        logger.removeHandler(handler)

    assert response.status_code == 404
    assert seen == ["lb-0042abcd"]
    assert observability.request_id.get() == "-"  # forgotten once the response is closed


def test_no_password_or_code_reaches_any_log_line(
    caplog: pytest.LogCaptureFixture, alice: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    letter_code = issue_letter(alice)
    wizard = Client()
    start(wizard)
    submit_code(wizard, alice.matricule, letter_code)
    submit_password(wizard)
    submit_contact(wizard, "email", EMAIL)
    submit_one_time_code(wizard, last_one_time_code(EMAIL))
    client = Client()
    log_in(client, Account.objects.get(person=alice))

    codes = [
        message.body.split(":")[1].split(".")[0].strip()
        for message in OutboundMessage.objects.filter(subject="Votre code à usage unique eSanté")
    ]

    text = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert codes and all(len(code) == 6 for code in codes)
    for secret in (PASSWORD, letter_code, letter_code.replace("-", ""), *codes):
        assert secret not in text
