"""A professional's passkey: registered within minutes of a login through the provider,
then a complete login from PROFESSIONNEL; never from a stale or passkey-opened session,
never for an inactive professional, never a patient's or staff's key."""

from __future__ import annotations

import datetime
import html
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.audit.models import AuditEvent, EventType
from esante.practice.models import ProfessionalPasskey, ProfessionalSession
from esante.professionals.models import Professional
from tests.accounts.softauthn import SoftAuthenticator
from tests.practice.conftest import PAUL, inactive, log_in_professional, register
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db

HOME = reverse("practice:home")


def post_json(client: Client, name: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(reverse(name), json.dumps(body or {}), content_type="application/json")


def register_key(client: Client, key: SoftAuthenticator) -> Any:
    options = post_json(client, "practice:passkey_register_options")
    if options.status_code != 200:
        return options
    assert options.json()["authenticatorSelection"]["userVerification"] == "required"
    return post_json(
        client,
        "practice:passkey_register",
        {"name": "Cabinet", "credential": key.create(options.json())},
    )


def log_in_with(key: SoftAuthenticator) -> tuple[Client, Any]:
    client = Client()
    challenge = post_json(client, "practice:passkey_login_options").json()
    return client, post_json(client, "practice:passkey_login", {"credential": key.get(challenge)})


@pytest.fixture
def paul_client(pro_provider: OidcProvider, paul: Professional) -> Client:
    client = Client()
    log_in_professional(client, pro_provider, paul)
    return client


def test_a_passkey_registered_after_a_provider_login_then_logs_in(
    paul_client: Client, paul: Professional
) -> None:
    key = SoftAuthenticator()

    done = register_key(paul_client, key)
    assert done.json() == {"redirect": HOME + "#passkeys"}
    assert "Cabinet" in paul_client.get(HOME).content.decode()

    client, login = log_in_with(key)
    assert login.json() == {"redirect": HOME}
    assert "Paul Reding" in client.get(HOME).content.decode()
    assert ProfessionalSession.objects.filter(method="passkey", professional=paul).count() == 1
    event = AuditEvent.objects.filter(event_type=EventType.PROFESSIONAL_LOGIN_SUCCEEDED).latest(
        "pk"
    )
    assert event.details["method"] == "passkey"
    assert ProfessionalPasskey.objects.get().sign_count == 1
    assert AuditEvent.objects.filter(
        event_type=EventType.PASSKEY_ADDED, actor=f"professional:{paul.pk}"
    ).exists()


def test_registering_needs_a_provider_login_of_the_last_10_minutes(
    paul_client: Client,
) -> None:
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        refused = register_key(paul_client, SoftAuthenticator())
        page = paul_client.get(HOME).content.decode()

    assert refused.status_code == 403
    assert "reconnectez-vous d'abord" in html.unescape(page)
    assert not ProfessionalPasskey.objects.exists()


def test_a_session_a_passkey_opened_registers_no_other_key(paul_client: Client) -> None:
    key = SoftAuthenticator()
    register_key(paul_client, key)
    client, _login = log_in_with(key)

    assert register_key(client, SoftAuthenticator()).status_code == 403
    assert ProfessionalPasskey.objects.count() == 1


def test_nobody_else_registers_a_professional_passkey(db: None) -> None:
    assert post_json(Client(), "practice:passkey_register_options").status_code == 302


def test_an_inactive_professionals_passkey_opens_nothing(
    paul_client: Client, paul: Professional
) -> None:
    key = SoftAuthenticator()
    register_key(paul_client, key)
    register(inactive(PAUL))

    client, login = log_in_with(key)

    assert login.status_code == 400
    assert client.get(HOME).status_code == 302
    event = AuditEvent.objects.filter(event_type=EventType.PROFESSIONAL_LOGIN_FAILED).latest("pk")
    assert (event.details["method"], event.details["reason"]) == ("passkey", "inactive")


def test_an_unknown_key_opens_nothing(db: None) -> None:
    client, login = log_in_with(SoftAuthenticator())

    assert login.status_code == 400
    assert "n'ouvre aucun espace professionnel" in login.json()["error"]
    assert client.get(HOME).status_code == 302


def test_a_deleted_passkey_no_longer_logs_in(paul_client: Client) -> None:
    key = SoftAuthenticator()
    register_key(paul_client, key)

    paul_client.post(
        reverse("practice:passkey_delete", args=[ProfessionalPasskey.objects.get().pk])
    )
    _client, login = log_in_with(key)

    assert not ProfessionalPasskey.objects.exists()
    assert login.status_code == 400


def test_connexion_offers_the_professional_passkey_at_a_name(
    pro_provider: OidcProvider, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    page = Client(HTTP_HOST="localhost").get(reverse("portal:login_choice")).content.decode()

    assert f'action="{reverse("practice:passkey_login")}"' in page
