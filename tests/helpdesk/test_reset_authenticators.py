"""The remedies to a lost or stolen factor leave no other way in: the helpdesk's reset of
the code channel and the re-activation by a new letter remove the account's passkeys (one
may be on the stolen phone), identity providers' links (one may be the thief's), known
browsers and recovery codes — each audited — besides ending the sessions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.authenticators import totp
from esante.accounts.models import Account, IdentityLink, KnownDevice, Passkey, RecoveryCode
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry.letters import issue_letters, persons_needing_letters
from esante.registry.models import InsuredPerson
from tests.accounts.softauthn import SoftAuthenticator
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.test_passkeys import passkey_login, register
from tests.accounts.wizard import (
    activate,
    last_one_time_code,
    letter_code_of,
    page_text,
    start,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.helpdesk.test_agent import act

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Printemps tardif 2025"
NEW_MOBILE = "621 987 654"
NEW_NUMBER = "+352621987654"
UNKNOWN_KEY = "n'est associée à aucun compte eSanté"


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


@pytest.fixture
def stolen_key(account: Account) -> SoftAuthenticator:
    """Alice's passkey, on the phone that is stolen; and a browser she made known."""
    client = Client()
    log_in(client, account)
    authenticator = SoftAuthenticator()
    assert register(client, authenticator).status_code == 200
    assert passkey_login(Client(), authenticator).status_code == 200  # it works, before
    return authenticator


@pytest.fixture
def planted_link(account: Account) -> IdentityLink:
    """An identity provider's subject linked to Alice's account by whoever held it."""
    return IdentityLink.objects.create(account=account, provider="luxtrust", subject="thief-01")


def ways_in(account: Account) -> dict[str, int]:
    return {
        "passkeys": Passkey.objects.filter(account=account).count(),
        "links": IdentityLink.objects.filter(account=account).count(),
        "devices": KnownDevice.objects.filter(account=account).count(),
        "recovery codes": RecoveryCode.objects.filter(account=account).count(),
    }


def reactivate(client: Client, alice: InsuredPerson) -> None:
    """A new letter, and with it a new password and a new code channel."""
    issue_letters(persons_needing_letters(), actor="test")
    start(client)
    assert submit_code(client, alice.matricule, letter_code_of(alice))["Location"] == reverse(
        "activation:password"
    )
    submit_password(client, NEW_PASSWORD)
    submit_contact(client, "sms", NEW_MOBILE)
    done = submit_one_time_code(client, last_one_time_code(NEW_NUMBER))
    assert done.status_code == 302, done.content.decode()[:500]


def test_resetting_the_channel_removes_every_other_way_in(
    agent_client: Client,
    agent: Any,
    account: Account,
    alice: InsuredPerson,
    stolen_key: SoftAuthenticator,
    planted_link: IdentityLink,
) -> None:
    totp.new_recovery_codes(account)
    before = ways_in(account)
    assert all(before.values()), before

    done = act(agent_client, alice, "canal", reason="Téléphone volé")

    assert "les clés d'accès et les fournisseurs d'identité associés sont retirés" in page_text(
        done
    )
    assert ways_in(account) == dict.fromkeys(before, 0)
    refused = passkey_login(Client(), stolen_key)
    assert refused.status_code == 400
    assert UNKNOWN_KEY in refused.json()["error"]
    removed = AuditEvent.objects.get(event_type=EventType.PASSKEY_REMOVED)
    assert (removed.actor, removed.person, removed.details["reason"]) == (
        f"staff:{agent.pk}",
        alice,
        "reset_channel",
    )
    unlinked = AuditEvent.objects.get(event_type=EventType.IDENTITY_UNLINKED)
    assert (unlinked.actor, unlinked.details["provider"]) == (f"staff:{agent.pk}", "luxtrust")
    action = AuditEvent.objects.get(
        event_type=EventType.HELPDESK_ACTION, details__action="reset_channel"
    )
    assert action.details["reason"] == "Téléphone volé"
    assert {
        "passkeys_removed": 1,
        "identities_unlinked": 1,
        "known_devices_forgotten": before["devices"],
        "recovery_codes_removed": 10,
    }.items() <= action.details.items()


def test_after_the_reset_the_new_letter_opens_the_account_and_nothing_else(
    agent_client: Client,
    account: Account,
    alice: InsuredPerson,
    stolen_key: SoftAuthenticator,
) -> None:
    act(agent_client, alice, "canal", reason="Téléphone volé")

    reactivate(Client(), alice)

    assert passkey_login(Client(), stolen_key).status_code == 400
    account.refresh_from_db()
    assert (account.code_channel, account.phone) == ("sms", NEW_NUMBER)


def test_a_reactivation_by_a_new_letter_removes_every_other_way_in_and_says_so(
    account: Account,
    alice: InsuredPerson,
    stolen_key: SoftAuthenticator,
    planted_link: IdentityLink,
) -> None:
    """Without the helpdesk: the person asks a new letter herself ("Non" at step 1); her
    channel still works, so the letter waits before it re-activates the account."""
    client = Client()
    start(client)
    client.post(
        reverse("activation:new_letter"),
        {
            "courrier-matricule": alice.matricule,
            "courrier-captcha_0": "x",
            "courrier-captcha_1": "PASSED",
        },
    )

    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        reactivate(client, alice)

    assert ways_in(account) == {"passkeys": 0, "links": 0, "devices": 0, "recovery codes": 0}
    assert passkey_login(Client(), stolen_key).status_code == 400
    removed = AuditEvent.objects.get(event_type=EventType.PASSKEY_REMOVED)
    unlinked = AuditEvent.objects.get(event_type=EventType.IDENTITY_UNLINKED)
    assert removed.actor == unlinked.actor == f"person:{alice.pk}"
    assert removed.details["reason"] == unlinked.details["reason"] == "reactivation"
    reactivated = AuditEvent.objects.get(event_type=EventType.ACCOUNT_REACTIVATED)
    assert reactivated.details["passkeys_removed"] == 1
    assert reactivated.details["identities_unlinked"] == 1
    notice = OutboundMessage.objects.filter(recipient=NEW_NUMBER).latest("pk")
    assert notice.subject == "Votre compte eSanté est activé"
    assert "est réactivé" in notice.body
    assert "clés d'accès" in notice.body and "fournisseurs d'identité" in notice.body


def test_a_first_activation_keeps_its_notice(alice: InsuredPerson) -> None:
    activate(Client(), alice, EMAIL)

    notice = OutboundMessage.objects.filter(
        recipient=EMAIL, subject="Votre compte eSanté est activé"
    ).get()
    assert "est activé. Vous pouvez vous connecter" in notice.body
    assert not AuditEvent.objects.filter(event_type=EventType.PASSKEY_REMOVED).exists()
