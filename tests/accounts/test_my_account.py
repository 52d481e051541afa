"""*Mon compte*: password, code channel, sessions, security events, CGU."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts import reauth
from esante.accounts.models import Account, PatientSession
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import PASSWORD, activate, last_one_time_code, page_text
from tests.portal.html import parse

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Neuf mots de passe 2026"


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


@pytest.fixture
def logged_in(client: Client, account: Account) -> Client:
    log_in(client, account)
    return client


def test_mon_compte_needs_a_login(client: Client) -> None:
    assert client.get(reverse("patient:account"))["Location"].startswith(reverse("patient:login"))


def test_mon_compte_shows_channel_sessions_events_and_cgu(
    logged_in: Client, account: Account
) -> None:
    page = page_text(logged_in.get(reverse("patient:account")))

    assert "*****@example.lu" in page
    assert f"version {account.cgu_version}" in page
    assert "(cette session)" in page
    assert "Connexion réussie" in page
    assert "Compte activé" in page


def test_only_the_last_20_security_events_are_listed(logged_in: Client, account: Account) -> None:
    for _event in range(25):
        AuditEvent.objects.create(
            event_type=EventType.LOGIN_FAILED, actor="anonymous", person=account.person
        )

    page = page_text(logged_in.get(reverse("patient:account")))

    assert page.count("Connexion refusée") == 20


def test_changing_the_password_asks_the_current_one_and_a_code(
    logged_in: Client, account: Account
) -> None:
    wrong = logged_in.post(
        reverse("patient:password"),
        {"current": "not it 123", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert "Le mot de passe actuel est incorrect." in page_text(wrong)

    weak = logged_in.post(
        reverse("patient:password"),
        {"current": PASSWORD, "password1": "abc", "password2": "abc"},
    )
    assert "Le mot de passe doit faire au minimum 8 caractères" in page_text(weak)

    asked = logged_in.post(
        reverse("patient:password"),
        {"current": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert asked["Location"] == reverse("patient:password_code")
    account.refresh_from_db()
    assert check_password(PASSWORD, account.password)  # nothing changed before the code

    done = logged_in.post(reverse("patient:password_code"), {"code": last_one_time_code(EMAIL)})

    assert done["Location"] == reverse("patient:account")
    account.refresh_from_db()
    assert check_password(NEW_PASSWORD, account.password)
    assert AuditEvent.objects.filter(event_type=EventType.PASSWORD_CHANGED).exists()
    notice = OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")
    assert notice.subject == "Le mot de passe de votre compte eSanté a été changé"


def test_the_new_password_input_is_described_by_the_rule(logged_in: Client) -> None:
    blank = parse(logged_in.get(reverse("patient:password")).content)
    weak = parse(
        logged_in.post(
            reverse("patient:password"),
            {"current": PASSWORD, "password1": "abc", "password2": "abc"},
        ).content
    )

    assert "au minimum 8 caractères" in blank.by_id("password-rule").text
    (password1,) = blank.find_all("input", name="password1")
    assert password1.attrs["aria-describedby"] == "password-rule"
    (password1,) = weak.find_all("input", name="password1")
    assert password1.attrs["aria-describedby"] == "password-rule id_password1_error"
    assert not blank.dangling_references() and not weak.dangling_references()


def test_the_other_sessions_can_be_ended_and_are_refused_next_time(
    logged_in: Client, account: Account
) -> None:
    other = Client()
    log_in(other, account)
    assert other.get(reverse("patient:services")).status_code == 200

    logged_in.post(reverse("patient:account"), {"end_others": "1"})

    assert other.get(reverse("patient:services")).status_code == 302
    assert logged_in.get(reverse("patient:services")).status_code == 200
    assert AuditEvent.objects.filter(event_type=EventType.SESSION_ENDED).count() == 1


def test_one_session_is_ended_with_deconnecter(logged_in: Client, account: Account) -> None:
    other = Client()
    log_in(other, account)
    other_session = PatientSession.objects.latest("pk")

    logged_in.post(reverse("patient:account"), {"end_session": str(other_session.pk)})

    assert other.get(reverse("patient:services")).status_code == 302


def test_nobody_ends_another_accounts_session(logged_in: Client, bob: InsuredPerson) -> None:
    activate(Client(), bob, "bob@example.lu")
    bobs = Client()
    bobs.post(reverse("patient:login"), {"matricule": bob.matricule, "password": PASSWORD})
    bobs.post(reverse("patient:login_code"), {"code": last_one_time_code("bob@example.lu")})
    bob_session = PatientSession.objects.get(account__person=bob)

    logged_in.post(reverse("patient:account"), {"end_session": str(bob_session.pk)})

    assert bobs.get(reverse("patient:services")).status_code == 200


def test_changing_the_channel_verifies_the_new_one_and_tells_the_old_one(
    logged_in: Client, account: Account
) -> None:
    asked = logged_in.post(
        reverse("patient:contact"),
        {"current": PASSWORD, "channel": "sms", "mobile": "621 555 666"},
    )
    assert asked["Location"] == reverse("patient:contact_code")
    sent_to = OutboundMessage.objects.latest("pk")
    assert sent_to.recipient == "+352621555666"

    done = logged_in.post(
        reverse("patient:contact_code"), {"code": last_one_time_code("+352621555666")}
    )

    assert done["Location"] == reverse("patient:account")
    account.refresh_from_db()
    assert (account.code_channel, account.phone, account.email) == ("sms", "+352621555666", "")
    told = OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")
    assert told.subject == "Le moyen de réception de vos codes eSanté a été changé"
    assert AuditEvent.objects.filter(event_type=EventType.CONTACT_CHANGED).exists()


def test_changing_the_channel_needs_the_password_again(logged_in: Client, account: Account) -> None:
    """ASVS 5.0 7.5.1: a stolen session cannot move the codes to the thief's phone."""
    sent_before = OutboundMessage.objects.count()
    page = page_text(logged_in.get(reverse("patient:contact")))
    assert 'autocomplete="current-password"' in page

    for typed in ("", PASSWORD + "?"):
        refused = logged_in.post(
            reverse("patient:contact"),
            {"current": typed, "channel": "sms", "mobile": "621 555 666"},
        )
        assert refused.status_code == 400
    assert "Le mot de passe actuel est incorrect." in page_text(refused)
    assert OutboundMessage.objects.count() == sent_before  # no code sent anywhere
    account.refresh_from_db()
    assert account.code_channel == "email"


