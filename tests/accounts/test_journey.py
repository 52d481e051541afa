"""The activation journey through Django's test client: the happy paths, adult and minor."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse

from esante.accounts.activation.cgu import CGU_VERSION
from esante.accounts.models import Account
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.records.models import CareRecord
from esante.registry.models import ActivationLetter, InsuredPerson
from tests.accounts.wizard import (
    PASSWORD,
    activate,
    page_text,
    reach_password_step,
    start,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.portal.html import parse

pytestmark = pytest.mark.django_db


def test_the_activation_page_shows_the_prerequisites_and_the_cgu(client: Client) -> None:
    page = page_text(client.get(reverse("portal:activation")))

    assert "Votre numéro de matricule (à 11 ou 13 chiffres)" in page
    assert "Vous ne retrouvez plus votre courrier d'activation ?" in page
    assert "CONDITIONS GENERALES D'UTILISATION" in page
    assert "1. Objet" in page  # the text itself, readable on the page
    assert reverse("activation:cgu_pdf") in page
    assert "En cochant cette case, j'accepte les Conditions Générales d'Utilisation." in page
    assert "Activer mon compte" in page


def test_the_cgu_download_is_a_pdf(client: Client) -> None:
    response = client.get(reverse("activation:cgu_pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]


def test_the_wizard_starts_only_with_the_cgu_accepted(client: Client) -> None:
    refused = client.post(reverse("activation:start"), {})
    assert refused.status_code == 400
    assert "cochez la case qui accepte les Conditions" in page_text(refused)

    accepted = start(client)
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("activation:code")


def test_a_refused_cgu_links_the_checkbox_to_its_error(client: Client) -> None:
    page = parse(client.post(reverse("activation:start"), {}).content)

    (checkbox,) = page.find_all("input", name="accept_cgu")
    assert checkbox.attrs["aria-invalid"] == "true"
    assert checkbox.attrs["aria-describedby"] == "id_accept_cgu_error"
    error = page.by_id("id_accept_cgu_error")
    assert error.text.startswith("Pour activer votre compte, cochez la case")
    assert error.inside("div") and error.parent and error.parent.attrs["role"] == "alert"
    assert not page.dangling_references()


def test_every_wizard_page_shows_the_five_steps_and_marks_the_current_one(
    client: Client, alice: InsuredPerson
) -> None:
    reach_password_step(client, alice)

    page = page_text(client.get(reverse("activation:password")))

    for name in (
        "Code d'activation",
        "Mot de passe",
        "Sécurisation de votre compte",
        "Autres moyens d'authentification",
        "Confirmation",
    ):
        assert name in page
    assert page.count('aria-current="step"') == 1
    current = page.split('aria-current="step"')[1].split("</li>")[0]
    assert "Mot de passe" in current


def test_an_adult_activates_her_account(client: Client, alice: InsuredPerson) -> None:
    response = activate(client, alice, "alice@example.lu")

    assert response.status_code == 302
    assert response["Location"] == reverse("activation:authenticators")
    account = Account.objects.get(person=alice)
    assert account.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password(PASSWORD, account.password)
    assert account.email == "alice@example.lu"
    assert account.code_channel == "email"
    assert account.cgu_version == CGU_VERSION
    assert account.cgu_accepted_at <= account.activated_at
    assert CareRecord.objects.filter(person=alice).exists()
    letter = ActivationLetter.objects.get(person=alice)
    assert letter.used_at is not None
    assert account.activation_letter == letter
    event = AuditEvent.objects.get(event_type=EventType.ACCOUNT_ACTIVATED)
    assert event.person == alice
    confirmation = OutboundMessage.objects.filter(recipient="alice@example.lu").latest("pk")
    assert confirmation.subject == "Votre compte eSanté est activé"

    step4 = client.get(reverse("activation:authenticators"))
    assert "Associer un produit LuxTrust" in page_text(step4)
    assert "Aucun moyen d'authentification forte" in page_text(step4)
    assert client.post(reverse("activation:authenticators"))["Location"] == reverse(
        "activation:done"
    )
    step5 = page_text(client.get(reverse("activation:done")))
    assert "Votre activation est terminée !" in step5
    assert "Vous pouvez vous connecter à votre DSP." in step5
    assert reverse("portal:login_choice") in step5


def test_a_parent_is_told_the_account_is_a_minors(client: Client, lea: InsuredPerson) -> None:
    reach_password_step(client, lea)

    page = page_text(client.get(reverse("activation:password")))

    assert "Vous activez le compte d'un enfant mineur" in page
    assert "Assistant DSP" in page


def test_the_minor_account_is_the_childs_own(client: Client, lea: InsuredPerson) -> None:
    response = activate(client, lea, "parents.martin@example.lu")

    assert response.status_code == 302
    account = Account.objects.get(person=lea)
    assert account.email == "parents.martin@example.lu"
    assert AuditEvent.objects.get(event_type=EventType.ACCOUNT_ACTIVATED).details["minor"] is True


def test_the_adult_gets_no_minor_notice(client: Client, alice: InsuredPerson) -> None:
    reach_password_step(client, alice)

    assert "enfant mineur" not in page_text(client.get(reverse("activation:password")))


@pytest.mark.django_db(transaction=True)  # delivery runs after commit
def test_a_code_is_sent_by_sms_through_the_gateway(
    client: Client, alice: InsuredPerson, sms_gateway: Any
) -> None:
    reach_password_step(client, alice)
    submit_password(client)
    response = submit_contact(client, "sms", "621 123 456")

    assert response.status_code == 302
    assert len(sms_gateway.requests) == 1
    payload = sms_gateway.requests[0].payload
    assert payload["to"] == "+352621123456"
    page = page_text(client.get(reverse("activation:otp")))
    assert "Le code a été envoyé au numéro +352 *** *** 456, il est valable pendant 15min." in page
    code = next(word for word in payload["text"].split() if word.rstrip(".").isdigit())
    assert submit_one_time_code(client, code.rstrip(".")).status_code == 302
    assert Account.objects.get(person=alice).phone == "+352621123456"


@pytest.mark.django_db(transaction=True)  # delivery runs after commit
def test_a_code_is_sent_by_email_through_smtp(
    client: Client, alice: InsuredPerson, smtp_server: Any
) -> None:
    reach_password_step(client, alice)
    submit_password(client)
    submit_contact(client, "email", "Alice.Martin@Example.LU")

    assert len(smtp_server.mails) == 1
    assert smtp_server.mails[0].recipients == ["Alice.Martin@example.lu"]
    assert "valable pendant 15 min" in smtp_server.mails[0].text
    page = page_text(client.get(reverse("activation:otp")))
    assert (
        "Le code a été envoyé à l'adresse *****@example.lu, il est valable pendant 15min." in page
    )


def test_step_3_offers_only_the_channels_the_agency_allows(
    client: Client, alice: InsuredPerson, settings: Any
) -> None:
    settings.ESANTE_CODE_CHANNELS = ["sms"]
    reach_password_step(client, alice)
    submit_password(client)

    page = page_text(client.get(reverse("activation:contact")))
    assert 'value="sms"' in page
    assert 'value="email"' not in page and 'value="totp"' not in page
    refused = submit_contact(client, "email", "alice@example.lu")
    assert refused.status_code == 400
    assert not OutboundMessage.objects.filter(recipient="alice@example.lu").exists()


def test_step_3_tells_the_risks_of_codes_by_sms_and_e_mail(
    client: Client, alice: InsuredPerson
) -> None:
    """ASVS 5.0 6.6.1: the person is told, and pointed to the stronger ways."""
    reach_password_step(client, alice)
    submit_password(client)

    page = page_text(client.get(reverse("activation:contact")))
    assert "Un code reçu par SMS ou par e-mail peut être détourné" in page
