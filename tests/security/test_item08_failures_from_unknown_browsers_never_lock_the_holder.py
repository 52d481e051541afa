"""Issue 13, item 8: wrong passwords from browsers the account does not know lock those
browsers, never the holder's own (device cookies, OWASP "Slow Down Online Guessing
Attacks with Device Cookies"). A browser the account knows has its own count, lock,
captcha and rate limit; its cookie is signed, HttpOnly, Secure outside DEBUG, names the
account by a keyed hash only, and dies with a password reset."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante import ratelimit
from esante.accounts import patient_sessions as login_rules
from esante.accounts.models import Account, KnownDevice
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.wizard import PASSWORD, activate, alert_text, last_one_time_code
from tests.factories import forget_rate_limits
from tests.helpdesk.test_agent import act

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

WRONG = "Pas le bon 1234"
REFUSED = "Le matricule ou le mot de passe est incorrect"


@pytest.fixture
def account(account: Account) -> Account:
    """Alice's account (tests/security/conftest.py), the activation's own rate-limit
    counts forgotten: they are not the scenario's."""
    forget_rate_limits()
    return account


@pytest.fixture
def holder(account: Account) -> Client:
    """Alice's own browser: it has logged in once, so the account knows it."""
    client = Client()
    log_in(client, account)
    client.post(reverse("patient:logout"))
    return client


def attack(account: Account, tries: int) -> None:
    """Wrong passwords for Alice's matricule from browsers she never used, each try from
    another address, each after the lock it met has ended."""
    moment = timezone.now()
    for each in range(tries):
        attacker = Client(REMOTE_ADDR=f"203.0.113.{each % 250}")
        with time_machine.travel(moment, tick=False):
            submit_credentials(attacker, account.person.matricule, WRONG, captcha=True)
        moment += login_rules.LONGEST_LOCK + datetime.timedelta(seconds=1)


def password_step(
    client: Client, account: Account, password: str = PASSWORD, *, captcha: bool = False
) -> Response:
    return submit_credentials(client, account.person.matricule, password, captcha=captcha)


def test_a_locked_account_still_opens_from_the_holders_own_browser(
    account: Account, holder: Client
) -> None:
    Account.objects.filter(pk=account.pk).update(
        failed_logins=7, locked_until=timezone.now() + datetime.timedelta(minutes=10)
    )

    from_elsewhere = password_step(Client(), account, captcha=True)
    from_her_browser = password_step(holder, account)

    assert from_elsewhere.status_code == 400 and REFUSED in alert_text(from_elsewhere)
    assert from_her_browser["Location"] == reverse("patient:login_code")


def test_a_wrong_password_every_15_minutes_never_locks_the_holder(
    account: Account, holder: Client
) -> None:
    attack(account, 12)
    account.refresh_from_db()
    assert account.failed_logins == 12 and account.locked_until is not None

    reached = password_step(holder, account)
    assert reached["Location"] == reverse("patient:login_code")
    done = holder.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})
    assert done["Location"] == reverse("patient:services")


def test_after_100_failures_from_elsewhere_the_holders_browser_still_opens(
    account: Account, holder: Client
) -> None:
    Account.objects.filter(pk=account.pk).update(
        failed_logins=login_rules.MAX_CONSECUTIVE_FAILURES, locked_until=None
    )

    assert password_step(Client(), account, captcha=True).status_code == 400
    assert password_step(holder, account)["Location"] == reverse("patient:login_code")


def test_the_matricules_rate_limit_and_captcha_used_up_elsewhere_do_not_stop_the_holder(
    account: Account, holder: Client
) -> None:
    rule = next(r for r in ratelimit.RATE_LIMITS["login.failed"] if r.scope == "key")
    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    for _try in range(rule.limit):
        password_step(elsewhere, account, password=WRONG, captcha=True)
    assert password_step(elsewhere, account, captcha=True).status_code == 429

    reached = password_step(holder, account)  # no captcha asked, no 429

    assert reached["Location"] == reverse("patient:login_code")


