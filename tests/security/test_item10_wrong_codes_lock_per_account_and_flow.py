"""Issue 13, item 10: wrong one-time codes are capped per code (5) *and* per person and
per flow across codes: from the 10th in a row, codes are refused for 1 minute, then 2, 4 …
at most 60 (a lock kept in the database); a right code resets the count. Failures in
*Mot de passe oublié* (which anyone may start) or in activation never lock the login's
code step. TOTP drift stays one step: tests/accounts/test_authenticator_app.py::
test_one_step_of_drift_is_accepted_two_are_not."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.authenticators import one_time_codes
from esante.accounts.login import recovery_views
from esante.accounts.models import Account, CodeLock
from esante.audit.models import AuditEvent, EventType
from esante.registry import matricule
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.wizard import (
    PASSWORD,
    alert_text,
    last_one_time_code,
    reach_one_time_code_step,
    submit_one_time_code,
)
from tests.factories import forget_rate_limits
from tests.helpdesk.test_agent import act

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

LOCKED = "Trop de codes erronés à la suite"
NOBODY = matricule.make(datetime.date(1970, 5, 5), 7)
THIEF = "voleur@example.lu"


@pytest.fixture
def account(account: Account) -> Account:
    """Alice's account (tests/security/conftest.py), the activation's own rate-limit
    counts forgotten: they are not the scenario's."""
    forget_rate_limits()
    return account


@pytest.fixture
def base_time() -> datetime.datetime:
    """Just past the start of an hour: the hourly rate limits stay in one window."""
    next_hour = timezone.now() + datetime.timedelta(hours=1)
    return next_hour.replace(minute=0, second=5, microsecond=0)


@pytest.fixture(autouse=True)
def answers_unfloored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recovery_views, "ANSWER_SECONDS", 0.0)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def type_login_code(client: Client, code: str) -> Response:
    return client.post(reverse("patient:login_code"), {"code": code})


def resend_login_code(client: Client) -> str:
    client.post(reverse("patient:login_code"), {"resend": "1"})
    return last_one_time_code(EMAIL)


