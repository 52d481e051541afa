"""Notices about a DSP to a holder who has no account yet (a professional declared a care
relationship, opened the record in an emergency): held until the account is activated,
then sent once, to the channel the holder chose, in the account's language."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils.translation import gettext as _

from esante.accounts.models import Account, HeldNotice
from esante.accounts.notices import notify_person, release_held_notices
from esante.notifications.models import Channel, OutboundMessage
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import activate

pytestmark = pytest.mark.django_db

EMAIL = "alice@example.lu"


def compose() -> tuple[str, str]:
    """A notice worded in the active language (with texts the catalogues translate)."""
    return _("Nouvelle connexion à votre compte eSanté"), _("Courrier d'activation eSanté")


def notices_to(email: str) -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(channel=Channel.EMAIL, recipient=email, subject__in=SUBJECTS)
    )


SUBJECTS = [
    "Nouvelle connexion à votre compte eSanté",
    "Neue Anmeldung bei Ihrem eSanté-Konto",
    "New login to your eSanté account",
]


def activate_in(language: str, person: InsuredPerson, email: str = EMAIL) -> Account:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    activate(client, person, email)
    account = Account.objects.get(person=person)
    assert account.language == language
    return account


def test_a_notice_to_a_holder_without_an_account_is_held(alice: InsuredPerson) -> None:
    notify_person(alice, compose)

    held = HeldNotice.objects.get(person=alice)
    assert held.released_at is None
    assert held.subject == SUBJECTS[0]  # her letters' language: French
    assert held.wordings["en"] == [SUBJECTS[2], "eSanté activation letter"]
    assert set(held.wordings) == {"fr", "de", "en"}
    assert not OutboundMessage.objects.filter(person=alice).exclude(channel=Channel.LETTER)


@pytest.mark.parametrize("language", ["de", "en", "fr"])
def test_a_held_notice_is_sent_at_activation_in_the_account_s_language(
    alice: InsuredPerson, language: str
) -> None:
    notify_person(alice, compose)  # held in French, her letters' language

    account = activate_in(language, alice)

    (sent,) = notices_to(EMAIL)
    subject, body = HeldNotice.objects.get(person=alice).wordings[language]
    assert (sent.subject, sent.body) == (subject, body)
    assert sent.subject == dict(zip(["fr", "de", "en"], SUBJECTS, strict=True))[language]
    assert sent.person_id == account.person_id
    assert HeldNotice.objects.get(person=alice).released_at is not None


def test_a_held_notice_is_sent_once(alice: InsuredPerson) -> None:
    notify_person(alice, compose)
    notify_person(alice, compose)
    account = activate_in("fr", alice)
    assert len(notices_to(EMAIL)) == 2

    with transaction.atomic():
        assert release_held_notices(account) == 0

    assert len(notices_to(EMAIL)) == 2
    assert not HeldNotice.objects.filter(released_at__isnull=True).exists()


def test_a_holder_with_an_account_is_told_at_once_in_its_language(alice: InsuredPerson) -> None:
    activate_in("de", alice)

    notify_person(alice, compose)

    (sent,) = notices_to(EMAIL)
    assert (sent.subject, sent.body) == (SUBJECTS[1], "eSanté-Aktivierungsschreiben")
    assert not HeldNotice.objects.exists()


def test_held_notices_are_the_holder_s_only(alice: InsuredPerson, bob: InsuredPerson) -> None:
    notify_person(bob, compose)

    activate_in("fr", alice)

    assert not notices_to(EMAIL)
    assert HeldNotice.objects.get(person=bob).released_at is None
