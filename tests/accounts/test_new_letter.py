"""Activation step 1, answer "Non": asking for a new letter by post."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.audit.models import AuditEvent, EventType
from esante.registry import matricule
from esante.registry.letters import issue_letters, persons_needing_letters
from esante.registry.models import ActivationLetter, InsuredPerson, LetterRequest
from tests.accounts.wizard import activate, issue_letter, page_text, start

pytestmark = pytest.mark.django_db


def ask_for_letter(client: Client, number: str) -> str:
    response = client.post(
        reverse("activation:new_letter"),
        {"courrier-matricule": number, "courrier-captcha_0": "x", "courrier-captcha_1": "PASSED"},
    )
    assert response.status_code == 200, page_text(response)
    return page_text(response)


def confirmation(page: str, number: str) -> str:
    """The confirmation box, without the matricule it echoes."""
    start = page.index("Votre demande est enregistrée")
    return page[start : page.index("</div>", start)].replace(number, "…")


def test_non_explains_how_to_get_a_code_and_offers_the_form(client: Client) -> None:
    start(client)

    page = page_text(client.get(reverse("activation:code") + "?recu=non"))

    assert "Vous n'avez pas reçu votre code d'activation ?" in page
    assert "Demander un nouveau courrier" in page
    assert 'id="panel-oui" data-received-panel="oui" hidden' in page


def test_a_request_is_recorded_for_the_next_letter_run(
    client: Client, alice: InsuredPerson
) -> None:
    issue_letter(alice)  # she has a usable letter, but lost it
    start(client)

    ask_for_letter(client, alice.matricule)

    request = LetterRequest.objects.get(person=alice)
    assert request.fulfilled_at is None
    assert AuditEvent.objects.filter(event_type=EventType.LETTER_REQUESTED, person=alice).exists()
    assert list(persons_needing_letters()) == [alice]
    old = ActivationLetter.objects.get(person=alice)

    issue_letters(persons_needing_letters(), actor="test")

    request.refresh_from_db()
    old.refresh_from_db()
    assert request.fulfilled_at is not None
    assert old.voided_at is not None
    assert ActivationLetter.objects.filter(person=alice).count() == 2
    assert list(persons_needing_letters()) == []


def test_at_most_one_request_per_person_per_30_days(client: Client, alice: InsuredPerson) -> None:
    start(client)
    ask_for_letter(client, alice.matricule)
    ask_for_letter(client, alice.matricule)
    assert LetterRequest.objects.filter(person=alice).count() == 1

    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        other = Client()
        start(other)
        ask_for_letter(other, alice.matricule)

    assert LetterRequest.objects.filter(person=alice).count() == 2


def test_the_answer_is_the_same_whoever_the_matricule_is(
    client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    activate(Client(), bob, "bob@example.lu")
    nobody = matricule.make(datetime.date(1990, 1, 1), 7)
    start(client)

    pages = {
        "in the registry": ask_for_letter(client, alice.matricule),
        "activated already": ask_for_letter(client, bob.matricule),
        "unknown": ask_for_letter(client, nobody),
    }

    answers = {
        confirmation(page, number)
        for page, number in zip(
            pages.values(), (alice.matricule, bob.matricule, nobody), strict=True
        )
    }
    assert len(answers) == 1
    # bob has an account: his request stands too (a new letter re-activates it).
    assert LetterRequest.objects.filter(person=bob).exists()


def test_a_badly_formed_matricule_is_told_what_is_wrong(client: Client) -> None:
    start(client)

    response = client.post(
        reverse("activation:new_letter"),
        {"courrier-matricule": "12ab", "courrier-captcha_0": "x", "courrier-captcha_1": "PASSED"},
    )

    assert response.status_code == 400
    assert "Le matricule" in page_text(response)
    assert not LetterRequest.objects.exists()