def test_the_lock_grows_from_the_tenth_wrong_code_to_at_most_an_hour() -> None:
    assert one_time_codes.code_lock_duration(9) is None
    minutes = [one_time_codes.code_lock_duration(failures) for failures in range(10, 18)]
    assert minutes == [datetime.timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_ten_wrong_login_codes_across_codes_lock_even_the_right_code_for_a_minute(
    account: Account, base_time: datetime.datetime
) -> None:
    client = Client()
    with time_machine.travel(base_time, tick=False):
        submit_credentials(client, account.person.matricule)
        first = last_one_time_code(EMAIL)
        for _try in range(5):
            type_login_code(client, wrong(first))
    with time_machine.travel(base_time + datetime.timedelta(seconds=61), tick=False):
        second = resend_login_code(client)
        for _try in range(4):
            assert type_login_code(client, wrong(second)).status_code == 400
    with time_machine.travel(base_time + datetime.timedelta(seconds=122), tick=False):
        third = resend_login_code(client)
        tenth = type_login_code(client, wrong(third))
        assert LOCKED not in alert_text(tenth)  # the tenth is still compared, and counted

        refused = type_login_code(client, third)  # the right code, within the lock

        assert refused.status_code == 400
        assert LOCKED in alert_text(refused) and "1 minute" in alert_text(refused)
        assert client.get(reverse("patient:services")).status_code == 302
    assert AuditEvent.objects.filter(event_type=EventType.OTP_FAILED).count() == 10
    assert AuditEvent.objects.filter(event_type=EventType.CODE_LOCKED).count() == 1

    with time_machine.travel(base_time + datetime.timedelta(seconds=183), tick=False):
        done = type_login_code(client, third)

    assert done["Location"] == reverse("patient:services")
    assert not CodeLock.objects.filter(flow="login").exists()  # a right code resets it


def test_a_burst_cannot_spend_the_hourly_budget(
    account: Account, base_time: datetime.datetime
) -> None:
    """However many codes are asked for, a burst compares no more than 10 wrong codes;
    then one per lock, each lock twice the last."""
    client = Client()
    compared = []
    with time_machine.travel(base_time, tick=False):
        submit_credentials(client, account.person.matricule)
        code = last_one_time_code(EMAIL)
    for second in (0, 61, 122, 183):  # a fresh code each minute: 20 tries, the hourly budget
        with time_machine.travel(base_time + datetime.timedelta(seconds=second), tick=False):
            if second:
                code = resend_login_code(client)
            for _try in range(5):
                compared.append(LOCKED not in alert_text(type_login_code(client, wrong(code))))

    # 10 in the first two minutes, then one when the 1-minute lock ends, and the next
    # lock (2 minutes) outlasts the rest of the burst: 9 of the 20 compare nothing.
    assert compared == [True] * 10 + [True] + [False] * 9
    lock = CodeLock.objects.get(flow="login")
    assert lock.locked_until == base_time + datetime.timedelta(seconds=122, minutes=2)


def test_the_lock_is_kept_in_the_database_not_in_the_cache(
    account: Account, base_time: datetime.datetime
) -> None:
    CodeLock.objects.create(
        flow="login",
        subject=f"person:{account.person_id}",
        failures=10,
        locked_until=base_time + datetime.timedelta(minutes=1),
    )
    forget_rate_limits()
    client = Client()
    with time_machine.travel(base_time, tick=False):
        submit_credentials(client, account.person.matricule)

        refused = type_login_code(client, last_one_time_code(EMAIL))

    assert LOCKED in alert_text(refused)


def ask_recovery(client: Client, number: str) -> None:
    asked = client.post(
        reverse("patient:recovery"),
        {"matricule": number, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    assert asked["Location"] == reverse("patient:recovery_code")


def lock_recovery_codes(number: str, base_time: datetime.datetime) -> Response:
    """An anonymous visitor types 10 wrong recovery codes for `number`, across two codes;
    the answer to an 11th."""
    visitor = Client(REMOTE_ADDR="192.0.2.66")
    with time_machine.travel(base_time, tick=False):
        ask_recovery(visitor, number)
        for _try in range(5):
            visitor.post(reverse("patient:recovery_code"), {"code": "000000"})
    with time_machine.travel(base_time + datetime.timedelta(seconds=61), tick=False):
        visitor.post(reverse("patient:recovery_code"), {"resend": "1"})
        for _try in range(5):
            visitor.post(reverse("patient:recovery_code"), {"code": "000000"})
        return visitor.post(reverse("patient:recovery_code"), {"code": "000000"})


def test_wrong_recovery_codes_lock_recovery_but_never_the_login(
    account: Account, base_time: datetime.datetime
) -> None:
    eleventh = lock_recovery_codes(account.person.matricule, base_time)
    assert LOCKED in alert_text(eleventh)

    holder = Client()
    with time_machine.travel(base_time + datetime.timedelta(seconds=70), tick=False):
        submit_credentials(holder, account.person.matricule)
        done = type_login_code(holder, last_one_time_code(EMAIL))

    assert done["Location"] == reverse("patient:services")


def test_a_matricule_without_an_account_locks_its_recovery_codes_alike(
    account: Account, charlie: InsuredPerson, base_time: datetime.datetime
) -> None:
    answers = {
        alert_text(lock_recovery_codes(number, base_time))
        for number in (account.person.matricule, charlie.matricule, NOBODY)
    }

    assert len(answers) == 1, answers
    assert LOCKED in answers.pop()


def test_wrong_codes_at_activation_never_lock_the_login(
    account: Account, base_time: datetime.datetime, settings: Any
) -> None:
    """Someone holding a new letter for Alice (a re-activation) types 20 wrong codes at
    step 3 — the whole hourly budget of wrong codes: activation's codes lock, Alice's login
    codes still work. (The letter's waiting period, item 7, is over: set to none here.)"""
    settings.ESANTE_LETTER_REACTIVATION_WAIT_DAYS = 0
    thief = Client(REMOTE_ADDR="192.0.2.99")
    with time_machine.travel(base_time, tick=False):
        reach_one_time_code_step(thief, account.person, THIEF)
    for second in (0, 61, 122, 183):
        with time_machine.travel(base_time + datetime.timedelta(seconds=second), tick=False):
            if second:
                thief.post(reverse("activation:otp"), {"resend": "1"})
            for _try in range(5):
                submit_one_time_code(thief, wrong(last_one_time_code(THIEF)))
    assert CodeLock.objects.get(flow="activation").locked_until is not None

    holder = Client()
    with time_machine.travel(base_time + datetime.timedelta(seconds=200), tick=False):
        submit_credentials(holder, account.person.matricule)
        done = type_login_code(holder, last_one_time_code(EMAIL))

    assert done["Location"] == reverse("patient:services")


def test_the_helpdesks_unlock_lifts_the_code_locks_of_every_flow(
    account: Account, base_time: datetime.datetime, agent_client: Client
) -> None:
    """(The staff logs in after the account fixture clears the cache: sessions may be
    there.)"""
    lock_recovery_codes(account.person.matricule, base_time)
    CodeLock.objects.create(
        flow="login",
        subject=f"person:{account.person_id}",
        failures=12,
        locked_until=timezone.now() + datetime.timedelta(hours=1),
    )

    act(agent_client, account.person, "debloquer")

    assert not CodeLock.objects.exists()


def test_mon_compte_has_its_own_lock_apart_from_the_login(
    account: Account, base_time: datetime.datetime
) -> None:
    """A lock of the login's codes does not stop a code in Mon compte, and the reverse."""
    client = Client()
    with time_machine.travel(base_time, tick=False):
        log_in(client, account)
        CodeLock.objects.create(
            flow="login",
            subject=f"person:{account.person_id}",
            failures=10,
            locked_until=base_time + datetime.timedelta(minutes=1),
        )
        CodeLock.objects.create(
            flow="account",
            subject=f"person:{account.person_id}",
            failures=10,
            locked_until=base_time + datetime.timedelta(minutes=1),
        )
        new_password = "Autre mot 2026"
        asked = client.post(
            reverse("patient:password"),
            {"current": PASSWORD, "password1": new_password, "password2": new_password},
        )
        assert asked["Location"] == reverse("patient:password_code")

        refused = client.post(reverse("patient:password_code"), {"code": last_one_time_code(EMAIL)})
        assert LOCKED in alert_text(refused)
        CodeLock.objects.filter(flow="account").delete()
        done = client.post(reverse("patient:password_code"), {"code": last_one_time_code(EMAIL)})

    assert done["Location"] == reverse("patient:account")
    assert CodeLock.objects.filter(flow="login").exists()  # the login's is left as it was
