"""How each session was opened, kept on its row for the platform's OpenID Connect provider:
the method and its RFC 8176 amr for every way in (password with an SMS, e-mail or app
code, a recovery code, a passkey, LuxTrust), and when an identity provider last
authenticated the person in it (at a LuxTrust login, at *Confirmez votre identité* with
the linked LuxTrust; never with a code)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account, PatientSession
from esante.accounts.patient_sessions import amr_of
from esante.audit.models import AuditEvent, EventType
from esante.registry.models import InsuredPerson
from tests.accounts.softauthn import SoftAuthenticator
from tests.accounts.test_authenticator_app import T0, activate_with_app, app_code
from tests.accounts.test_login import EMAIL, log_in, step_up, submit_credentials
from tests.accounts.test_oidc import at_provider, second_factor_proven_long_ago
from tests.accounts.test_passkeys import passkey_login, register
from tests.accounts.wizard import (
    activate,
    last_one_time_code,
    reach_password_step,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.servers import OidcProvider, free_port

pytestmark = pytest.mark.django_db

MOBILE = "+352621123456"


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


def latest_session() -> PatientSession:
    return PatientSession.objects.latest("pk")


def log_in_with_code(client: Client, account: Account, code: Callable[[], str]) -> None:
    """The password, then the code `code` reads once the password is right (sent then)."""
    assert submit_credentials(client, account.person.matricule)["Location"] == reverse(
        "patient:login_code"
    )
    done = client.post(reverse("patient:login_code"), {"code": code()})
    assert done["Location"] == reverse("patient:services")


def this_second() -> datetime.datetime:
    """The provider's auth_time counts whole seconds (OpenID Connect: a NumericDate)."""
    return timezone.now().replace(microsecond=0)


def link_luxtrust(account: Account, provider: OidcProvider, **claims: object) -> str:
    """Alice links her LuxTrust from Mon compte: its subject."""
    subject = f"alice-{account.pk}-{free_port()}"
    provider.add_user(
        subject,
        matricule=account.person.matricule,
        acr="urn:luxtrust:loa:substantial",
        amr=["hwk", "pin"],
        **claims,
    )
    client = Client()
    log_in(client, account)
    assert at_provider(client, provider, "link", subject)["Location"] == reverse("patient:account")
    return subject


def test_password_and_an_email_code(account: Account) -> None:
    log_in(Client(), account)

    session = latest_session()
    assert (session.method, session.amr) == ("password+code:email", ["pwd", "otp", "mfa"])
    assert session.strong_auth_at is None
    event = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).latest("pk")
    assert (event.details["method"], event.details["session"]) == (session.method, session.pk)


def test_password_and_an_sms_code(alice: InsuredPerson) -> None:
    activating = Client()
    reach_password_step(activating, alice)
    submit_password(activating)
    submit_contact(activating, "sms", "621 123 456")
    submit_one_time_code(activating, last_one_time_code(MOBILE))
    account = Account.objects.get(person=alice)

    log_in_with_code(Client(), account, lambda: last_one_time_code(MOBILE))

    session = latest_session()
    assert (session.method, session.amr) == ("password+code:sms", ["pwd", "sms", "mfa"])
    assert session.strong_auth_at is None


def test_password_and_the_apps_code_then_a_recovery_code(alice: InsuredPerson) -> None:
    with time_machine.travel(T0, tick=False):
        secret, recovery_codes, _page = activate_with_app(Client(), alice)
    account = Account.objects.get(person=alice)
    later = T0 + datetime.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        log_in_with_code(Client(), account, lambda: app_code(secret, later))
        by_app = latest_session()

    log_in_with_code(Client(), account, lambda: recovery_codes[0])
    by_sheet = latest_session()

    assert (by_app.method, by_app.amr) == ("password+code:app", ["pwd", "otp", "mfa"])
    # The sheet stands in for a lost app: no proof of the second factor, so no "mfa".
    assert (by_sheet.method, by_sheet.amr) == ("password+recovery", ["pwd", "otp"])
    assert by_app.strong_auth_at is None and by_sheet.strong_auth_at is None


