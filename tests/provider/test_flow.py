"""The whole flow with a real client library against the running server: discovery →
authorize with PKCE → token → ID token checked with the JWKS → userinfo → refresh →
revocation; and the refusals the issue names."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import requests
import time_machine
from authlib.integrations.base_client.errors import OAuthError
from django.test import Client
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import KeySet

from esante import ratelimit
from esante.audit.models import AuditEvent, EventType
from esante.provider.models import Consent, Token
from esante.registry.models import InsuredPerson
from esante.services.models import ACR_SUBSTANTIAL, Service
from tests.provider.conftest import (
    REDIRECT_URI,
    SECRET,
    Rp,
    authorize,
    logged_in,
    make_rp,
    register,
)


def id_token_claims(issuer: str, token: dict[str, Any]) -> dict[str, Any]:
    jwks = KeySet.import_key_set(requests.get(f"{issuer}/oidc/cles", timeout=5).json())
    decoded = jwt.decode(str(token["id_token"]), jwks, algorithms=["RS256"])
    return dict(decoded.claims)


@pytest.fixture
def alice_browser(alice: InsuredPerson, transactional_db: None) -> Client:
    return logged_in(alice, "alice@example.lu")


def consent_and_code(browser: Client, rp: Rp, **extra: str) -> str:
    url = rp.authorization_url(**extra)
    page = authorize(browser, url)
    assert page.status_code == 200, re.findall(r"Code de l.erreur.*", page.content.decode())
    assert "Autoriser" in page.content.decode()
    assert "retirer cet accès à tout moment" in page.content.decode()  # how long it lasts
    answer = authorize(browser, url, decision="accept")
    assert answer.status_code == 302
    location = str(answer["Location"])
    assert location.startswith(REDIRECT_URI + "?code=")
    return location


def test_the_whole_flow(
    issuer: str, service: Service, rp: Rp, alice: InsuredPerson, alice_browser: Client
) -> None:
    metadata = rp.metadata
    assert metadata["issuer"] == issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["subject_types_supported"] == ["pairwise"]

    location = consent_and_code(alice_browser, rp)
    token = rp.fetch_token(location)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 600
    assert "refresh_token" not in token  # not registered for them

    claims = id_token_claims(issuer, token)
    assert claims["iss"] == issuer
    assert claims["aud"] == [service.client_id]
    assert claims["nonce"] == rp.nonce
    assert claims["acr"] == ACR_SUBSTANTIAL
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["given_name"] == "Alice"
    assert claims["sid"]
    assert "matricule" not in claims
    sub = claims["sub"]
    assert isinstance(sub, str) and len(sub) == 43
    assert alice.matricule not in sub and alice.esante_id not in sub

    info = rp.session.get(metadata["userinfo_endpoint"]).json()
    assert info == {
        "sub": sub,
        "given_name": "Alice",
        "family_name": "Martin",
        "birthdate": alice.birth_date.isoformat(),
    }
    consent = Consent.objects.get(service=service, person=alice)
    assert consent.scopes == ["openid", "profile"]
    assert consent.last_shared_claims == ["birthdate", "family_name", "given_name", "sub"]
    assert AuditEvent.objects.filter(event_type=EventType.SERVICE_AUTHORIZED).count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.SERVICE_CONSENT_GIVEN).count() == 1

    # The second time, no consent page: the code comes at once.
    url = rp.authorization_url()
    again = authorize(alice_browser, url)
    assert again.status_code == 302 and again["Location"].startswith(REDIRECT_URI + "?code=")


def test_pairwise_subjects_differ_between_services(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    other = register(name="Remboursement (test)")
    other_rp = make_rp(issuer, other)
    first = id_token_claims(issuer, rp.fetch_token(consent_and_code(alice_browser, rp)))
    second = id_token_claims(
        issuer, other_rp.fetch_token(consent_and_code(alice_browser, other_rp))
    )
    assert first["sub"] != second["sub"]


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_line(
    issuer: str, alice_browser: Client
) -> None:
    service = register(refresh_tokens=True)
    rp = make_rp(issuer, service)
    token = rp.fetch_token(consent_and_code(alice_browser, rp))
    first_refresh = token["refresh_token"]
    renewed = rp.session.refresh_token(rp.metadata["token_endpoint"])
    assert renewed["refresh_token"] != first_refresh
    assert renewed["access_token"] != token["access_token"]
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 200

    # The first refresh token again: a theft. Refused, and the renewed ones die too.
    with pytest.raises(OAuthError):
        rp.session.refresh_token(rp.metadata["token_endpoint"], refresh_token=first_refresh)
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401
    assert not Token.objects.live().exists()


def test_revocation_ends_the_access_token(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    token = rp.fetch_token(consent_and_code(alice_browser, rp))
    rp.session.revoke_token(rp.metadata["revocation_endpoint"], token["access_token"])
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401


def test_a_wrong_redirect_uri_is_a_page_here_never_a_redirect(
    service: Service, rp: Rp, alice_browser: Client
) -> None:
    url = rp.authorization_url().replace("127.0.0.1%3A9%2Fretour", "evil.example%2Fretour")
    answer = authorize(alice_browser, url)
    assert answer.status_code == 400
    assert "Ce service n'a pas pu être ouvert" in answer.content.decode()


def test_a_redirect_uri_must_match_exactly(service: Service, rp: Rp, alice_browser: Client) -> None:
    url = rp.authorization_url().replace("retour", "retour%2F")
    assert authorize(alice_browser, url).status_code == 400


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    location = consent_and_code(alice_browser, rp)
    rp.fetch_token(location)
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 200
    with pytest.raises(OAuthError) as refused:
        rp.fetch_token(location)
    assert refused.value.error == "invalid_grant"
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401


def test_pkce_is_required(service: Service, rp: Rp, alice_browser: Client) -> None:
    url = rp.authorization_url()
    stripped = "&".join(part for part in url.split("&") if not part.startswith("code_challenge"))
    answer = authorize(alice_browser, stripped)
    assert answer.status_code == 302
    assert "error=invalid_request" in answer["Location"]


def test_plain_pkce_is_refused(service: Service, rp: Rp, alice_browser: Client) -> None:
    url = rp.authorization_url().replace(
        "code_challenge_method=S256", "code_challenge_method=plain"
    )
    answer = authorize(alice_browser, url)
    assert "error=invalid_request" in answer["Location"]


def test_a_wrong_code_verifier_is_refused(service: Service, rp: Rp, alice_browser: Client) -> None:
    location = consent_and_code(alice_browser, rp)
    rp.verifier = "not-the-verifier-" + "x" * 40
    with pytest.raises(OAuthError) as refused:
        rp.fetch_token(location)
    assert refused.value.error == "invalid_grant"


def test_a_wrong_client_secret_is_refused(
    issuer: str, service: Service, alice_browser: Client
) -> None:
    rp = make_rp(issuer, service, secret="wrong")
    location = consent_and_code(alice_browser, rp)
    with pytest.raises(OAuthError) as refused:
        rp.fetch_token(location)
    assert refused.value.error == "invalid_client"


def test_an_expired_access_token_is_refused(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    rp.fetch_token(consent_and_code(alice_browser, rp))
    Token.objects.update(issued_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    answer = rp.session.get(rp.metadata["userinfo_endpoint"])
    assert answer.status_code == 401
    assert "invalid_token" in answer.headers["WWW-Authenticate"]


def test_an_expired_code_is_refused(service: Service, rp: Rp, alice_browser: Client) -> None:
    location = consent_and_code(alice_browser, rp)
    with time_machine.travel(datetime.timedelta(minutes=2)), pytest.raises(OAuthError) as refused:
        rp.fetch_token(location)
    assert refused.value.error == "invalid_grant"


def test_refusing_consent_returns_access_denied(
    service: Service, rp: Rp, alice_browser: Client
) -> None:
    url = rp.authorization_url()
    answer = authorize(alice_browser, url, decision="refuse")
    assert answer["Location"].startswith(REDIRECT_URI + "?error=access_denied")
    assert f"state={rp.state}" in answer["Location"]
    assert not Consent.objects.exists()


def test_consent_withdrawn_revokes_the_tokens(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    rp.fetch_token(consent_and_code(alice_browser, rp))
    consent = Consent.objects.get()
    page = alice_browser.get("/mon-compte/services-connectes/")
    assert "Téléconsultation (test)" in page.content.decode()
    alice_browser.post(f"/mon-compte/services-connectes/{consent.pk}/retirer/")
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401
    assert AuditEvent.objects.filter(event_type=EventType.SERVICE_CONSENT_WITHDRAWN).exists()
    # The next authorization asks again.
    assert authorize(alice_browser, rp.authorization_url()).status_code == 200


def test_a_visitor_is_sent_to_log_in_and_comes_back(
    service: Service, rp: Rp, alice: InsuredPerson, transactional_db: None
) -> None:
    logged_in(alice, "alice@example.lu")  # activated
    browser = Client()
    url = rp.authorization_url()
    answer = authorize(browser, url)
    assert answer["Location"].startswith("/connexion/?suivant=")


def test_prompt_none_without_a_session_says_login_required(
    service: Service, rp: Rp, transactional_db: None
) -> None:
    answer = authorize(Client(), rp.authorization_url(prompt="none"))
    assert "error=login_required" in answer["Location"]


def test_only_the_code_flow_no_implicit_nor_hybrid(
    service: Service, rp: Rp, alice_browser: Client
) -> None:
    for response_type in ("token", "id_token", "code id_token", "code token"):
        url = rp.authorization_url().replace("response_type=code", f"response_type={response_type}")
        answer = authorize(alice_browser, url)
        assert answer.status_code in (302, 400)
        if answer.status_code == 302:
            assert "error=unsupported_response_type" in answer["Location"]


def test_a_service_not_registered_for_refresh_tokens_cannot_refresh(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    token = rp.fetch_token(consent_and_code(alice_browser, rp))
    answer = requests.post(
        rp.metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token["access_token"]},
        auth=(service.client_id, SECRET),
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unauthorized_client"
    assert (
        answer.headers["Cache-Control"].startswith("no-store")
        or "no-store" in answer.headers["Cache-Control"]
    )


def test_a_refresh_line_ends_at_its_absolute_expiry(
    issuer: str, alice_browser: Client, settings: Any
) -> None:
    service = register(refresh_tokens=True)
    rp = make_rp(issuer, service)
    rp.fetch_token(consent_and_code(alice_browser, rp))
    rp.session.refresh_token(rp.metadata["token_endpoint"])  # the line goes on…
    lifetime = datetime.timedelta(hours=settings.ESANTE_SESSION_MAX_HOURS, minutes=1)
    with time_machine.travel(lifetime), pytest.raises(OAuthError) as refused:
        rp.session.refresh_token(rp.metadata["token_endpoint"])  # …not past its first day
    assert refused.value.error == "invalid_grant"


def test_revocation_needs_the_clients_own_credentials(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    token = rp.fetch_token(consent_and_code(alice_browser, rp))
    answer = requests.post(
        rp.metadata["revocation_endpoint"],
        data={"token": token["access_token"]},
        auth=(service.client_id, "wrong"),
        timeout=5,
    )
    assert answer.status_code == 401
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 200


def test_a_logout_without_id_token_hint_asks_first_and_redirects_nowhere_unregistered(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    rp.fetch_token(consent_and_code(alice_browser, rp))
    query = "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fau-revoir"
    page = alice_browser.get(f"/oidc/deconnexion?{query}", headers={"host": "localhost"})
    assert page.status_code == 200
    assert "Se déconnecter de la plateforme eSanté ?" in page.content.decode()
    assert alice_browser.get(reverse("patient:services")).status_code == 200  # still in


def test_a_logout_with_its_id_token_hint_goes_back_to_the_registered_address(
    issuer: str, service: Service, rp: Rp, alice_browser: Client
) -> None:
    token = rp.fetch_token(consent_and_code(alice_browser, rp))
    done = alice_browser.get(
        "/oidc/deconnexion",
        {
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": "http://127.0.0.1:9/au-revoir",
            "state": "etat",
        },
        headers={"host": "localhost"},
    )
    assert done["Location"] == "http://127.0.0.1:9/au-revoir?state=etat"
    assert alice_browser.get(reverse("patient:services")).status_code == 302  # logged out
    elsewhere = alice_browser.get(
        "/oidc/deconnexion",
        {"id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
        headers={"host": "localhost"},
    )
    assert elsewhere["Location"] == "/"


def test_failed_token_requests_are_limited_per_address(
    issuer: str, service: Service, rp: Rp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three wrong secrets an hour here (100 in production), then 429 with Retry-After."""
    monkeypatch.setitem(
        ratelimit.RATE_LIMITS,
        "oidc.token.failed",
        (ratelimit.Rule("ip", 3, datetime.timedelta(hours=1)),),
    )
    answers = [
        requests.post(
            rp.metadata["token_endpoint"],
            data={"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT_URI},
            auth=(service.client_id, "wrong"),
            timeout=5,
        )
        for _ in range(5)
    ]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429, 429]
    assert answers[-1].json()["error"] == "invalid_request"
    assert int(answers[-1].headers["Retry-After"]) > 0
