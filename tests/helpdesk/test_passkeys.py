"""Staff passkeys: registered once logged in with both factors, then a complete login."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante.audit.models import AuditEvent, EventType
from esante.helpdesk.models import StaffPasskey
from tests.accounts.softauthn import SoftAuthenticator

pytestmark = pytest.mark.django_db


def post_json(client: Client, name: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(reverse(name), json.dumps(body or {}), content_type="application/json")


def test_a_staff_passkey_registered_then_a_complete_login(agent_client: Client, agent: Any) -> None:
    key = SoftAuthenticator()
    options = post_json(agent_client, "helpdesk:passkey_register_options").json()
    assert options["authenticatorSelection"]["userVerification"] == "required"
    done = post_json(
        agent_client,
        "helpdesk:passkey_register",
        {"name": "Poste du bureau", "credential": key.create(options)},
    )
    assert done.json() == {"redirect": reverse("helpdesk:passkeys")}
    assert "Poste du bureau" in agent_client.get(reverse("helpdesk:passkeys")).content.decode()

    fresh = Client()
    challenge = post_json(fresh, "helpdesk:passkey_login_options").json()
    login = post_json(fresh, "helpdesk:passkey_login", {"credential": key.get(challenge)})

    assert login.json() == {"redirect": reverse("helpdesk:home")}
    assert fresh.get(reverse("helpdesk:home")).status_code == 200
    event = AuditEvent.objects.filter(event_type=EventType.STAFF_LOGIN).latest("pk")
    assert event.details["method"] == "passkey"
    assert StaffPasskey.objects.get().sign_count == 1


def test_registering_needs_both_factors_first(agent: Any) -> None:
    assert post_json(Client(), "helpdesk:passkey_register_options").status_code == 302


def test_a_patient_passkey_opens_no_helpdesk(agent: Any) -> None:
    client = Client()
    challenge = post_json(client, "helpdesk:passkey_login_options").json()

    response = post_json(
        client, "helpdesk:passkey_login", {"credential": SoftAuthenticator().get(challenge)}
    )

    assert response.status_code == 400
    assert "n'ouvre aucun accès au helpdesk" in response.json()["error"]


def test_a_deleted_staff_passkey_no_longer_logs_in(agent_client: Client, agent: Any) -> None:
    key = SoftAuthenticator()
    options = post_json(agent_client, "helpdesk:passkey_register_options").json()
    post_json(agent_client, "helpdesk:passkey_register", {"credential": key.create(options)})
    stored = StaffPasskey.objects.get()

    agent_client.post(reverse("helpdesk:passkey_delete", args=[stored.pk]))
    client = Client()
    challenge = post_json(client, "helpdesk:passkey_login_options").json()
    response = post_json(client, "helpdesk:passkey_login", {"credential": key.get(challenge)})

    assert not StaffPasskey.objects.exists()
    assert response.status_code == 400


@pytest.mark.parametrize(("host", "offered"), [("127.0.0.1:8000", False), ("localhost", True)])
def test_staff_passkeys_are_offered_only_at_a_name_not_at_an_ip_address(
    settings: Any, agent_client: Client, host: str, offered: bool
) -> None:
    """The helpdesk login and Mes clés d'accès render no passkey form at an IP address,
    where browsers refuse WebAuthn."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1", "localhost"]
    login_page = Client().get(reverse("helpdesk:login"), HTTP_HOST=host).content.decode()
    keys_page = agent_client.get(reverse("helpdesk:passkeys"), HTTP_HOST=host).content.decode()

    assert ("data-passkey-login" in login_page) is offered
    assert ("data-passkey-register" in keys_page) is offered
    for page in (login_page, keys_page):
        assert ("pas à une adresse IP.</p>" in page) is not offered