def test_channels_not_allowed_by_the_agency_are_neither_offered_nor_taken(
    logged_in: Client, account: Account, settings: Any
) -> None:
    """ESANTE_CODE_CHANNELS without email removes the guide's e-mail channel (ASVS 5.0
    6.3.6, docs/security.md)."""
    settings.ESANTE_CODE_CHANNELS = ["sms", "totp"]
    page = page_text(logged_in.get(reverse("patient:contact")))
    assert 'value="sms"' in page and 'value="totp"' in page
    assert 'value="email"' not in page and 'name="email"' not in page

    refused = logged_in.post(
        reverse("patient:contact"),
        {"current": PASSWORD, "channel": "email", "email": "alice.new@example.lu"},
    )
    assert refused.status_code == 400
    assert not OutboundMessage.objects.filter(recipient="alice.new@example.lu").exists()


def test_ending_sessions_later_in_a_session_asks_for_the_password_again(
    logged_in: Client, account: Account
) -> None:
    """ASVS 5.0 7.5.2: after the first minutes, the password again before *Déconnecter*."""
    other = Client()
    log_in(other, account)
    later = timezone.now() + reauth.FRESH_FOR + datetime.timedelta(seconds=1)

    with time_machine.travel(later):
        page = page_text(logged_in.get(reverse("patient:account")))
        assert "Pour déconnecter une session, confirmez d'abord votre mot de passe" in page
        assert 'name="end_others"' not in page
        refused = logged_in.post(reverse("patient:account"), {"end_others": "1"})
        assert refused["Location"] == reverse("patient:account") + "#sessions"
        assert other.get(reverse("patient:services")).status_code == 200

        logged_in.post(
            reverse("patient:account"),
            {"confirm_password": "sessions", "sessions-current": PASSWORD},
        )
        logged_in.post(reverse("patient:account"), {"end_others": "1"})
        assert other.get(reverse("patient:services")).status_code == 302


CHROME_ON_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Mobile Safari/537.36"
)
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
)
SAFARI_ON_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)

SAFARI_ON_A_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.4 Safari/605.1.15"
)


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (CHROME_ON_ANDROID, "Chrome sur Android"),
        (FIREFOX_ON_WINDOWS, "Firefox sur Windows"),
        (SAFARI_ON_IOS, "Safari sur iOS"),
        (SAFARI_ON_A_MAC, "Safari sur macOS"),
        ("Zorglub/0.1 (compatible; unheard-of)", "Navigateur inconnu"),
        ("", "Navigateur inconnu"),
    ],
)
def test_a_session_is_named_by_its_browser_and_system(
    account: Account, user_agent: str, shown: str
) -> None:
    browser = Client(headers={"User-Agent": user_agent} if user_agent else {})
    log_in(browser, account)

    page = parse(browser.get(reverse("patient:account")).content)

    assert f"{shown} (cette session)" in page.text
    assert "Mozilla" not in page.text and "Zorglub" not in page.text
