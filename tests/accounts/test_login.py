"""Login with matricule, password and code; sessions; Mes services eSanté (guide p. 11-12)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.db.models import F
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from esante import ratelimit
from esante.accounts import patient_sessions as login_rules
from esante.accounts.login import views
from esante.accounts.models import Account, OneTimeCode, PatientSession
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry import matricule
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import (
    PASSWORD,
    activate,
    alert_text,
    issue_letter,
    last_one_time_code,
    page_text,
    start,
)
from tests.portal.html import parse

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

EMAIL = "alice@example.lu"


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


def submit_credentials(
    client: Client, number: str, password: str = PASSWORD, *, captcha: bool = False, **extra: str
) -> Response:
    data = {"matricule": number, "password": password, **extra}
    if captcha:
        data.update(captcha_0="x", captcha_1="PASSED")
    return client.post(reverse("patient:login"), data)


def log_in(client: Client, account: Account) -> None:
    response = submit_credentials(client, account.person.matricule)
    assert response["Location"] == reverse("patient:login_code")
    done = client.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})
    assert done["Location"] == reverse("patient:services")


def step_up(client: Client, destination: str = EMAIL, *, back_to: str = "") -> Response:
    """*Confirmez votre identité* with a code sent to the current channel (`destination`):
    the answer is the redirect back to `back_to` (Mon compte by default)."""
    client.get(reverse("patient:step_up"), {"suivant": back_to} if back_to else {})
    sent = client.post(reverse("patient:step_up"), {"send": "1"})
    assert sent["Location"] == reverse("patient:step_up_code")
    return client.post(reverse("patient:step_up_code"), {"code": last_one_time_code(destination)})


def test_the_login_page_is_reached_from_connexion_then_patient(client: Client) -> None:
    page = page_text(client.get(reverse("portal:login_choice")))

    assert reverse("patient:login") in page
    login_page = page_text(client.get(reverse("patient:login")))
    assert "Matricule, mot de passe et code" in login_page
    assert 'autocomplete="current-password"' in login_page


def test_the_browser_may_fill_in_the_matricule_at_login_only(client: Client) -> None:
    """WCAG 1.3.5: the login's matricule is the username; activation step 1 asks for the
    matricule with a letter's code, which no browser should remember."""
    login = parse(client.get(reverse("patient:login")).content)
    (matricule_input,) = login.find_all("input", name="matricule")
    assert matricule_input.attrs["autocomplete"] == "username"
    (password,) = login.find_all("input", name="password")
    assert password.attrs["autocomplete"] == "current-password"

    start(client)
    step_1 = parse(client.get(reverse("activation:code")).content)
    (matricule_input,) = step_1.find_all("input", name="matricule")
    assert matricule_input.attrs["autocomplete"] == "off"


def test_matricule_password_and_code_lead_to_mes_services(client: Client, account: Account) -> None:
    response = submit_credentials(client, account.person.matricule)
    anonymous_session = client.cookies["sessionid"].value
    page = page_text(client.get(reverse("patient:login_code")))
    assert "Le code a été envoyé à l'adresse *****@example.lu, il est valable pendant 15min." in (
        page
    )
    done = client.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})

    assert response.status_code == 302
    assert done["Location"] == reverse("patient:services")
    assert client.cookies["sessionid"].value != anonymous_session  # a new session id
    services = page_text(client.get(reverse("patient:services")))
    assert "Mes services eSanté" in services
    assert "Alice Martin" in services
    for tile in (
        "Mon DSP",
        "Remboursement accéléré",
        "Carnet de vaccination électronique",
        "Prescription électronique",
        "Téléconsultation",
    ):
        assert tile in services
    assert PatientSession.objects.filter(account=account, ended_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).count() == 1


def test_wrong_password_unknown_and_not_activated_matricules_read_the_same(
    client: Client, account: Account, charlie: InsuredPerson
) -> None:
    issue_letter(charlie)  # in the registry, with a letter, not activated
    nobody = matricule.make(datetime.date(1970, 5, 5), 7)

    answers = [
        submit_credentials(client, account.person.matricule, "wrong password 1"),
        submit_credentials(client, charlie.matricule, PASSWORD),
        submit_credentials(client, nobody, PASSWORD),
    ]

    assert [answer.status_code for answer in answers] == [400, 400, 400]
    texts = [alert_text(answer) for answer in answers]
    assert texts[0] == texts[1] == texts[2]
    assert "Le matricule ou le mot de passe est incorrect" in texts[0]


