"""Notices in the holder's language: the account keeps the language it was activated in,
the language menu changes it while logged in, and every e-mail and SMS is written in it,
whatever the language of the page that causes it."""

from __future__ import annotations

import datetime
import zoneinfo
from email.header import decode_header, make_header
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from esante.accounts import actions
from esante.accounts.models import Account, CodeChannel
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import Channel, OutboundMessage
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson, Language
from tests.accounts.wizard import (
    PASSWORD,
    activate,
    last_one_time_code,
    reach_password_step,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.servers import ReceivedMail, SmsGateway, SmtpServer

pytestmark = pytest.mark.django_db

EMAIL = "alice@example.lu"


def browser(language: str = "") -> Client:
    """A browser whose language menu chose `language` (none: the portal's French)."""
    client = Client()
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def log_in(client: Client, person: InsuredPerson, destination: str = EMAIL) -> None:
    response = client.post(
        reverse("patient:login"), {"matricule": person.matricule, "password": PASSWORD}
    )
    assert response["Location"] == reverse("patient:login_code")
    done = client.post(reverse("patient:login_code"), {"code": last_one_time_code(destination)})
    assert done["Location"] == reverse("patient:services")


def choose_language(client: Client, language: str) -> None:
    response = client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code == 302


def subject_of(mail: ReceivedMail) -> str:
    return str(make_header(decode_header(mail.message["Subject"])))


def last_message(recipient: str = EMAIL) -> OutboundMessage:
    return OutboundMessage.objects.filter(recipient=recipient).latest("pk")


@pytest.mark.django_db(transaction=True)  # delivery runs after commit
def test_an_account_activated_in_german_is_told_in_german(
    alice: InsuredPerson, smtp_server: SmtpServer
) -> None:
    response = activate(browser("de"), alice, EMAIL)

    assert response.status_code == 302
    assert Account.objects.get(person=alice).language == Language.GERMAN
    code_mail, activated_mail = smtp_server.mails
    assert subject_of(code_mail) == "Ihr eSanté-Einmalcode"
    assert subject_of(activated_mail) == "Ihr eSanté-Konto ist aktiviert"
    assert "ist aktiviert" in activated_mail.text


def test_the_browser_s_accept_language_is_the_activation_s_language(
    alice: InsuredPerson,
) -> None:
    activate(Client(headers={"accept-language": "en-GB,en;q=0.8"}), alice, EMAIL)

    assert Account.objects.get(person=alice).language == Language.ENGLISH
    assert last_message().subject == "Your eSanté account has been activated"


def test_an_account_activated_in_french_stays_french(alice: InsuredPerson) -> None:
    activate(browser(), alice, EMAIL)

    assert Account.objects.get(person=alice).language == Language.FRENCH
    assert last_message().subject == "Votre compte eSanté est activé"


def test_the_language_menu_while_logged_in_changes_the_account_s_language(
    alice: InsuredPerson,
) -> None:
    activate(browser(), alice, EMAIL)
    client = browser()
    log_in(client, alice)

    choose_language(client, "en")

    account = Account.objects.get(person=alice)
    assert account.language == Language.ENGLISH
    event = AuditEvent.objects.filter(event_type=EventType.LANGUAGE_CHANGED).get()
    assert event.person_id == alice.pk
    assert event.details["language"] == "en" and event.details["previous"] == "fr"

    # The next login, from another browser still in French, is told in English.
    log_in(browser(), alice)
    login_code, notice = list(OutboundMessage.objects.filter(recipient=EMAIL).order_by("pk"))[-2:]
    assert login_code.subject == "Your eSanté one-time code"
    assert notice.subject == "New login to your eSanté account"
    assert notice.body.startswith("Someone has just logged in to your eSanté account")


def test_choosing_the_same_language_again_records_nothing(alice: InsuredPerson) -> None:
    activate(browser(), alice, EMAIL)
    client = browser()
    log_in(client, alice)

    choose_language(client, "fr")

    assert not AuditEvent.objects.filter(event_type=EventType.LANGUAGE_CHANGED).exists()


def test_the_language_menu_without_a_login_changes_no_account(alice: InsuredPerson) -> None:
    activate(browser(), alice, EMAIL)
    client = browser()

    choose_language(client, "de")

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert Account.objects.get(person=alice).language == Language.FRENCH
    assert not AuditEvent.objects.filter(event_type=EventType.LANGUAGE_CHANGED).exists()


def test_a_language_the_portal_does_not_speak_is_ignored(alice: InsuredPerson) -> None:
    activate(browser(), alice, EMAIL)
    client = browser()
    log_in(client, alice)

    client.post(reverse("set_language"), {"language": "it", "next": "/"})

    assert Account.objects.get(person=alice).language == Language.FRENCH


@pytest.mark.django_db(transaction=True)  # delivery runs after commit
def test_a_login_code_by_sms_goes_in_the_account_s_english(
    alice: InsuredPerson, sms_gateway: SmsGateway
) -> None:
    client = browser("en")
    reach_password_step(client, alice)
    submit_password(client)
    submit_contact(client, "sms", "621 123 456")
    activation_code = sms_gateway.requests[-1].payload["text"]
    assert activation_code.startswith("Your eSanté code: ")
    submit_one_time_code(client, last_one_time_code("+352621123456"))
    assert Account.objects.get(person=alice).code_channel == CodeChannel.SMS

    log_in(browser("de"), alice, "+352621123456")  # a German page: the code stays English

    texts = [request.payload["text"] for request in sms_gateway.requests]
    assert texts[-2].startswith("Your eSanté code: ")
    assert texts[-1].startswith("Someone has just logged in to your eSanté account")


def test_a_notice_outside_any_request_goes_in_the_account_s_language(
    alice: InsuredPerson,
) -> None:
    activate(browser("de"), alice, EMAIL)
    account = Account.objects.get(person=alice)

    actions.change_password(account, "argon2$not-a-real-hash", ip_address=None)

    assert last_message().subject == "Das Passwort Ihres eSanté-Kontos wurde geändert"


def test_the_activation_code_goes_in_the_page_s_language_even_over_an_account(
    alice: InsuredPerson, settings: Any
) -> None:
    activate(browser("de"), alice, EMAIL)
    settings.ESANTE_LETTER_REACTIVATION_WAIT_DAYS = 0

    # A new letter, and a re-activation from an English page.
    client = browser("en")
    reach_password_step(client, alice)
    submit_password(client)
    submit_contact(client, "email", "alice.new@example.lu")

    assert last_message("alice.new@example.lu").subject == "Your eSanté one-time code"


def test_a_new_letter_to_an_account_holder_is_in_the_account_s_language(
    alice: InsuredPerson,
) -> None:
    InsuredPerson.objects.filter(pk=alice.pk).update(language=Language.GERMAN)  # the feed's
    activate(browser("en"), alice, EMAIL)

    issue_letters([alice], actor="test")

    letter = OutboundMessage.objects.filter(person=alice, channel=Channel.LETTER).latest("pk")
    assert letter.subject == "eSanté activation letter"
    assert "Valid until" in letter.body


def at_five_past_two(day: datetime.date) -> datetime.datetime:
    """14:05 on `day`, Luxembourg time."""
    return datetime.datetime.combine(
        day, datetime.time(14, 5), tzinfo=zoneinfo.ZoneInfo("Europe/Luxembourg")
    )


def test_a_german_notice_writes_its_date_as_german_does(alice: InsuredPerson) -> None:
    with time_machine.travel(at_five_past_two(datetime.date(2026, 12, 7)), tick=False):
        activate(browser("de"), alice, EMAIL)
        log_in(browser(), alice)  # a browser the account does not know

    notice = last_message()
    assert notice.subject == "Neue Anmeldung bei Ihrem eSanté-Konto"
    assert "(07.12.2026 14:05)" in notice.body


def test_an_english_notice_writes_the_day_first(alice: InsuredPerson) -> None:
    with time_machine.travel(at_five_past_two(datetime.date(2026, 9, 18)), tick=False):
        activate(browser("en"), alice, EMAIL)
        log_in(browser(), alice)

    assert "(18/09/2026 14:05)" in last_message().body
