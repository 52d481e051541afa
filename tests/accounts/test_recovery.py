"""*Mot de passe oublié*: a code to the registered channel, then a new password."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account, PatientSession
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry import matricule
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import activate, alert_text, last_one_time_code, page_text
from tests.portal.html import parse

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Retrouvé le 3 mars !"
NOBODY = matricule.make(datetime.date(1970, 5, 5), 7)


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


def ask(client: Client, number: str) -> None:
    response = client.post(
        reverse("patient:recovery"),
        {"matricule": number, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    assert response["Location"] == reverse("patient:recovery_code")


def code_page(client: Client) -> str:
    page = page_text(client.get(reverse("patient:recovery_code")))
    start = page.index('<div class="notice" role="status">')
    return page[start : page.index("</div>", start)]


def test_the_login_page_offers_mot_de_passe_oublie(client: Client) -> None:
    assert reverse("patient:recovery") in page_text(client.get(reverse("patient:login")))


def test_the_answer_is_the_same_with_or_without_an_account(
    account: Account, charlie: InsuredPerson
) -> None:
    pages = []
    for number in (account.person.matricule, charlie.matricule, NOBODY):
        client = Client()
        ask(client, number)
        wrong = client.post(reverse("patient:recovery_code"), {"code": "000000"})
        pages.append((code_page(client), wrong.status_code, alert_text(wrong)))

    assert pages[0] == pages[1] == pages[2]


def test_a_code_then_a_new_password_ends_every_session(client: Client, account: Account) -> None:
    elsewhere = Client()
    log_in(elsewhere, account)
    account.locked_until = timezone.now() + datetime.timedelta(minutes=5)
    account.save()

    ask(client, account.person.matricule)
    early = client.get(reverse("patient:recovery_password"))
    assert early["Location"] == reverse("patient:recovery_code")
    client.post(reverse("patient:recovery_code"), {"code": last_one_time_code(EMAIL)})
    weak = client.post(reverse("patient:recovery_password"), {"password1": "a", "password2": "a"})
    assert "au minimum 8 caractères" in page_text(weak)
    done = client.post(
        reverse("patient:recovery_password"),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert done["Location"] == reverse("patient:login")
    account.refresh_from_db()
    assert check_password(NEW_PASSWORD, account.password)
    assert account.locked_until is None and account.failed_logins == 0
    assert not PatientSession.objects.filter(ended_at__isnull=True).exists()
    assert elsewhere.get(reverse("patient:services")).status_code == 302
    assert AuditEvent.objects.filter(event_type=EventType.PASSWORD_RESET).exists()
    notice = OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")
    assert "réinitialisé" in notice.body


def test_the_new_password_input_is_described_by_the_rule(client: Client, account: Account) -> None:
    ask(client, account.person.matricule)
    client.post(reverse("patient:recovery_code"), {"code": last_one_time_code(EMAIL)})

    page = parse(client.get(reverse("patient:recovery_password")).content)

    assert "au minimum 8 caractères" in page.by_id("password-rule").text
    (password1,) = page.find_all("input", name="password1")
    assert password1.attrs["aria-describedby"] == "password-rule"
    assert not page.dangling_references()


def test_without_an_account_five_codes_exhaust_the_try(client: Client) -> None:
    ask(client, NOBODY)

    answers = [
        alert_text(client.post(reverse("patient:recovery_code"), {"code": "123456"}))
        for _try in range(5)
    ]

    assert "Il vous reste 4 essais" in answers[0]
    assert "Trop d'essais erronés" in answers[4]


def test_a_new_letter_reactivates_an_account_whose_channel_was_lost(
    client: Client, account: Account
) -> None:
    from esante.records.models import CareRecord
    from esante.registry.letters import issue_letters, persons_needing_letters
    from tests.accounts.wizard import (
        letter_code_of,
        start,
        submit_code,
        submit_contact,
        submit_one_time_code,
        submit_password,
    )

    alice = account.person
    record = CareRecord.objects.get(person=alice)
    elsewhere = Client()
    log_in(elsewhere, account)
    start(client)
    client.post(
        reverse("activation:new_letter"),
        {
            "courrier-matricule": alice.matricule,
            "courrier-captcha_0": "x",
            "courrier-captcha_1": "PASSED",
        },
    )
    assert list(persons_needing_letters()) == [alice]
    issue_letters(persons_needing_letters(), actor="test")
    # Her e-mail address still works: the letter takes the account over only after the
    # wait, in which she (or whoever holds that address) could cancel it.
    assert "ne fonctionnera qu'à partir du" in page_text(
        submit_code(client, alice.matricule, letter_code_of(alice))
    )

    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        start(client)
        assert submit_code(client, alice.matricule, letter_code_of(alice))["Location"] == reverse(
            "activation:password"
        )
        assert "Ce courrier réactive votre compte" in page_text(
            client.get(reverse("activation:password"))
        )
        submit_password(client, NEW_PASSWORD)
        submit_contact(client, "sms", "621 987 654")
        submit_one_time_code(client, last_one_time_code("+352621987654"))

    account.refresh_from_db()
    assert check_password(NEW_PASSWORD, account.password)
    assert (account.code_channel, account.phone) == ("sms", "+352621987654")
    assert CareRecord.objects.get(person=alice) == record  # the DSP stays
    assert Account.objects.filter(person=alice).count() == 1
    assert elsewhere.get(reverse("patient:services")).status_code == 302
    assert AuditEvent.objects.filter(event_type=EventType.ACCOUNT_REACTIVATED).exists()
    # The former address is told (a stolen letter must not go unnoticed), the new one too.
    warning = OutboundMessage.objects.get(subject="Votre compte eSanté a été réactivé")
    assert warning.recipient == EMAIL
    assert "ne reçoit plus ses codes" in warning.body
    assert OutboundMessage.objects.filter(
        recipient="+352621987654", subject="Votre compte eSanté est activé"
    ).exists()
