"""Activation step 1: the matricule and code pair, and each way it can be refused."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.registry import matricule
from esante.registry.letters import issue_letters
from esante.registry.models import ActivationLetter, InsuredPerson
from tests.accounts.wizard import (
    activate,
    alert_text,
    issue_letter,
    page_text,
    start,
    submit_code,
)

pytestmark = pytest.mark.django_db

# Valid, and nobody's: the factories draw serials from 100 upwards.
UNKNOWN_MATRICULE = matricule.make(datetime.date(1985, 4, 12), 7)
GENERIC = "Le matricule ou le code d'activation est incorrect."


def wrong_code_for(code: str) -> str:
    return ("A" if code[0] != "A" else "C") + code[1:]


def test_the_question_is_asked_with_oui_and_non(client: Client) -> None:
    start(client)

    page = page_text(client.get(reverse("activation:code")))

    assert "Avez-vous reçu votre code d'activation ?" in page
    assert 'value="oui"' in page and 'value="non"' in page
    for label in ("Matricule", "Code d'activation", "Captcha", "Etape suivante"):
        assert label in page


def test_a_wrong_code_and_an_unknown_matricule_read_the_same(
    client: Client, alice: InsuredPerson, charlie: InsuredPerson
) -> None:
    code = issue_letter(alice)
    start(client)

    wrong = submit_code(client, alice.matricule, wrong_code_for(code))
    # charlie is in the registry but never got a letter; the last one is nobody at all.
    no_letter = submit_code(client, charlie.matricule, code)
    unknown = submit_code(client, UNKNOWN_MATRICULE, code)

    assert [response.status_code for response in (wrong, no_letter, unknown)] == [400] * 3
    assert GENERIC in alert_text(wrong)
    assert alert_text(wrong) == alert_text(no_letter) == alert_text(unknown)


def test_a_badly_formed_matricule_is_told_what_is_wrong(client: Client) -> None:
    start(client)

    too_short = submit_code(client, "19850412", "K7QM-4XPA-9TRE")
    bad_check_digits = submit_code(client, "1985041210099", "K7QM-4XPA-9TRE")

    assert "Le matricule compte 11 ou 13 chiffres ; vous en avez saisi 8." in page_text(too_short)
    assert "Les chiffres de contrôle du matricule ne correspondent pas" in page_text(
        bad_check_digits
    )


def test_a_badly_formed_code_is_told_what_is_wrong(client: Client, alice: InsuredPerson) -> None:
    issue_letter(alice)
    start(client)

    response = submit_code(client, alice.matricule, "K7QM-4XPA")

    assert "Le code d'activation compte 12 caractères" in page_text(response)
    assert ActivationLetter.objects.get(person=alice).failed_attempts == 0


def test_a_code_with_characters_codes_never_use_names_them(
    client: Client, alice: InsuredPerson
) -> None:
    issue_letter(alice)
    start(client)

    response = submit_code(client, alice.matricule, "K7QO-4XPI-9TRo")

    assert "Le code ne contient jamais les caractères O, I : vérifiez votre courrier." in page_text(
        response
    )
    assert ActivationLetter.objects.get(person=alice).failed_attempts == 0


def test_a_code_of_the_wrong_length_counts_what_was_typed_without_spaces_and_dashes(
    client: Client, alice: InsuredPerson
) -> None:
    issue_letter(alice)
    start(client)

    response = submit_code(client, alice.matricule, " K7QM - 4XPA - 9TR ")

    assert "Le code d'activation compte 12 caractères" in page_text(response)
    assert "vous en avez saisi 11 : vérifiez votre courrier." in page_text(response)


def test_the_code_is_accepted_in_any_case_with_spaces(client: Client, alice: InsuredPerson) -> None:
    code = issue_letter(alice)
    start(client)

    response = submit_code(
        client,
        f"{alice.matricule[:4]} {alice.matricule[4:8]} {alice.matricule[8:]}",
        code.lower().replace("-", " "),
    )

    assert response["Location"] == reverse("activation:password")


def test_an_expired_code_says_so_and_how_to_get_a_new_letter(
    client: Client, alice: InsuredPerson
) -> None:
    code = issue_letter(alice)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=91)):
        start(client)
        response = submit_code(client, alice.matricule, code)

    assert "Ce code d'activation a expiré." in page_text(response)
    assert "Demandez un nouveau courrier" in page_text(response)


def test_a_voided_code_says_so(client: Client, alice: InsuredPerson) -> None:
    old_code = issue_letter(alice)
    issue_letters([alice], actor="test")
    start(client)

    response = submit_code(client, alice.matricule, old_code)

    assert "a été remplacé par celui d'un courrier plus récent" in page_text(response)


def test_the_code_locks_after_five_wrong_tries_and_then_says_so(
    client: Client, alice: InsuredPerson
) -> None:
    code = issue_letter(alice)
    start(client)

    for _try in range(5):
        assert GENERIC in page_text(submit_code(client, alice.matricule, wrong_code_for(code)))
    # A sixth wrong try still reads as a wrong pair: only the letter's holder learns more.
    assert alert_text(submit_code(client, alice.matricule, wrong_code_for(code))) == alert_text(
        submit_code(client, UNKNOWN_MATRICULE, code)
    )
    right = submit_code(client, alice.matricule, code)

    assert ActivationLetter.objects.get(person=alice).locked_at is not None
    assert "Ce code d'activation est bloqué après 5 essais erronés." in page_text(right)


def test_an_activated_account_says_so_and_points_to_connexion(
    client: Client, alice: InsuredPerson
) -> None:
    activate(client, alice)
    code_used = _letter_code(alice)
    other = Client()
    start(other)

    response = submit_code(other, alice.matricule, code_used)

    assert "Ce compte eSanté est déjà activé." in page_text(response)
    assert reverse("portal:login_choice") in page_text(response)


def _letter_code(person: InsuredPerson) -> str:
    from tests.accounts.wizard import letter_code_of

    return letter_code_of(person)


def test_a_refused_try_keeps_what_was_typed(client: Client, alice: InsuredPerson) -> None:
    code = issue_letter(alice)
    start(client)

    response = submit_code(client, alice.matricule, wrong_code_for(code))

    assert f'value="{alice.matricule}"' in page_text(response)
