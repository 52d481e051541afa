"""The rate limits of activation: one table, per IP and per key, keys hashed, HTTP 429."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from esante import ratelimit
from esante.audit.models import AuditEvent, EventType
from esante.counters.models import RateCounter
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import issue_letter, page_text, start, submit_code

pytestmark = pytest.mark.django_db


def prefill(action: str, times: int, *, ip: str = "127.0.0.1", key: str = "") -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=ip)
    for _hit in range(times):
        ratelimit.hit(action, request, key=key)


def limit(action: str, scope: str) -> int:
    return next(rule.limit for rule in ratelimit.RATE_LIMITS[action] if rule.scope == scope)


def test_wrong_pairs_are_limited_per_matricule(client: Client, alice: InsuredPerson) -> None:
    code = issue_letter(alice)
    start(client)
    # From other addresses: the limit follows the matricule, not the visitor.
    prefill(
        "activation.code_failed",
        limit("activation.code_failed", "key"),
        ip="10.0.0.9",
        key=alice.matricule,
    )

    response = submit_code(client, alice.matricule, code)

    assert response.status_code == 429
    assert "Trop de tentatives : réessayez plus tard" in page_text(response)
    assert int(response["Retry-After"]) > 0
    assert AuditEvent.objects.filter(event_type=EventType.RATE_LIMITED).exists()


def test_wrong_pairs_are_limited_per_ip(client: Client, alice: InsuredPerson) -> None:
    code = issue_letter(alice)
    start(client)
    prefill("activation.code_failed", limit("activation.code_failed", "ip"), key="other")

    assert submit_code(client, alice.matricule, code).status_code == 429


def test_a_right_pair_under_the_limit_is_not_counted(client: Client, alice: InsuredPerson) -> None:
    code = issue_letter(alice)
    start(client)
    prefill(
        "activation.code_failed", limit("activation.code_failed", "key") - 1, key=alice.matricule
    )

    assert submit_code(client, alice.matricule, code).status_code == 302


def test_new_letter_requests_are_limited(client: Client, alice: InsuredPerson) -> None:
    start(client)
    prefill("activation.new_letter", limit("activation.new_letter", "key"), key=alice.matricule)

    response = client.post(
        reverse("activation:new_letter"),
        {
            "courrier-matricule": alice.matricule,
            "courrier-captcha_0": "x",
            "courrier-captcha_1": "PASSED",
        },
    )

    assert response.status_code == 429


def test_no_identifier_is_kept_in_clear_in_the_counters(alice: InsuredPerson) -> None:
    prefill("activation.code_failed", 1, key=alice.matricule)

    keys = cache_keys()

    assert keys
    assert not any(alice.matricule in key or "127.0.0.1" in key for key in keys)


def cache_keys() -> list[str]:
    backend = cache
    if hasattr(backend, "keys"):  # django-redis
        return [str(key) for key in backend.keys("*")]
    return list(RateCounter.objects.values_list("key", flat=True))


def test_new_captchas_and_their_audio_are_limited_per_ip(client: Client) -> None:
    prefill("captcha.refresh", limit("captcha.refresh", "ip"))
    prefill("captcha.audio", limit("captcha.audio", "ip"))

    refresh = client.get(reverse("captcha-refresh"), headers={"x-requested-with": "XMLHttpRequest"})
    audio = client.get(reverse("captcha-audio", args=["0" * 40]))

    assert refresh.status_code == audio.status_code == 429


def test_under_the_limit_a_new_captcha_is_served(client: Client) -> None:
    refresh = client.get(reverse("captcha-refresh"), headers={"x-requested-with": "XMLHttpRequest"})

    assert refresh.status_code == 200
    assert refresh.json()["key"]