def test_a_passkey(account: Account) -> None:
    registering = Client()
    log_in(registering, account)
    key = SoftAuthenticator()
    assert register(registering, key).status_code == 200

    assert passkey_login(Client(), key).json() == {"redirect": reverse("patient:services")}

    session = latest_session()
    assert (session.method, session.amr) == ("passkey", ["hwk", "user", "mfa"])
    assert session.strong_auth_at is None


def test_luxtrust_adds_its_own_amr_and_is_a_strong_authentication(
    account: Account, oidc_provider: OidcProvider
) -> None:
    subject = link_luxtrust(account, oidc_provider)
    before = this_second()

    response = at_provider(Client(), oidc_provider, "login", subject)

    assert response["Location"] == reverse("patient:services")
    session = latest_session()
    assert (session.method, session.amr) == ("oidc:luxtrust", ["mfa", "hwk", "pin"])
    assert session.strong_auth_at is not None
    assert before <= session.strong_auth_at <= timezone.now()
    event = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).latest("pk")
    assert (event.details["acr"], event.details["amr"]) == (
        "urn:luxtrust:loa:substantial",
        ["hwk", "pin"],
    )


def test_the_providers_auth_time_is_when_it_authenticated_the_person(
    account: Account, oidc_provider: OidcProvider
) -> None:
    """LuxTrust answered from a login of its own 4 minutes ago: that is the time a service
    asking for a recent strong login must measure, not the time of the redirect."""
    earlier = (timezone.now() - datetime.timedelta(minutes=4)).replace(microsecond=0)
    subject = link_luxtrust(account, oidc_provider, auth_time=int(earlier.timestamp()))

    at_provider(Client(), oidc_provider, "login", subject)

    assert latest_session().strong_auth_at == earlier


def test_confirming_ones_identity_with_the_linked_luxtrust_is_a_strong_authentication(
    account: Account, oidc_provider: OidcProvider
) -> None:
    subject = link_luxtrust(account, oidc_provider)
    oidc_provider.add_user("quelquun-d-autre", matricule=account.person.matricule)
    client = Client()
    log_in(client, account)
    session = latest_session()
    second_factor_proven_long_ago(client)
    client.get(reverse("patient:step_up"), {"suivant": reverse("patient:contact")})

    refused = at_provider(client, oidc_provider, "stepup", "quelquun-d-autre")
    session.refresh_from_db()
    assert refused["Location"] == reverse("patient:step_up")
    assert session.strong_auth_at is None  # a subject not linked to the account proves nothing

    before = this_second()
    done = at_provider(client, oidc_provider, "stepup", subject)

    assert done["Location"] == reverse("patient:contact")
    session.refresh_from_db()
    assert session.strong_auth_at is not None
    assert before <= session.strong_auth_at <= timezone.now()
    assert session.method == "password+code:email"  # how it was opened stays as it was
    # The provider's methods join the session's (what the services are told).
    assert session.amr[:3] == ["pwd", "otp", "mfa"] and set(session.amr) > {"pwd", "otp", "mfa"}


def test_confirming_ones_identity_with_a_code_is_no_strong_authentication(
    account: Account,
) -> None:
    client = Client()
    log_in(client, account)
    second_factor_proven_long_ago(client)

    assert step_up(client)["Location"] == reverse("patient:account")

    assert AuditEvent.objects.filter(event_type=EventType.STEP_UP_SUCCEEDED).exists()
    assert latest_session().strong_auth_at is None


def test_amr_of_every_method() -> None:
    assert amr_of("password+code:sms") == ["pwd", "sms", "mfa"]
    assert amr_of("password+code:email") == ["pwd", "otp", "mfa"]
    assert amr_of("password+code:app") == ["pwd", "otp", "mfa"]
    assert amr_of("password+recovery") == ["pwd", "otp"]
    assert amr_of("passkey") == ["hwk", "user", "mfa"]
    assert amr_of("oidc:luxtrust") == ["mfa"]
    assert amr_of("oidc:luxtrust", ["mfa", "hwk", "pin", "hwk", ""]) == ["mfa", "hwk", "pin"]
    assert amr_of("") == [] and amr_of("password+code") == []  # rows from before: no claim
