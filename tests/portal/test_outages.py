"""The database or Redis out of reach: a clear French page, 503 with Retry-After — never
a stack trace — and the 500 page stays for everything else."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, OperationalError
from django.test import Client
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError

from esante.accounts.login import views as login_views
from tests.accounts.wizard import page_text

pytestmark = pytest.mark.django_db


def failing_page(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> Any:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(login_views, "render", broken)
    return Client(raise_request_exception=False).get("/connexion/")


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("could not connect to server: Connection refused"),
        ConnectionInterrupted(connection=None),
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"),
    ],
    ids=["postgresql", "django-redis", "redis"],
)
def test_an_outage_is_a_503_in_french(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    response = failing_page(monkeypatch, error)

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    text = page_text(response)
    assert "Le service est momentanément indisponible" in text
    assert "réessayez dans quelques minutes" in text
    assert "Traceback" not in text and "6379" not in text and "refused" not in text


def test_a_bug_stays_a_500(monkeypatch: pytest.MonkeyPatch) -> None:
    response = failing_page(monkeypatch, IntegrityError("duplicate key"))

    assert response.status_code == 500
    assert "Une erreur technique est survenue" in page_text(response)
    assert "duplicate key" not in page_text(response)