def test_the_holders_browser_has_its_own_lock_which_never_locks_the_others(
    account: Account, holder: Client
) -> None:
    for _try in range(login_rules.LOCK_FROM_FAILURE):
        password_step(holder, account, password=WRONG, captcha=True)
    device = KnownDevice.objects.get(account=account)
    assert device.failed_logins == 5 and device.locked_until is not None

    locked = password_step(holder, account, captcha=True)
    assert locked.status_code == 400 and REFUSED in alert_text(locked)
    account.refresh_from_db()
    assert (account.failed_logins, account.locked_until) == (0, None)
    assert password_step(Client(), account)["Location"] == reverse("patient:login_code")


def test_the_device_cookie_is_signed_httponly_and_never_names_the_matricule(
    account: Account, holder: Client
) -> None:
    cookie = holder.cookies[login_rules.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert account.person.matricule not in cookie.value
    assert str(account.pk) != cookie.value.split(".")[0]

    Account.objects.filter(pk=account.pk).update(
        failed_logins=7, locked_until=timezone.now() + datetime.timedelta(minutes=10)
    )
    forged = Client()
    forged.cookies[login_rules.DEVICE_COOKIE] = cookie.value[:-2] + "xx"  # signature broken
    assert password_step(forged, account, captcha=True).status_code == 400
    copied = Client()
    copied.cookies[login_rules.DEVICE_COOKIE] = cookie.value  # only a stolen cookie serves
    assert password_step(copied, account)["Location"] == reverse("patient:login_code")


def test_the_cookie_is_secure_outside_debug(account: Account, settings: Any) -> None:
    settings.DEBUG = False
    client = Client()
    log_in(client, account)

    assert client.cookies[login_rules.DEVICE_COOKIE]["secure"]


def test_the_cookie_follows_the_session_cookie_in_plain_http_demo_mode(
    account: Account, settings: Any
) -> None:
    """`make run` (demo mode, DEBUG off) serves plain HTTP on loopback: no Secure flag there,
    as for the session cookie."""
    settings.SESSION_COOKIE_SECURE = False
    client = Client()
    log_in(client, account)

    assert not client.cookies[login_rules.DEVICE_COOKIE]["secure"]
    assert not client.cookies[settings.SESSION_COOKIE_NAME]["secure"]


def test_a_password_reset_invalidates_the_device_cookie(account: Account, holder: Client) -> None:
    recovery = Client()
    recovery.post(
        reverse("patient:recovery"),
        {"matricule": account.person.matricule, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    recovery.post(reverse("patient:recovery_code"), {"code": last_one_time_code(EMAIL)})
    recovery.post(
        reverse("patient:recovery_password"), {"password1": PASSWORD, "password2": PASSWORD}
    )
    assert not KnownDevice.objects.filter(account=account).exists()
    Account.objects.filter(pk=account.pk).update(
        failed_logins=7, locked_until=timezone.now() + datetime.timedelta(minutes=10)
    )

    refused = password_step(holder, account, captcha=True)

    assert refused.status_code == 400 and REFUSED in alert_text(refused)


def test_a_browser_known_to_one_account_is_unknown_to_another(
    account: Account, holder: Client, bob: InsuredPerson
) -> None:
    activate(Client(), bob, "bob@example.lu")
    bobs = Account.objects.get(person=bob)
    Account.objects.filter(pk=bobs.pk).update(
        failed_logins=7, locked_until=timezone.now() + datetime.timedelta(minutes=10)
    )

    refused = submit_credentials(holder, bob.matricule, captcha=True)

    assert refused.status_code == 400 and REFUSED in alert_text(refused)


def test_the_helpdesks_unlock_lifts_the_known_browsers_locks_too(
    account: Account, holder: Client, agent_client: Client
) -> None:
    """(The staff logs in after the account fixture clears the cache: sessions may be
    there.)"""
    KnownDevice.objects.filter(account=account).update(
        failed_logins=7, locked_until=timezone.now() + datetime.timedelta(minutes=10)
    )

    act(agent_client, account.person, "debloquer")

    assert password_step(holder, account)["Location"] == reverse("patient:login_code")


def test_a_login_from_the_holders_browser_resets_its_count(
    account: Account, holder: Client
) -> None:
    for _try in range(3):
        password_step(holder, account, password=WRONG, captcha=True)
    assert KnownDevice.objects.get(account=account).failed_logins == 3

    password_step(holder, account, captcha=True)
    holder.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})

    assert KnownDevice.objects.get(account=account).failed_logins == 0
