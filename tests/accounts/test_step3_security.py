"""Activation step 3: where the one-time code goes, and typing it back."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account, OneTimeCode
from esante.audit.models import AuditEvent, EventType
from esante.keyed_hash import keyed_hash
from esante.notifications.models import DeliveryState, OutboundMessage
from esante.registry.models import ActivationLetter, InsuredPerson
from tests.accounts.wizard import (
    last_one_time_code,
    page_text,
    reach_one_time_code_step,
    reach_password_step,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.portal.html import parse

pytestmark = pytest.mark.django_db

EMAIL = "alice@example.lu"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def reach_contact_step(client: Client, person: InsuredPerson) -> None:
    reach_password_step(client, person)
    assert submit_password(client).status_code == 302


def test_the_channel_is_chosen_between_mobile_and_email(
    client: Client, alice: InsuredPerson
) -> None:
    reach_contact_step(client, alice)

    page = page_text(client.get(reverse("activation:contact")))

    assert "Code à usage unique à recevoir par" in page
    for label in ("Mobile", "E-mail", "Etape précédente", "Valider"):
        assert label in page


def test_the_mobile_and_the_email_are_marked_required_in_their_panels(
    client: Client, alice: InsuredPerson
) -> None:
    """Guide p. 7: « Mobile * ». The form requires each only when its channel is chosen."""
    reach_contact_step(client, alice)

    page = parse(client.get(reverse("activation:contact")).content)

    for name, label in (("mobile", "Mobile"), ("email", "E-mail")):
        (field_label,) = page.find_all("label", for_=f"id_{name}")
        assert field_label.text == f"{label} *"
        (mark,) = [e for e in page.find_all("span", class_="required") if e.parent is field_label]
        assert mark.attrs["aria-hidden"] == "true"
        (field_input,) = page.find_all("input", name=name)
        assert field_input.attrs["aria-required"] == "true"


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        (["sms", "email", "totp"], "Choisissez Mobile, E-mail ou Application d'authentification."),
        (["sms", "totp"], "Choisissez Mobile ou Application d'authentification."),
        (["email", "sms"], "Choisissez Mobile ou E-mail."),
        (["email"], "Choisissez E-mail."),
    ],
)
def test_without_a_channel_the_message_names_the_channels_offered(
    client: Client, alice: InsuredPerson, settings: Any, channels: list[str], message: str
) -> None:
    settings.ESANTE_CODE_CHANNELS = channels
    reach_contact_step(client, alice)

    refused = client.post(reverse("activation:contact"), {})

    assert refused.status_code == 400
    assert message in page_text(refused)


@pytest.mark.parametrize(
    ("channel", "value", "message"),
    [
        ("sms", "", "Saisissez votre numéro de mobile."),
        ("sms", "12", "Ce numéro de téléphone n'existe pas"),
        ("sms", "abc", "Ce numéro de téléphone n'est pas valable"),
        ("sms", "27 12 50 18", "n'est pas un numéro de téléphone portable"),
        ("email", "", "Saisissez votre adresse e-mail."),
        ("email", "alice@", "Cette adresse e-mail n'est pas valable"),
    ],
)
def test_a_bad_destination_is_refused_with_its_message(
    client: Client, alice: InsuredPerson, channel: str, value: str, message: str
) -> None:
    reach_contact_step(client, alice)

    response = submit_contact(client, channel, value)

    assert response.status_code == 400
    assert message in page_text(response)
    assert not OneTimeCode.objects.exists()


def test_a_foreign_mobile_in_international_form_is_accepted(
    client: Client, alice: InsuredPerson
) -> None:
    reach_contact_step(client, alice)

    response = submit_contact(client, "sms", "+33 6 12 34 56 78")

    assert response.status_code == 302
    assert OneTimeCode.objects.get().destination == "+33612345678"


def test_the_code_is_six_digits_stored_only_as_a_keyed_hash(
    client: Client, alice: InsuredPerson
) -> None:
    reach_one_time_code_step(client, alice, EMAIL)

    code = last_one_time_code(EMAIL)
    stored = OneTimeCode.objects.get()

    assert len(code) == 6 and code.isdigit()
    assert stored.code_hash == keyed_hash("otp", code)
    assert code not in stored.code_hash
    assert stored.expires_at - stored.created_at == datetime.timedelta(minutes=15)


def test_a_wrong_code_says_how_many_tries_remain(client: Client, alice: InsuredPerson) -> None:
    reach_one_time_code_step(client, alice, EMAIL)

    response = submit_one_time_code(client, wrong(last_one_time_code(EMAIL)))

    assert response.status_code == 400
    assert "Il vous reste 4 essais" in page_text(response)
    assert AuditEvent.objects.filter(event_type=EventType.OTP_FAILED).count() == 1


def test_after_five_wrong_tries_a_new_code_is_needed(client: Client, alice: InsuredPerson) -> None:
    reach_one_time_code_step(client, alice, EMAIL)
    code = last_one_time_code(EMAIL)

    for _try in range(5):
        submit_one_time_code(client, wrong(code))
    response = submit_one_time_code(client, code)

    assert "Trop d'essais erronés : ce code ne fonctionne plus." in page_text(response)
    assert not Account.objects.exists()


def test_a_code_expires_after_15_minutes(client: Client, alice: InsuredPerson) -> None:
    reach_one_time_code_step(client, alice, EMAIL)
    code = last_one_time_code(EMAIL)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=15, seconds=1)):
        response = submit_one_time_code(client, code)

    assert "Ce code a expiré." in page_text(response)
    assert not Account.objects.exists()


def test_a_malformed_code_is_not_counted(client: Client, alice: InsuredPerson) -> None:
    reach_one_time_code_step(client, alice, EMAIL)

    response = submit_one_time_code(client, "1245")

    assert "Le code reçu compte 6 chiffres" in page_text(response)
    assert OneTimeCode.objects.get().failed_attempts == 0


def test_a_code_with_letters_names_them_and_is_not_counted(
    client: Client, alice: InsuredPerson
) -> None:
    reach_one_time_code_step(client, alice, EMAIL)

    response = submit_one_time_code(client, "12O-45l")

    assert (
        "Le code ne contient que des chiffres, jamais les caractères O, L : vérifiez votre "
        "saisie." in page_text(response)
    )
    assert OneTimeCode.objects.get().failed_attempts == 0


def test_a_short_code_says_how_many_digits_were_typed(client: Client, alice: InsuredPerson) -> None:
    reach_one_time_code_step(client, alice, EMAIL)

    response = submit_one_time_code(client, "123 45")

    assert "Le code reçu compte 6 chiffres ; vous en avez saisi 5" in page_text(response)


def test_the_code_can_be_resent_after_60_seconds_and_replaces_the_first(
    client: Client, alice: InsuredPerson
) -> None:
    reach_one_time_code_step(client, alice, EMAIL)
    first = last_one_time_code(EMAIL)

    too_soon = client.post(reverse("activation:otp"), {"resend": "1"}, follow=True)
    assert "Vous pourrez demander un nouveau code dans" in page_text(too_soon)
    assert OneTimeCode.objects.count() == 1

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        client.post(reverse("activation:otp"), {"resend": "1"})
        second = last_one_time_code(EMAIL)
        refused = submit_one_time_code(client, first) if first != second else None
        accepted = submit_one_time_code(client, second)

    assert OneTimeCode.objects.count() == 2
    assert OneTimeCode.objects.earliest("pk").superseded_at is not None
    if refused is not None:
        assert "Ce code est incorrect." in page_text(refused)
    assert accepted["Location"] == reverse("activation:authenticators")


def test_the_wait_before_resending_is_counted_out_of_the_live_region(
    client: Client, alice: InsuredPerson
) -> None:
    """activation.js counts down in a text no screen reader follows, then says once, in
    the live region, that the code can be sent again."""
    with time_machine.travel(timezone.now(), tick=False):
        reach_one_time_code_step(client, alice, EMAIL)
        page = parse(client.get(reverse("activation:otp")).content)

    (button,) = page.find_all("button", name="resend")
    assert button.attrs["data-resend-wait"] == "60"
    (countdown,) = [e for e in page.elements if "data-resend-countdown" in e.attrs]
    assert countdown.text == "(possible dans 60 secondes)"
    assert countdown.attrs["data-one"] == "(possible dans 1 seconde)"
    assert not [e for e in [countdown, *countdown.enclosing()] if "aria-live" in e.attrs]
    (ready,) = [e for e in page.elements if "data-resend-ready" in e.attrs]
    assert ready.attrs["aria-live"] == "polite"
    assert ready.text == ""
    assert ready.attrs["data-resend-ready"] == "Vous pouvez maintenant renvoyer le code."
    assert button.parent is countdown.parent is ready.parent


def test_at_most_five_codes_an_hour_go_to_one_person_at_one_destination(
    client: Client, alice: InsuredPerson
) -> None:
    # At the start of an hour, so that the hour's counter is the same all along.
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        reach_one_time_code_step(client, alice, EMAIL)
        for _resend in range(4):
            traveller.shift(datetime.timedelta(minutes=2))
            client.post(reverse("activation:otp"), {"resend": "1"})
        assert OneTimeCode.objects.count() == 5

        traveller.shift(datetime.timedelta(minutes=2))
        response = client.post(reverse("activation:otp"), {"resend": "1"})

    assert response.status_code == 429
    assert response["Retry-After"]
    assert "Trop de codes demandés pour vous à ce numéro ou à cette adresse" in page_text(response)
    assert "Cette limite prend fin à 11 h 00 (heure de Luxembourg)." in page_text(response)
    assert OneTimeCode.objects.count() == 5


def test_the_channel_or_address_can_be_changed(client: Client, alice: InsuredPerson) -> None:
    reach_one_time_code_step(client, alice, EMAIL)

    back = client.post(reverse("activation:otp"), {"back": "1"})
    page = page_text(client.get(reverse("activation:contact")))
    submit_contact(client, "email", "alice.martin@example.lu")
    response = submit_one_time_code(client, last_one_time_code("alice.martin@example.lu"))

    assert back["Location"] == reverse("activation:contact")
    assert f'value="{EMAIL}"' in page  # what was typed is offered again
    assert response["Location"] == reverse("activation:authenticators")
    assert Account.objects.get().email == "alice.martin@example.lu"


@pytest.mark.django_db(transaction=True)  # delivery runs after commit
def test_a_failed_sending_is_told_and_can_be_retried_at_once(
    client: Client, alice: InsuredPerson, sms_gateway: Any
) -> None:
    reach_contact_step(client, alice)
    sms_gateway.status = 503

    submit_contact(client, "sms", "621 123 456")
    page = page_text(client.get(reverse("activation:otp")))

    assert "Le code n'a pas pu être envoyé" in page
    failed = OutboundMessage.objects.filter(recipient="+352621123456").get()
    assert failed.state == DeliveryState.PENDING and failed.last_error

    sms_gateway.status = 200
    client.post(reverse("activation:otp"), {"resend": "1"})

    assert "Le code a été envoyé au numéro" in page_text(client.get(reverse("activation:otp")))
    failed.refresh_from_db()
    assert failed.state == DeliveryState.FAILED  # the superseded code is never delivered
    sent = OutboundMessage.objects.filter(recipient="+352621123456").latest("pk")
    assert sent.state == DeliveryState.SENT


def test_the_account_is_created_only_when_the_code_is_typed_back(
    client: Client, alice: InsuredPerson
) -> None:
    reach_one_time_code_step(client, alice, EMAIL)

    assert not Account.objects.exists()
    assert ActivationLetter.objects.get(person=alice).used_at is None

    submit_one_time_code(client, last_one_time_code(EMAIL))

    assert Account.objects.filter(person=alice).exists()
    assert ActivationLetter.objects.get(person=alice).used_at is not None


def test_a_double_submit_of_the_right_code_is_harmless(
    client: Client, alice: InsuredPerson
) -> None:
    reach_one_time_code_step(client, alice, EMAIL)
    code = last_one_time_code(EMAIL)

    first = submit_one_time_code(client, code)
    second = submit_one_time_code(client, code)

    assert first["Location"] == second["Location"] == reverse("activation:authenticators")
    assert Account.objects.count() == 1


def test_steps_1_to_3_are_closed_once_the_account_exists(
    client: Client, alice: InsuredPerson
) -> None:
    reach_one_time_code_step(client, alice, EMAIL)
    submit_one_time_code(client, last_one_time_code(EMAIL))

    for name in ("activation:code", "activation:password", "activation:contact"):
        assert client.get(reverse(name))["Location"] == reverse("activation:authenticators")
