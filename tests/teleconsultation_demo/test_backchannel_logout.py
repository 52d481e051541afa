"""The platform ends sessions of the demo service with Back-Channel Logout 1.0 tokens."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import requests

from tests.teleconsultation_demo.harness import (
    Platform,
    Service,
    log_in,
    new_key,
    new_subject,
    text,
)

ACR = "urn:esante:acr:substantial"


def send_logout(service: Service, logout_token: str | None) -> requests.Response:
    """The platform's POST, without the browser."""
    data = {} if logout_token is None else {"logout_token": logout_token}
    return requests.post(service.url + "/backchannel-logout", data=data, timeout=5)


def is_logged_in(browser: requests.Session, service: Service) -> bool:
    return "Se déconnecter" in text(browser.get(service.url + "/", timeout=5))


@pytest.fixture
def alice(platform: Platform) -> str:
    """Alice, whose login at the platform is its session "sid-…"."""
    subject = new_subject("alice")
    platform.add_person(subject, given_name="Alice", acr=ACR, sid=f"sid-{subject}")
    return subject


def test_logout_token_ends_the_session_it_names(
    service: Service, platform: Platform, browser: requests.Session, alice: str
) -> None:
    log_in(browser, service, alice)
    assert is_logged_in(browser, service)

    answer = send_logout(service, platform.logout_token(sid=f"sid-{alice}", sub=alice))

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    home = text(browser.get(service.url + "/", timeout=5))
    assert "Se connecter avec eSanté" in home and "Bonjour" not in home


def test_logout_token_with_only_a_subject_ends_all_its_sessions(
    service: Service, platform: Platform, alice: str
) -> None:
    with requests.Session() as phone, requests.Session() as laptop:
        log_in(phone, service, alice)
        log_in(laptop, service, alice)

        assert send_logout(service, platform.logout_token(sub=alice)).status_code == 200

        assert not is_logged_in(phone, service)
        assert not is_logged_in(laptop, service)


def test_logout_token_of_another_session_leaves_this_one(
    service: Service, platform: Platform, browser: requests.Session, alice: str
) -> None:
    log_in(browser, service, alice)
    answer = send_logout(service, platform.logout_token(sid="sid-of-someone-else"))
    assert answer.status_code == 200
    assert is_logged_in(browser, service)


def test_logout_token_signed_with_a_new_key_of_the_platform_is_accepted(
    service: Service, platform: Platform, browser: requests.Session, alice: str
) -> None:
    log_in(browser, service, alice)  # the service has the platform's keys of then
    rotated = new_key("platform-2")
    platform.published.append(rotated)

    answer = send_logout(service, platform.logout_token(key=rotated, sid=f"sid-{alice}"))

    assert answer.status_code == 200
    assert not is_logged_in(browser, service)


def invalid_tokens(platform: Platform, alice: str) -> dict[str, str | None]:
    sid = f"sid-{alice}"
    impostor = new_key(str(platform.signing_key.kid))  # same key id, another key
    return {
        "no token": None,
        "not a JWT": "not-a-jwt",
        "signed by another key": platform.logout_token(key=impostor, sid=sid),
        "signed by an unpublished key": platform.logout_token(key=new_key("nowhere"), sid=sid),
        "unsigned": unsigned(platform.logout_claims(sid=sid)),
        "for another client": platform.logout_token(sid=sid, aud="another-client"),
        "of another issuer": platform.logout_token(sid=sid, iss="http://127.0.0.1:1"),
        "without the event": platform.logout_token(sid=sid, events=None),
        "with another event": platform.logout_token(sid=sid, events={"urn:other": {}}),
        "with a nonce": platform.logout_token(sid=sid, nonce="n-0S6_WzA2Mj"),
        "issued long ago": platform.logout_token(sid=sid, iat=int(time.time()) - 600),
        "issued in the future": platform.logout_token(sid=sid, iat=int(time.time()) + 600),
        "expired": platform.logout_token(sid=sid, exp=int(time.time()) - 10),
        "naming nobody": platform.logout_token(),
        "without jti": platform.logout_token(sid=sid, jti=None),
    }


def unsigned(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none` (joserfc refuses to make one)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


def test_invalid_logout_tokens_are_refused_and_end_nothing(
    service: Service, platform: Platform, browser: requests.Session, alice: str
) -> None:
    log_in(browser, service, alice)
    for reason, token in invalid_tokens(platform, alice).items():
        answer = send_logout(service, token)
        assert answer.status_code == 400, reason
        assert answer.json()["error"] == "invalid_request", reason
        assert answer.headers["Cache-Control"] == "no-store", reason
    assert is_logged_in(browser, service)


def test_replayed_logout_token_is_refused(
    service: Service, platform: Platform, browser: requests.Session, alice: str
) -> None:
    first = platform.logout_token(sid="sid-of-someone-else", jti="jti-once")
    assert send_logout(service, first).status_code == 200
    log_in(browser, service, alice)

    replayed = send_logout(service, platform.logout_token(sid=f"sid-{alice}", jti="jti-once"))

    assert replayed.status_code == 400
    assert is_logged_in(browser, service)
