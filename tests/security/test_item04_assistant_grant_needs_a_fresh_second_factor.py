"""Issue 13, item 4 (docs/security.md 6.4.3, 7.5.1, 8.2): adding a DSP assistant grants
the holder's rights to another person, so a session taken over — even with the password
— cannot do it without a fresh second factor; right after the login (the guide's walk)
nothing more is asked. And the notice of a password reset lists the assistants added to
the holder's record in the last 30 days, so that lasting access left behind is seen."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.records.actions import add_assistant
from esante.records.models import Assistant, Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, step_up
from tests.accounts.test_recovery import NEW_PASSWORD, ask
from tests.accounts.wizard import activate, last_one_time_code
from tests.records.conftest import logged_in

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(minutes=11)


def search_and_tick(client: Client, record: CareRecord, person: InsuredPerson) -> list[str]:
    """*Rechercher* then ✓, as the panel does; the redirects' targets."""
    found = client.post(
        reverse("records:assistant_search", args=[record.public_id]), {"numero": person.matricule}
    )
    ticked = client.post(
        reverse("records:assistant_add", args=[record.public_id]),
        {"candidate": person.esante_id, "type": "assistant_dsp", "role": ""},
    )
    return [found.get("Location", ""), ticked.get("Location", "")]


@pytest.fixture
def alice_client(alice: InsuredPerson, bob: InsuredPerson) -> Client:
    activate(Client(), bob, "bob@example.lu")
    return logged_in(alice, EMAIL)


def test_a_stolen_session_and_the_password_cannot_add_an_assistant(
    alice_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    panel = reverse("records:record", args=[record.public_id]) + "?ajouter=1#assistants"

    step_up_page = f"{reverse('patient:step_up')}?suivant={quote(panel, safe='')}"
    search = reverse("records:assistant_search", args=[record.public_id])
    alice_client.post(search, {"numero": bob.matricule})  # found while fresh

    with time_machine.travel(timezone.now() + LATER):
        ticked = alice_client.post(
            reverse("records:assistant_add", args=[record.public_id]),
            {"candidate": bob.esante_id, "type": "assistant_dsp", "role": ""},
        )
        found = alice_client.post(search, {"numero": bob.matricule})

    assert ticked["Location"] == found["Location"] == step_up_page
    assert not Assistant.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.ASSISTANT_ADDED).exists()


def test_the_step_up_with_the_current_channels_code_lets_the_assistant_be_added(
    alice_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    panel = reverse("records:record", args=[record.public_id]) + "?ajouter=1#assistants"

    with time_machine.travel(timezone.now() + LATER):
        search_and_tick(alice_client, record, bob)
        back = step_up(alice_client, back_to=panel)
        assert back["Location"] == panel
        found, ticked = search_and_tick(alice_client, record, bob)

    assert not found  # the search answers with the panel, no redirect
    assert (
        ticked == reverse("records:record", args=[record.public_id]) + "#messages"
    )  # the success message takes the focus
    assert Assistant.objects.get().person == bob


def test_right_after_the_login_the_guides_walk_adds_an_assistant_without_a_step_up(
    alice_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    """Log in, *Mon DSP*, *Ajouter*, *Rechercher*, ✓: no extra screen."""
    record = CareRecord.objects.get(person=alice)
    assert alice_client.get(reverse("records:record", args=[record.public_id])).status_code == 200

    search_and_tick(alice_client, record, bob)

    assert Assistant.objects.get().person == bob
    assert not AuditEvent.objects.filter(event_type=EventType.STEP_UP_SUCCEEDED).exists()


def reset_password(account: Account) -> OutboundMessage:
    """*Mot de passe oublié* to the end; the notice to the holder."""
    client = Client()
    ask(client, account.person.matricule)
    client.post(reverse("patient:recovery_code"), {"code": last_one_time_code(EMAIL)})
    done = client.post(
        reverse("patient:recovery_password"),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done["Location"] == reverse("patient:login")
    return OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")


def test_the_reset_notice_lists_the_assistants_added_in_the_last_30_days(
    alice: InsuredPerson, bob: InsuredPerson, charlie: InsuredPerson
) -> None:
    activate(Client(), alice, EMAIL)
    activate(Client(), bob, "bob@example.lu")
    activate(Client(), charlie, "charlie@example.lu")
    record = CareRecord.objects.get(person=alice)
    now = timezone.now()
    for person, when in ((bob, now - datetime.timedelta(days=31)), (charlie, now)):
        with time_machine.travel(when):
            add_assistant(
                record,
                person,
                role="",
                actor=alice,
                capacity=Capacity.OWNER,
                ip_address=None,
            )

    notice = reset_password(Account.objects.get(person=alice))

    assert "réinitialisé" in notice.body
    added = timezone.localtime(now).strftime("%d/%m/%Y")
    assert f"{charlie.public_label} le {added}" in notice.body
    assert bob.public_label not in notice.body


def test_without_a_recent_assistant_the_reset_notice_says_nothing_more(
    alice: InsuredPerson,
) -> None:
    activate(Client(), alice, EMAIL)

    notice = reset_password(Account.objects.get(person=alice))

    assert "réinitialisé" in notice.body
    assert "Assistants DSP" not in notice.body


def test_a_reactivation_by_a_new_letter_tells_the_recent_assistants_too(
    alice: InsuredPerson, bob: InsuredPerson, settings: Any
) -> None:
    """A new letter sets a new password as a reset does: its notice lists them as well.
    (The letter's waiting period, item 7, is over: set to none here.)"""
    settings.ESANTE_LETTER_REACTIVATION_WAIT_DAYS = 0
    activate(Client(), alice, EMAIL)
    activate(Client(), bob, "bob@example.lu")
    record = CareRecord.objects.get(person=alice)
    add_assistant(record, bob, role="", actor=alice, capacity=Capacity.OWNER, ip_address=None)

    activate(Client(), alice, "alice.new@example.lu")  # her new letter, a new address

    notice = OutboundMessage.objects.filter(recipient="alice.new@example.lu").latest("pk")
    assert "réactivé" in notice.body
    assert bob.public_label in notice.body
