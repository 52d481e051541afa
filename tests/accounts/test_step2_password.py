"""Activation step 2: the password, its rules, each refused with its own message."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante.registry.models import InsuredPerson
from tests.accounts.wizard import page_text, reach_password_step, submit_password
from tests.portal.html import parse

pytestmark = pytest.mark.django_db

RULE = (
    "Le mot de passe doit faire au minimum 8 caractères, comprendre au moins un caractère "
    "alphabétique et au moins un caractère numérique."
)


def test_the_rule_is_shown_before_typing(client: Client, alice: InsuredPerson) -> None:
    reach_password_step(client, alice)

    page = page_text(client.get(reverse("activation:password")))

    assert RULE in page
    assert page.index(RULE) < page.index('name="password1"')
    for label in (
        "Votre mot de passe",
        "Confirmation de votre mot de passe",
        "Etape précédente",
        "Etape suivante",
    ):
        assert label in page
    assert 'autocomplete="new-password"' in page


def test_the_password_input_is_described_by_the_rule(client: Client, alice: InsuredPerson) -> None:
    reach_password_step(client, alice)

    blank = parse(client.get(reverse("activation:password")).content)
    refused = parse(submit_password(client, "abc1").content)

    # As printed in the guide: "personnel*", and the rule under its asterisk.
    assert "Entrez un mot de passe personnel* et confirmez-le" in blank.text
    assert blank.by_id("password-rule").text.strip().startswith("* " + RULE)
    (password1,) = blank.find_all("input", name="password1")
    assert password1.attrs["aria-describedby"] == "password-rule"
    (password1,) = refused.find_all("input", name="password1")
    assert password1.attrs["aria-describedby"] == "password-rule id_password1_error"
    assert not blank.dangling_references() and not refused.dangling_references()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abc1", RULE),
        ("abcdefghij", RULE),
        ("1234567890", RULE),
        ("password1", "Ce mot de passe est trop courant"),
        ("x" * 120 + "1" * 9, "Le mot de passe ne peut pas dépasser 128 caractères."),
    ],
)
def test_a_password_breaking_a_rule_is_refused(
    client: Client, alice: InsuredPerson, password: str, message: str
) -> None:
    reach_password_step(client, alice)

    response = submit_password(client, password)

    assert response.status_code == 400
    assert message in page_text(response)


def test_the_asvs_rule_replaces_the_guides_by_setting(
    client: Client, alice: InsuredPerson, settings: Any
) -> None:
    """ASVS 5.0 6.2.1 and 6.2.5: 15 characters, no composition rule (docs/security.md)."""
    settings.ESANTE_PASSWORD_MIN_LENGTH = 15
    settings.ESANTE_PASSWORD_LETTER_AND_DIGIT = False
    asvs_rule = "Le mot de passe doit faire au minimum 15 caractères."
    reach_password_step(client, alice)

    page = page_text(client.get(reverse("activation:password")))
    assert asvs_rule in page and RULE not in page
    refused = submit_password(client, "Soleil2024")  # the guide's rule would take it
    assert refused.status_code == 400
    assert asvs_rule in page_text(refused)
    # No letter and digit needed: a long passphrase of letters only is taken.
    assert submit_password(client, "cheval agrafe correct pile").status_code == 302


def test_a_longer_minimum_keeps_the_letter_and_digit_rule(
    client: Client, alice: InsuredPerson, settings: Any
) -> None:
    settings.ESANTE_PASSWORD_MIN_LENGTH = 12
    reach_password_step(client, alice)

    refused = submit_password(client, "cheval agrafe correct pile")
    assert refused.status_code == 400
    assert (
        "Le mot de passe doit faire au minimum 12 caractères, comprendre au moins un caractère "
        "alphabétique et au moins un caractère numérique."
    ) in page_text(refused)


def test_a_password_with_the_persons_own_data_is_refused(
    client: Client, alice: InsuredPerson
) -> None:
    reach_password_step(client, alice)
    birth = alice.birth_date

    with_matricule = submit_password(client, f"x{alice.matricule}")
    with_name = submit_password(client, "MARTIN-2024!")
    with_first_name = submit_password(client, "alice 12345")
    with_birth_date = submit_password(client, f"zz{birth:%d%m%Y}")

    assert "ne doit pas contenir votre matricule" in page_text(with_matricule)
    assert "ne doit pas contenir votre nom ou votre prénom" in page_text(with_name)
    assert "ne doit pas contenir votre nom ou votre prénom" in page_text(with_first_name)
    assert "ne doit pas contenir votre date de naissance" in page_text(with_birth_date)


def test_the_two_passwords_must_match(client: Client, alice: InsuredPerson) -> None:
    reach_password_step(client, alice)

    response = submit_password(client, "Soleil d'hiver 2024", "Soleil d'hiver 2025")

    assert "Les deux mots de passe ne sont pas identiques." in page_text(response)


def test_any_unicode_up_to_128_characters_is_accepted(client: Client, alice: InsuredPerson) -> None:
    reach_password_step(client, alice)

    response = submit_password(client, "Ŝtelo ☀ çà et là 7 " + "é" * 100)

    assert response.status_code == 302
    assert response["Location"] == reverse("activation:contact")


def test_a_refused_password_is_never_sent_back_to_the_page(
    client: Client, alice: InsuredPerson
) -> None:
    reach_password_step(client, alice)

    response = submit_password(client, "password1")

    assert "password1" not in page_text(response).replace('name="password1"', "").replace(
        'id="id_password1', ""
    ).replace("id_password1", "")


def test_etape_precedente_goes_back_and_keeps_the_verified_code(
    client: Client, alice: InsuredPerson
) -> None:
    reach_password_step(client, alice)

    back = client.post(reverse("activation:password"), {"back": "1"})
    page = page_text(client.get(reverse("activation:code")))
    again = client.post(reverse("activation:code"), {"keep": "1"})

    assert back["Location"] == reverse("activation:code")
    assert f"Votre code d'activation a été vérifié pour le matricule {alice.matricule}" in page
    assert again["Location"] == reverse("activation:password")


def test_coming_back_to_step_2_keeps_the_password_chosen(
    client: Client, alice: InsuredPerson
) -> None:
    reach_password_step(client, alice)
    submit_password(client)
    client.post(reverse("activation:contact"), {"back": "1"})

    page = page_text(client.get(reverse("activation:password")))
    kept = client.post(reverse("activation:password"), {"password1": "", "password2": ""})

    assert "laissez les deux champs vides pour le garder" in page
    assert kept["Location"] == reverse("activation:contact")


@pytest.mark.parametrize("password", ["MonEsante2024", "e-Santé du 12 mai", "DSP-famille-77"])
def test_the_services_own_words_are_refused(
    client: Client, alice: InsuredPerson, password: str
) -> None:
    """ASVS 5.0 6.1.2, 6.2.11: the first words an attacker tries (CONTEXT_WORDS)."""
    reach_password_step(client, alice)

    response = submit_password(client, password)

    assert response.status_code == 400
    assert "ne doit pas contenir le nom du service" in page_text(response)
