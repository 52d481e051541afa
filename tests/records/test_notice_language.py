"""The record's notices go to each person in their own account's language: the holder
and the assistant may read different ones."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from esante.notifications.models import OutboundMessage
from esante.records.actions import add_assistant
from esante.records.majority import coming_of_age
from esante.records.models import Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import activate
from tests.factories import make_person
from tests.records.test_coming_of_age import BIRTH, on

pytestmark = pytest.mark.django_db


def activate_in(language: str, person: InsuredPerson, email: str) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    activate(client, person, email)


def subjects_by_recipient() -> dict[str, str]:
    messages = OutboundMessage.objects.order_by("pk")
    return dict(messages.values_list("recipient", "subject"))


def test_an_assistant_and_the_holder_are_each_told_in_their_language(
    alice: InsuredPerson, bob: InsuredPerson
) -> None:
    activate_in("de", alice, "alice@example.lu")
    activate_in("en", bob, "bob@example.lu")
    record = CareRecord.objects.get(person=alice)

    add_assistant(record, bob, role="", actor=alice, capacity=Capacity.OWNER, ip_address=None)

    sent = subjects_by_recipient()
    assert sent["alice@example.lu"] == "Ein DSP-Assistent wurde hinzugefügt"
    assert sent["bob@example.lu"] == "A DSP assistant was added"


def test_the_majority_notices_go_in_each_person_s_language(alice: InsuredPerson) -> None:
    lea = make_person("Léa", "Martin", BIRTH, sex="F")
    with on("2026-10-01"):
        activate_in("de", lea, "lea@example.lu")
        activate_in("en", alice, "alice@example.lu")
        record = CareRecord.objects.get(person=lea)
        add_assistant(
            record, alice, role="Mère", actor=lea, capacity=Capacity.OWNER, ip_address=None
        )

    with on("2026-11-20"):
        assert coming_of_age().notices == 1

    sent = subjects_by_recipient()
    assert sent["lea@example.lu"] == "Ende der DSP-Assistentenrechte mit der Volljährigkeit"
    assert sent["alice@example.lu"] == "End of DSP assistant rights at coming of age"
    to_lea = OutboundMessage.objects.filter(recipient="lea@example.lu").latest("pk")
    assert "Am 20.12.2026 werden Sie 18" in to_lea.body  # the date as German writes it
    to_alice = OutboundMessage.objects.filter(recipient="alice@example.lu").latest("pk")
    assert "20/12/2026" in to_alice.body  # the day first in English too
