"""Logout everywhere: whenever a platform session or a right ends, the tokens it gave are
revoked and every service holding one receives a back-channel logout token (a real HTTP
endpoint on loopback records them); offline access, granted explicitly, outlives a
logout but not a password reset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from joserfc import jwt

from esante.accounts import actions as account_actions
from esante.accounts.models import Account
from esante.audit.models import AuditEvent, EventType
from esante.provider import keys
from esante.provider.logout import BACKCHANNEL_EVENT
from esante.provider.models import Consent, Token
from esante.records import actions as record_actions
from esante.records.models import Assistant, Capacity, CareRecord
from esante.registry.models import InsuredPerson
from esante.services.models import Service
from tests.provider.conftest import authorize, logged_in, make_rp, register
from tests.provider.test_flow import consent_and_code, id_token_claims
from tests.servers import LogoutReceiver


@pytest.fixture
def receiver() -> Iterator[LogoutReceiver]:
    server = LogoutReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def listening(issuer: str, receiver: LogoutReceiver, transactional_db: None) -> Service:
    return register(
        backchannel_logout_uri=receiver.url,
        refresh_tokens=True,
        scopes=["openid", "profile", "offline_access"],
    )


@pytest.fixture
def alice_browser(alice: InsuredPerson, transactional_db: None) -> Client:
    return logged_in(alice, "alice@example.lu")


def logout_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    decoded = jwt.decode(token, keys.published(), algorithms=[keys.ALGORITHM])
    return dict(decoded.header), dict(decoded.claims)


def open_service(
    issuer: str, service: Service, browser: Client, scope: str = "openid profile"
) -> tuple[Any, dict[str, Any]]:
    rp = make_rp(issuer, service, scope=scope)
    token = rp.fetch_token(consent_and_code(browser, rp))
    return rp, id_token_claims(issuer, token)


def test_logging_out_of_the_platform_logs_out_of_the_service(
    issuer: str, listening: Service, receiver: LogoutReceiver, alice_browser: Client
) -> None:
    rp, id_claims = open_service(issuer, listening, alice_browser)
    alice_browser.post(reverse("patient:logout"))

    [token] = receiver.wait_for(1)
    header, claims = logout_claims(token)
    assert header["typ"] == "logout+jwt" and header["kid"] == keys.signing_key().kid
    assert claims["iss"] == issuer
    assert claims["aud"] == listening.client_id
    assert claims["sub"] == id_claims["sub"]
    assert claims["sid"] == id_claims["sid"]
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert "nonce" not in claims
    # Its tokens are dead: the access token and the refresh token alike.
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401
    assert not Token.objects.live().exists()
    assert AuditEvent.objects.filter(
        event_type=EventType.SERVICE_LOGOUT_SENT, details__status=200
    ).exists()


def test_offline_access_outlives_the_logout_but_not_a_password_reset(
    issuer: str,
    listening: Service,
    receiver: LogoutReceiver,
    alice_browser: Client,
    alice: InsuredPerson,
) -> None:
    rp, _claims = open_service(issuer, listening, alice_browser, "openid profile offline_access")
    alice_browser.post(reverse("patient:logout"))
    receiver.wait_for(1)
    assert len(receiver.tokens) == 1  # the service's session ends…
    renewed = rp.session.refresh_token(rp.metadata["token_endpoint"])  # …its offline access not
    assert renewed["access_token"]

    account = Account.objects.get(person=alice)
    account_actions.reset_password(
        account, make_password("Un autre mot de passe 9"), ip_address=None
    )
    assert not Token.objects.live().exists()
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401


def test_sessions_ended_from_mon_compte_log_out_of_the_service(
    issuer: str,
    listening: Service,
    receiver: LogoutReceiver,
    alice_browser: Client,
    alice: InsuredPerson,
) -> None:
    rp, _claims = open_service(issuer, listening, alice_browser)
    account = Account.objects.get(person=alice)
    account_actions.end_sessions(account, ip_address=None, reason="ended_by_person")
    assert receiver.wait_for(1)
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401


def test_a_service_that_does_not_answer_delays_nothing_and_is_audited(
    issuer: str, alice_browser: Client, settings: Any
) -> None:
    settings.ESANTE_OIDC_LOGOUT_TIMEOUT_SECONDS = 1
    service = register(backchannel_logout_uri="http://127.0.0.1:9/backchannel-logout")
    open_service(issuer, service, alice_browser)
    assert alice_browser.post(reverse("patient:logout")).status_code == 302
    event = AuditEvent.objects.get(event_type=EventType.SERVICE_LOGOUT_SENT)
    assert event.details["status"] is None and event.details["error"]


def test_an_assistant_removed_loses_the_tokens_acting_for_the_person(
    issuer: str,
    listening: Service,
    receiver: LogoutReceiver,
    alice: InsuredPerson,
    bob: InsuredPerson,
    transactional_db: None,
) -> None:
    alice_browser = logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    row = Assistant.objects.create(record=record, person=bob, added_by=alice)
    bob_browser = logged_in(bob, "bob@example.lu")
    rp = make_rp(issuer, listening)
    url = rp.authorization_url()
    choice = authorize(bob_browser, url)
    assert "Pour qui ouvrez-vous" in choice.content.decode()
    consent = authorize(bob_browser, url, pour=str(record.public_id))
    assert "Vous agissez pour" in consent.content.decode()
    done = authorize(bob_browser, url, pour=str(record.public_id), decision="accept")
    token = rp.fetch_token(done["Location"])
    claims = id_token_claims(issuer, token)
    assert claims["given_name"] == "Alice"
    assert "act" in claims and claims["act"]["sub"] != claims["sub"]

    consent = Consent.objects.get(person=bob, on_behalf_of=alice)
    # For himself, a consent of his own is asked: the first one shared Alice's data only.
    for_himself = authorize(bob_browser, rp.authorization_url(), pour="moi").content.decode()
    assert "Si vous acceptez" in for_himself and "Vous agissez pour" not in for_himself

    record_actions.remove_assistant(row, actor=alice, capacity=Capacity.OWNER, ip_address=None)
    assert receiver.wait_for(1)
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401
    assert alice_browser  # her own session is untouched


def test_the_holder_sees_and_withdraws_what_an_assistant_opened_for_her(
    issuer: str,
    listening: Service,
    receiver: LogoutReceiver,
    alice: InsuredPerson,
    bob: InsuredPerson,
) -> None:
    alice_browser = logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    Assistant.objects.create(record=record, person=bob, added_by=alice)
    bob_browser = logged_in(bob, "bob@example.lu")
    rp = make_rp(issuer, listening)
    url = rp.authorization_url()
    done = authorize(bob_browser, url, pour=str(record.public_id), decision="accept")
    rp.fetch_token(done["Location"])

    page = alice_browser.get(reverse("provider:connected_services")).content.decode()
    assert "Ouvert pour vous par Bob Martin, votre assistant DSP." in page
    consent = Consent.objects.get(person=bob, on_behalf_of=alice)
    alice_browser.post(reverse("provider:withdraw", args=[consent.pk]))
    assert receiver.wait_for(1)
    assert rp.session.get(rp.metadata["userinfo_endpoint"]).status_code == 401
    # Bob's own page no longer lists it either; nobody else's consent can be withdrawn.
    assert (
        "pour Alice" not in bob_browser.get(reverse("provider:connected_services")).content.decode()
    )
    assert bob_browser.post(reverse("provider:withdraw", args=[consent.pk])).status_code == 404
