"""Issue 13, item 13 (informational findings):

- `esante check --deploy` warns of an identity provider configured without `acr_values`
  (its logins would be trusted whatever strength it used), and stays silent without one;
- a passkey assertion whose `userHandle` names another user than the key's owner is
  refused and audited like an unknown key, for patients and staff;
- a document title with "/", "\\" or control characters gives a whole, sanitised download
  name; non-ASCII titles keep RFC 6266's `filename*` in UTF-8.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from django.core.checks import Tags, run_checks
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account, Passkey
from esante.audit.models import AuditEvent, EventType
from esante.helpdesk.models import StaffPasskey
from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.softauthn import SoftAuthenticator, b64url
from tests.accounts.test_login import log_in
from tests.accounts.test_passkeys import passkey_login, post_json, register
from tests.records.conftest import logged_in
from tests.records.test_documents import provider_document

pytestmark = pytest.mark.django_db

PROVIDER = {
    "slug": "luxtrust",
    "name": "LuxTrust",
    "issuer": "https://login.example.lu",
    "client_id": "esante",
    "client_secret": "secret",
}


def acr_warnings() -> list[Any]:
    found = run_checks(include_deployment_checks=True, tags=[Tags.security])
    return [message for message in found if message.id == "esante.W013"]


def test_a_provider_without_acr_values_is_a_deploy_warning(settings: Any) -> None:
    settings.ESANTE_OIDC_PROVIDERS = [
        PROVIDER,
        {**PROVIDER, "slug": "strong", "acr_values": "urn:luxtrust:loa:high"},
        {**PROVIDER, "slug": "blank", "acr_values": "  "},
    ]

    warnings = acr_warnings()

    assert [message.msg.split("'")[1] for message in warnings] == ["luxtrust", "blank"]
    assert all(message.is_serious() is False for message in warnings)  # a warning
    assert "acr_values" in warnings[0].hint


def test_no_provider_or_providers_with_acr_values_give_no_warning(settings: Any) -> None:
    settings.ESANTE_OIDC_PROVIDERS = []
    assert acr_warnings() == []
    settings.ESANTE_OIDC_PROVIDERS = [{**PROVIDER, "acr_values": "urn:luxtrust:loa:substantial"}]
    assert acr_warnings() == []


# --- The passkey's userHandle ---------------------------------------------------------


@pytest.fixture
def alice_key(account: Account) -> SoftAuthenticator:
    client = Client()
    log_in(client, account)
    key = SoftAuthenticator()
    assert register(client, key).status_code == 200
    return key


def test_a_patient_passkey_answering_for_another_user_is_refused(
    account: Account, alice_key: SoftAuthenticator, bob: InsuredPerson
) -> None:
    bob_client = logged_in(bob, "bob@example.lu", declare=False)
    register(bob_client, SoftAuthenticator())
    bob_handle = Account.objects.get(person=bob).webauthn_handle
    for other in (bytes.fromhex(bob_handle), secrets.token_bytes(32)):
        alice_key.user_handle = other
        client = Client()

        response = passkey_login(client, alice_key)

        assert response.status_code == 400
        assert "n'est associée à aucun compte" in response.json()["error"]
        assert client.get(reverse("patient:services")).status_code == 302
        refused = AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).latest("pk")
        assert refused.person is None  # audited like a key that matches no account
        assert refused.details["reason"] == "user_handle_mismatch"
    assert Passkey.objects.get(account=account).sign_count == 0  # no login counted


def test_a_patient_passkey_without_user_handle_or_with_its_own_logs_in(
    account: Account, alice_key: SoftAuthenticator
) -> None:
    assert passkey_login(Client(), alice_key).status_code == 200
    client = Client()
    challenge = post_json(client, "patient:passkey_login_options").json()
    credential = alice_key.get(challenge)
    del credential["response"]["userHandle"]  # optional in WebAuthn

    response = post_json(client, "patient:passkey_login", {"credential": credential})

    assert response.json() == {"redirect": reverse("patient:services")}


def test_a_staff_passkey_answering_for_another_user_is_refused(
    agent_client: Client, agent: Any
) -> None:
    key = SoftAuthenticator()
    options = post_json(agent_client, "helpdesk:passkey_register_options").json()
    post_json(agent_client, "helpdesk:passkey_register", {"credential": key.create(options)})
    assert StaffPasskey.objects.get().handle == key.user_handle.hex()
    key.user_handle = secrets.token_bytes(32)
    client = Client()
    challenge = post_json(client, "helpdesk:passkey_login_options").json()

    response = post_json(client, "helpdesk:passkey_login", {"credential": key.get(challenge)})

    assert response.status_code == 400
    assert "n'ouvre aucun accès au helpdesk" in response.json()["error"]
    assert client.get(reverse("helpdesk:home")).status_code == 302
    refused = AuditEvent.objects.filter(event_type=EventType.STAFF_LOGIN_FAILED).latest("pk")
    assert refused.actor == "anonymous"
    assert refused.details["reason"] == "user_handle_mismatch"
    assert b64url(key.credential_id) == StaffPasskey.objects.get().credential_id


# --- Download file names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "disposition"),
    [
        ("Analyses 2024/03", 'filename="Analyses 2024-03.pdf"'),
        ("C:\\temp\\bilan", 'filename="C:-temp-bilan.pdf"'),
        ("Bilan\r\nSet-Cookie: x=1", 'filename="Bilan--Set-Cookie: x=1.pdf"'),
        ("Ordonnance\u202efdp.exe", 'filename="Ordonnance-fdp.exe.pdf"'),
        ("../../etc/passwd", 'filename="-..-etc-passwd.pdf"'),
        ("Résultat/été", "filename*=utf-8''R%C3%A9sultat-%C3%A9t%C3%A9.pdf"),
    ],
)
def test_a_download_keeps_the_whole_title_as_a_safe_file_name(
    account: Account, title: str, disposition: str
) -> None:
    client = Client()
    log_in(client, account)
    record = CareRecord.objects.get(person=account.person)
    document = provider_document(record, title=title)
    url = reverse("records:document_file", args=[record.public_id, document.public_id])

    downloaded = client.get(url + "?telecharger=1")
    shown = client.get(url)

    assert downloaded.status_code == 200
    assert downloaded["Content-Disposition"] == f"attachment; {disposition}"
    assert shown["Content-Disposition"] == f"inline; {disposition}"
