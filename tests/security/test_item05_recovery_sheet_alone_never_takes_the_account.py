"""Issue 13, item 5: the printed sheet of recovery codes alone never takes the account.

A recovery code may stand in for one factor, never both: after *Mot de passe oublié*
completed with a recovery code (in place of the app), the next login's code step refuses
recovery codes and asks for the app's code, until a login with the app's own code; and a
login by recovery code does not spare a later reset by recovery code from that rule."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from esante.accounts import patient_sessions as login_rules
from esante.accounts.models import Account, RecoveryCode
from esante.audit.models import AuditEvent, EventType
from esante.registry.models import InsuredPerson
from tests.accounts.test_authenticator_app import T0, activate_with_app, app_code
from tests.accounts.test_login import submit_credentials
from tests.accounts.wizard import PASSWORD, alert_text

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Feuille seule 2026 !"
REFUSED = "Votre mot de passe a été réinitialisé avec un code de secours"


@pytest.fixture
def app_account(alice: InsuredPerson) -> tuple[Account, str, list[str]]:
    with time_machine.travel(T0, tick=False):
        secret, codes, _page = activate_with_app(Client(), alice)
    return Account.objects.get(person=alice), secret, codes


def reset_with(client: Client, account: Account, code: str) -> None:
    """*Mot de passe oublié* with `code` (an app code or a recovery code) → new password."""
    asked = client.post(
        reverse("patient:recovery"),
        {"matricule": account.person.matricule, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    assert asked["Location"] == reverse("patient:recovery_code")
    typed = client.post(reverse("patient:recovery_code"), {"code": code})
    assert typed["Location"] == reverse("patient:recovery_password")
    done = client.post(
        reverse("patient:recovery_password"),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done["Location"] == reverse("patient:login")


def login_code_step(
    client: Client, account: Account, code: str, password: str = NEW_PASSWORD
) -> Response:
    reached = submit_credentials(client, account.person.matricule, password)
    assert reached["Location"] == reverse("patient:login_code")
    return client.post(reverse("patient:login_code"), {"code": code})


def test_a_reset_by_recovery_code_then_a_login_by_recovery_code_is_refused(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, _secret, codes = app_account
    thief = Client()
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        reset_with(thief, account, codes[0])

        refused = login_code_step(thief, account, codes[1])

        assert refused.status_code == 400
        assert REFUSED in alert_text(refused)
        assert thief.get(reverse("patient:services")).status_code == 302
        # Refused unseen: the code is not used up, and not counted as a guess.
        assert RecoveryCode.objects.filter(account=account, used_at__isnull=False).count() == 1
        assert AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).count() == 0


def test_the_app_code_logs_in_after_such_a_reset_and_lifts_the_mark(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, secret, codes = app_account
    holder = Client()
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        reset_with(holder, account, codes[0])
        account.refresh_from_db()
        assert account.password_reset_by_recovery_code
        now = T0 + datetime.timedelta(hours=1)

        done = login_code_step(holder, account, app_code(secret, now))

        assert done["Location"] == reverse("patient:services")
        account.refresh_from_db()
        assert not account.password_reset_by_recovery_code
        holder.post(reverse("patient:logout"))

        # The app has proved that whoever set the password holds it: the sheet serves again.
        again = login_code_step(Client(), account, codes[1])
        assert again["Location"] == reverse("patient:services")


def test_a_login_by_recovery_code_then_a_reset_by_recovery_code_still_needs_the_app(
    app_account: tuple[Account, str, list[str]],
) -> None:
    """The other order: a login by recovery code first (with the password), then the
    sheet alone resets the password: the login after it still refuses the sheet."""
    account, _secret, codes = app_account
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        first = Client()
        assert login_code_step(first, account, codes[0], PASSWORD)["Location"] == reverse(
            "patient:services"
        )
        first.post(reverse("patient:logout"))

        thief = Client()
        reset_with(thief, account, codes[1])
        refused = login_code_step(thief, account, codes[2])

        assert refused.status_code == 400
        assert REFUSED in alert_text(refused)
        assert thief.get(reverse("patient:services")).status_code == 302


def test_a_second_reset_by_recovery_code_does_not_lift_the_mark(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, _secret, codes = app_account
    thief = Client()
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        reset_with(thief, account, codes[0])
        reset_with(thief, account, codes[1])

        refused = login_code_step(thief, account, codes[2])

    assert refused.status_code == 400
    assert REFUSED in alert_text(refused)


def test_a_reset_by_the_app_code_leaves_recovery_codes_usable_at_login(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, secret, codes = app_account
    now = T0 + datetime.timedelta(hours=1)
    with time_machine.travel(now, tick=False):
        reset_with(Client(), account, app_code(secret, now))

        done = login_code_step(Client(), account, codes[0])

    assert done["Location"] == reverse("patient:services")


def test_a_passkey_login_after_such_a_reset_does_not_lift_the_mark(
    app_account: tuple[Account, str, list[str]],
) -> None:
    """A passkey (or provider) login still opens the account, but proves nothing of who
    set the password: the sheet must not serve with it afterwards."""
    account, _secret, codes = app_account
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        reset_with(Client(), account, codes[0])
        request = RequestFactory().get("/")
        SessionMiddleware(lambda _request: HttpResponse()).process_request(request)
        login_rules.log_in(request, account, method="passkey")

        refused = login_code_step(Client(), account, codes[1])

    assert REFUSED in alert_text(refused)
    account.refresh_from_db()
    assert account.password_reset_by_recovery_code