def test_an_unknown_matricule_costs_a_password_check_too(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    def spy(password: str, encoded: str) -> bool:
        checked.append(encoded)
        return check_password(password, encoded)

    monkeypatch.setattr("esante.accounts.patient_sessions.check_password", spy)

    submit_credentials(client, matricule.make(datetime.date(1970, 5, 5), 7), PASSWORD)

    assert checked == [login_rules.dummy_hash()]


def test_locks_grow_from_the_fifth_failure_and_never_exceed_15_minutes() -> None:
    minutes = [login_rules.lock_duration(failures) for failures in range(1, 12)]

    assert minutes[:4] == [None] * 4
    assert [lock.total_seconds() / 60 for lock in minutes[4:] if lock] == [
        1,
        2,
        4,
        8,
        15,
        15,
        15,
    ]


def test_a_locked_account_refuses_even_its_password_then_opens_again(
    client: Client, account: Account
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _failure in range(5):
            submit_credentials(client, account.person.matricule, "wrong password 1", captcha=True)
        account.refresh_from_db()
        assert account.locked_until == start + datetime.timedelta(minutes=1)
        lock_notice = OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")
        assert lock_notice.subject == "Votre compte eSanté est bloqué temporairement"

        during = submit_credentials(client, account.person.matricule, captcha=True)
        assert during.status_code == 400
        assert "Le matricule ou le mot de passe est incorrect" in alert_text(during)

        traveller.shift(datetime.timedelta(minutes=1, seconds=1))
        after = submit_credentials(client, account.person.matricule, captcha=True)

    assert after["Location"] == reverse("patient:login_code")
    assert AuditEvent.objects.filter(event_type=EventType.ACCOUNT_LOCKED).count() == 1


def test_a_success_resets_the_failures(client: Client, account: Account) -> None:
    for _failure in range(2):
        submit_credentials(client, account.person.matricule, "wrong password 1")

    log_in(client, account)

    account.refresh_from_db()
    assert account.failed_logins == 0 and account.locked_until is None


def test_a_captcha_is_asked_from_the_third_failure(client: Client, account: Account) -> None:
    for _failure in range(3):
        submit_credentials(client, account.person.matricule, "wrong password 1")

    without = submit_credentials(client, account.person.matricule)
    with_captcha = submit_credentials(client, account.person.matricule, captcha=True)

    assert "recopiez aussi le captcha" in page_text(without)
    account.refresh_from_db()
    assert account.failed_logins == 3  # the try without captcha was not counted
    assert with_captcha["Location"] == reverse("patient:login_code")


def test_failures_are_limited_per_ip(client: Client, account: Account) -> None:
    request = (
        __import__("django.test", fromlist=["RequestFactory"])
        .RequestFactory()
        .get("/", REMOTE_ADDR="127.0.0.1")
    )
    rule = next(r for r in ratelimit.RATE_LIMITS["login.failed"] if r.scope == "ip")
    for _hit in range(rule.limit):
        ratelimit.hit("login.failed", request, key="another")

    response = submit_credentials(client, account.person.matricule, captcha=True)

    assert response.status_code == 429


def test_a_wrong_code_does_not_log_in(client: Client, account: Account) -> None:
    submit_credentials(client, account.person.matricule)
    code = last_one_time_code(EMAIL)

    response = client.post(
        reverse("patient:login_code"), {"code": f"{(int(code) + 1) % 1_000_000:06d}"}
    )

    assert response.status_code == 400
    assert "Ce code est incorrect." in page_text(response)
    assert client.get(reverse("patient:services"))["Location"].startswith(reverse("patient:login"))


def test_mes_services_needs_a_login_and_comes_back_after_it(
    client: Client, account: Account
) -> None:
    response = client.get(reverse("patient:services"))
    assert response["Location"] == f"{reverse('patient:login')}?suivant=%2Fmes-services%2F"

    submit_credentials(client, account.person.matricule, suivant="/mon-dsp/")
    done = client.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})

    assert done["Location"] == "/mon-dsp/"
    # An adult's first access asks the organ-donation question first.
    assert "Déclaration de don d'organes" in page_text(client.get("/mon-dsp/", follow=True))


def test_a_next_address_elsewhere_is_ignored(client: Client, account: Account) -> None:
    submit_credentials(client, account.person.matricule, suivant="https://evil.example/")
    done = client.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})

    assert done["Location"] == reverse("patient:services")


def test_logout_ends_the_session(client: Client, account: Account) -> None:
    log_in(client, account)

    client.post(reverse("patient:logout"))

    assert client.get(reverse("patient:services")).status_code == 302
    assert PatientSession.objects.get().ended_at is not None
    assert AuditEvent.objects.filter(event_type=EventType.LOGGED_OUT).exists()


def test_a_session_ended_elsewhere_is_refused_on_its_next_request(
    client: Client, account: Account
) -> None:
    log_in(client, account)

    PatientSession.objects.update(ended_at=timezone.now())

    assert client.get(reverse("patient:services")).status_code == 302


def test_a_session_ends_after_30_idle_minutes(client: Client, account: Account) -> None:
    log_in(client, account)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        response = client.get(reverse("patient:services"))

    assert response.status_code == 302
    assert PatientSession.objects.get().ended_at is not None


def test_a_session_ends_after_12_hours_however_active(client: Client, account: Account) -> None:
    start = timezone.now()
    log_in(client, account)

    with time_machine.travel(start, tick=False) as traveller:
        for _visit in range(40):  # every 20 minutes: never idle
            traveller.shift(datetime.timedelta(minutes=20))
            last = client.get(reverse("patient:services"))
            if last.status_code == 302:
                break

        ended_after = timezone.now() - start

    assert datetime.timedelta(hours=12) <= ended_after <= datetime.timedelta(hours=12, minutes=20)
    assert last.status_code == 302
    assert PatientSession.objects.get().ended_at is not None


