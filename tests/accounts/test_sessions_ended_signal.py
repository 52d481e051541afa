"""Every way a patient's session ends tells the apps above (accounts.signals
.patient_sessions_ended: the account, the sessions ended, why), so that what a session
opened can close with it: logout, expiry, another identity in the browser, *Mon compte*,
*Mot de passe oublié*, a re-activation by a new letter. (The helpdesk's and the majority
review's: tests/helpdesk, tests/records.)"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account, PatientSession
from esante.accounts.signals import patient_sessions_ended
from esante.registry.letters import issue_letters, persons_needing_letters
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.test_recovery import NEW_PASSWORD, ask
from tests.accounts.wizard import (
    activate,
    last_one_time_code,
    letter_code_of,
    start,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.helpdesk.conftest import make_staff, staff_log_in
from tests.receiving import received

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


def logged_in(account: Account) -> tuple[Client, PatientSession]:
    client = Client()
    log_in(client, account)
    return client, PatientSession.objects.latest("pk")


def ended(account: Account, sessions: list[PatientSession], reason: str) -> dict[str, object]:
    """What the signal carries when `sessions` of `account` end for `reason`."""
    return {
        "sender": PatientSession,
        "account": account,
        "session_ids": [session.pk for session in sessions],
        "reason": reason,
    }


def test_logging_out(account: Account) -> None:
    client, session = logged_in(account)

    with received(patient_sessions_ended) as sent:
        client.post(reverse("patient:logout"))

    assert sent == [ended(account, [session], "logout")]


def test_a_session_found_idle_at_its_next_request(account: Account) -> None:
    client, session = logged_in(account)

    with (
        received(patient_sessions_ended) as sent,
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)),
    ):
        assert client.get(reverse("patient:services")).status_code == 302

    assert sent == [ended(account, [session], "expired")]


def test_another_identity_logging_in_in_the_same_browser(account: Account) -> None:
    client, session = logged_in(account)
    make_staff("agent.dupont", "agent")

    with received(patient_sessions_ended) as sent:
        staff_log_in(client, "agent.dupont")

    assert sent == [ended(account, [session], "other_identity")]


def test_ending_one_session_or_all_the_others_from_mon_compte(account: Account) -> None:
    client, current = logged_in(account)
    _first, first = logged_in(account)
    _second, second = logged_in(account)
    _third, third = logged_in(account)

    with received(patient_sessions_ended) as sent:
        client.post(reverse("patient:account"), {"end_session": str(first.pk)})
        client.post(reverse("patient:account"), {"end_others": "1"})
        client.post(reverse("patient:account"), {"end_others": "1"})  # none left: nothing sent

    assert sent == [
        ended(account, [first], "ended_by_person"),
        ended(account, [second, third], "ended_by_person"),
    ]
    assert PatientSession.objects.get(ended_at__isnull=True) == current


def test_a_new_password_by_mot_de_passe_oublie(account: Account) -> None:
    _browser, elsewhere = logged_in(account)
    client = Client()
    ask(client, account.person.matricule)
    client.post(reverse("patient:recovery_code"), {"code": last_one_time_code(EMAIL)})

    with received(patient_sessions_ended) as sent:
        done = client.post(
            reverse("patient:recovery_password"),
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

    assert done["Location"] == reverse("patient:login")
    assert sent == [ended(account, [elsewhere], "password_reset")]


def test_a_reactivation_by_a_new_letter(account: Account) -> None:
    alice = account.person
    _browser, elsewhere = logged_in(account)
    client = Client()
    start(client)
    client.post(
        reverse("activation:new_letter"),
        {
            "courrier-matricule": alice.matricule,
            "courrier-captcha_0": "x",
            "courrier-captcha_1": "PASSED",
        },
    )
    issue_letters(persons_needing_letters(), actor="test")

    # After the wait in which the holder could have cancelled the letter.
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        start(client)
        submit_code(client, alice.matricule, letter_code_of(alice))
        submit_password(client, NEW_PASSWORD)
        submit_contact(client, "sms", "621 987 654")
        with received(patient_sessions_ended) as sent:
            submit_one_time_code(client, last_one_time_code("+352621987654"))

    assert sent == [ended(account, [elsewhere], "reactivation")]
