"""Passkeys, server side, with a software authenticator: registration in Mon compte and at
step 4, a complete login with a discoverable credential, and every refusal — replayed or
missing challenge, wrong origin, no user verification, a sign counter going back, an
unknown or deleted key. (The browser test registers and logs in with Chromium's virtual
authenticator.)"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts import reauth
from esante.accounts.models import Account, Passkey
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry.models import InsuredPerson
from tests.accounts.softauthn import SoftAuthenticator
from tests.accounts.test_login import EMAIL, log_in, step_up
from tests.accounts.wizard import (
    PASSWORD,
    activate,
    last_one_time_code,
    page_text,
    reach_one_time_code_step,
    submit_one_time_code,
)

pytestmark = pytest.mark.django_db


def post_json(client: Client, name: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(reverse(name), json.dumps(body or {}), content_type="application/json")


def register(
    client: Client,
    authenticator: SoftAuthenticator,
    name: str = "Téléphone",
    purpose: str = "account",
) -> Any:
    options = post_json(client, "patient:passkey_register_options", {"purpose": purpose}).json()
    credential = authenticator.create(options)
    return post_json(
        client,
        "patient:passkey_register",
        {"purpose": purpose, "name": name, "credential": credential},
    )


def passkey_login(client: Client, authenticator: SoftAuthenticator, **options: Any) -> Any:
    challenge = post_json(client, "patient:passkey_login_options").json()
    assert challenge["userVerification"] == "required"
    assert not challenge.get("allowCredentials")  # discoverable: the browser offers its keys
    return post_json(
        client, "patient:passkey_login", {"credential": authenticator.get(challenge, **options)}
    )


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


@pytest.fixture
def key(account: Account) -> SoftAuthenticator:
    """Alice has registered a passkey from Mon compte."""
    client = Client()
    log_in(client, account)
    authenticator = SoftAuthenticator()
    response = register(client, authenticator)
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == reverse("patient:account") + "#passkeys"
    return authenticator


def test_registration_keeps_the_key_audits_and_notifies(
    account: Account, key: SoftAuthenticator
) -> None:
    passkey = Passkey.objects.get()
    assert (passkey.account, passkey.name, passkey.sign_count) == (account, "Téléphone", 0)
    assert passkey.transports == ["internal"]
    assert len(account.__class__.objects.get().webauthn_handle) == 64
    assert key.user_handle.hex() != account.person.matricule
    assert AuditEvent.objects.filter(event_type=EventType.PASSKEY_ADDED).exists()
    assert OutboundMessage.objects.filter(
        recipient=EMAIL, subject="Une clé d'accès a été ajoutée à votre compte eSanté"
    ).exists()


def test_a_passkey_is_a_complete_login(account: Account, key: SoftAuthenticator) -> None:
    client = Client()

    response = passkey_login(client, key)

    assert response.json() == {"redirect": reverse("patient:services")}
    assert client.get(reverse("patient:services")).status_code == 200
    event = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).latest("pk")
    assert event.details["method"] == "passkey"
    passkey = Passkey.objects.get()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_a_sign_counter_that_goes_back_is_refused(account: Account, key: SoftAuthenticator) -> None:
    assert passkey_login(Client(), key, counter_step=5).status_code == 200
    client = Client()

    response = passkey_login(client, key, counter_step=-2)  # a cloned authenticator

    assert response.status_code == 400
    assert "n'a pas pu être vérifiée" in response.json()["error"]
    assert client.get(reverse("patient:services")).status_code == 302
    assert AuditEvent.objects.filter(event_type=EventType.PASSKEY_REFUSED).exists()


def test_user_verification_is_required(account: Account, key: SoftAuthenticator) -> None:
    key.user_verified = False

    response = passkey_login(Client(), key)

    assert response.status_code == 400


def test_another_origin_is_refused(account: Account, key: SoftAuthenticator) -> None:
    key.origin = "https://phishing.example"

    response = passkey_login(Client(), key)

    assert response.status_code == 400


def test_a_challenge_serves_once(account: Account, key: SoftAuthenticator) -> None:
    client = Client()
    challenge = post_json(client, "patient:passkey_login_options").json()
    assertion = key.get(challenge)
    assert post_json(client, "patient:passkey_login", {"credential": assertion}).status_code == 200
    replay = Client()

    response = post_json(replay, "patient:passkey_login", {"credential": assertion})

    assert response.status_code == 400
    assert "expiré ou a déjà servi" in response.json()["error"]


def test_garbage_gets_a_french_message_not_an_error_page(account: Account) -> None:
    client = Client()
    post_json(client, "patient:passkey_login_options")

    response = client.post(
        reverse("patient:passkey_login"), "{not json", content_type="application/json"
    )
    weird = post_json(client, "patient:passkey_login", {"credential": {"id": "x"}})

    assert response.status_code == 400 and "recommencez" in response.json()["error"]
    assert weird.status_code == 400 and "error" in weird.json()


def test_a_deleted_key_no_longer_logs_in(account: Account, key: SoftAuthenticator) -> None:
    client = Client()
    log_in(client, account)
    passkey = Passkey.objects.get()
    assert "Téléphone" in client.get(reverse("patient:account")).content.decode()

    client.post(reverse("patient:passkey_delete", args=[passkey.pk]))
    response = passkey_login(Client(), key)

    assert not Passkey.objects.exists()
    assert response.status_code == 400
    assert "n'est associée à aucun compte eSanté" in response.json()["error"]
    assert AuditEvent.objects.filter(event_type=EventType.PASSKEY_REMOVED).exists()


def test_nobody_registers_without_a_login(alice: InsuredPerson) -> None:
    response = post_json(Client(), "patient:passkey_register_options")

    assert response.status_code == 403


def test_registration_at_step_4_goes_to_the_new_account_even_with_a_parent_logged_in(
    account: Account, lea: InsuredPerson
) -> None:
    parent = Client()
    log_in(parent, account)  # Alice is logged in, and activates her daughter's account
    reach_one_time_code_step(parent, lea, "parents@example.lu")
    submit_one_time_code(parent, last_one_time_code("parents@example.lu"))

    response = register(parent, SoftAuthenticator(), "Tablette de Léa", purpose="activation")

    assert response.json()["redirect"] == reverse("activation:authenticators")
    assert Passkey.objects.get().account.person == lea


def test_adding_or_removing_a_key_later_in_a_session_asks_for_a_fresh_second_factor(
    account: Account, key: SoftAuthenticator
) -> None:
    """ASVS 5.0 7.5.1: a session taken over after its first minutes cannot plant a key
    of its own (nor remove the holder's), even with the password: a code to the current
    channel first (*Confirmez votre identité*)."""
    client = Client()
    log_in(client, account)
    passkey = Passkey.objects.get()
    later = timezone.now() + reauth.FRESH_FOR + datetime.timedelta(seconds=1)

    with time_machine.travel(later):
        page = page_text(client.get(reverse("patient:account")))
        assert "confirmez d'abord votre identité" in page
        assert "data-passkey-register" not in page
        refused = post_json(client, "patient:passkey_register_options", {"purpose": "account"})
        assert refused.status_code == 403
        assert "confirmez votre identité" in refused.json()["error"]
        asked = client.post(reverse("patient:passkey_delete", args=[passkey.pk]))
        assert asked["Location"].startswith(reverse("patient:step_up"))
        assert Passkey.objects.count() == 1

        client.post(
            reverse("patient:account"), {"confirm_password": "passkeys", "cles-current": PASSWORD}
        )
        still = post_json(client, "patient:passkey_register_options", {"purpose": "account"})
        assert still.status_code == 403  # the password alone opens nothing

        back = step_up(client, back_to=reverse("patient:account") + "#passkeys")
        assert back["Location"] == reverse("patient:account") + "#passkeys"
        assert "data-passkey-register" in page_text(client.get(reverse("patient:account")))
        assert register(client, SoftAuthenticator(), name="Tablette").status_code == 200
        client.post(reverse("patient:passkey_delete", args=[passkey.pk]))
    assert list(Passkey.objects.values_list("name", flat=True)) == ["Tablette"]


NEED_THE_NAME = (
    "Les clés d’accès ne fonctionnent qu’à l’adresse localhost ou au nom du site, "
    "pas à une adresse IP."
)


@pytest.mark.parametrize(
    ("host", "offered"),
    [
        ("127.0.0.1:8000", False),
        ("[::1]:8000", False),
        ("192.0.2.7", False),
        ("localhost:8000", True),
        ("esante.example.lu", True),
    ],
)
def test_passkeys_are_offered_only_at_a_name_not_at_an_ip_address(
    settings: Any, account: Account, host: str, offered: bool
) -> None:
    """Browsers refuse WebAuthn at an IP address: there, the login page and Mon compte
    render no passkey form, only the sentence saying why; at localhost or the site's
    name, they do."""
    settings.ALLOWED_HOSTS = [
        *settings.ALLOWED_HOSTS,
        "127.0.0.1",
        "[::1]",
        "192.0.2.7",
        "localhost",
        "esante.example.lu",
    ]
    client = Client()
    login_page = client.get(reverse("patient:login"), HTTP_HOST=host)
    log_in(client, account)
    account_page = client.get(reverse("patient:account"), HTTP_HOST=host)

    for page in (login_page.content.decode(), account_page.content.decode()):
        assert ("data-passkey" in page) is offered
        assert (f">{NEED_THE_NAME}</p>" in page) is not offered  # not the JS message
    assert ("data-passkey-register" in account_page.content.decode()) is offered