def test_the_header_offers_mes_services_and_logout_once_logged_in(
    client: Client, account: Account
) -> None:
    log_in(client, account)

    page = page_text(client.get(reverse("portal:home")))

    assert reverse("patient:logout") in page
    assert "Déconnexion" in page


def test_a_login_from_a_new_browser_is_notified_and_the_browser_remembered(
    client: Client, account: Account
) -> None:
    log_in(client, account)
    first = OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")
    assert first.subject == "Nouvelle connexion à votre compte eSanté"
    assert client.cookies[login_rules.DEVICE_COOKIE]["httponly"]
    client.post(reverse("patient:logout"))

    log_in(client, account)  # the same browser: its cookie is known

    last = OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")
    assert last.subject == "Votre code à usage unique eSanté"
    assert AuditEvent.objects.filter(event_type=EventType.NEW_DEVICE).count() == 1

    log_in(Client(), account)  # another browser
    assert AuditEvent.objects.filter(event_type=EventType.NEW_DEVICE).count() == 2


def test_after_100_consecutive_failures_only_a_reset_opens_the_account(
    client: Client, account: Account
) -> None:
    Account.objects.filter(pk=account.pk).update(
        failed_logins=login_rules.MAX_CONSECUTIVE_FAILURES, locked_until=None
    )

    refused = submit_credentials(client, account.person.matricule, captcha=True)

    assert refused.status_code == 400
    assert "Le matricule ou le mot de passe est incorrect" in alert_text(refused)


def test_the_footer_offers_mes_services_not_connexion_once_logged_in(
    client: Client, account: Account
) -> None:
    """Issue 14, point 4: a logged-in person is not offered to log in or activate again."""

    def footer_links(page_url: str) -> set[str]:
        page = parse(client.get(page_url).content)
        return {link.attrs["href"] for link in page.find_all("a") if link.inside("footer")}

    home = reverse("portal:home")
    before = footer_links(home)
    log_in(client, account)
    after = footer_links(home)

    assert reverse("portal:login_choice") in before and reverse("portal:activation") in before
    assert reverse("portal:login_choice") not in after and reverse("portal:activation") not in after
    assert reverse("patient:services") in after


def test_the_code_page_does_not_read_the_account(client: Client, account: Account) -> None:
    """Only a code checked needs the account (its recovery-code mark, the login)."""
    submit_credentials(client, account.person.matricule)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("patient:login_code"))

    assert page.status_code == 200
    assert not [q for q in queries if Account._meta.db_table in q["sql"]]


def test_a_login_writes_no_reset_when_there_is_none_to_write(
    client: Client, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account read without failures nor lock: nothing to reset. A failure counted
    since that read (a wrong password elsewhere, in flight together) stays counted: the
    login came first."""

    def failure_elsewhere_meanwhile(*args: Any, **kwargs: Any) -> Any:
        Account.objects.filter(pk=account.pk).update(failed_logins=F("failed_logins") + 1)
        return login_rules.log_in(*args, **kwargs)

    monkeypatch.setattr(views, "log_in", failure_elsewhere_meanwhile)

    log_in(client, account)

    account.refresh_from_db()
    assert account.failed_logins == 1


def test_a_login_that_fails_midway_gives_the_code_back(
    client: Client, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """log_in takes no savepoint of its own: its error rolls back the code step's
    transaction whole — the code stays unused, no session, no event."""
    submit_credentials(client, account.person.matricule)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(login_rules, "record_event", broken)
    with pytest.raises(RuntimeError):
        client.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})

    assert not PatientSession.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).exists()
    code = OneTimeCode.objects.get(person=account.person, purpose="login")
    assert code.consumed_at is None and code.failed_attempts == 0


def test_from_the_third_failure_a_try_without_captcha_counts_nothing(
    client: Client, account: Account
) -> None:
    """The count is read as the try is counted (one step): at 3, nothing is counted, valid
    form or not, and the captcha is asked."""
    number = account.person.matricule
    for _failure in range(3):
        submit_credentials(client, number, "wrong password 1")
    address = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")

    valid = submit_credentials(client, number)
    invalid = submit_credentials(client, number, "")

    for answer in (valid, invalid):
        assert answer.status_code == 400
        assert "recopiez aussi le captcha" in page_text(answer)
    assert ratelimit.attempts("login.failed", address, key=number) == 3


def test_below_the_third_failure_a_refused_form_says_why(client: Client, account: Account) -> None:
    number = account.person.matricule
    submit_credentials(client, number, "wrong password 1")

    answer = submit_credentials(client, number, "")

    assert answer.status_code == 400
    assert "recopiez aussi le captcha" not in page_text(answer)
    assert "Saisissez votre mot de passe." in page_text(answer)
    address = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
    assert ratelimit.attempts("login.failed", address, key=number) == 1
