"""ASVS 5.0 chapter V6 (Authentication): what the other test modules do not show already.
docs/security.md names the requirement each test proves."""

from __future__ import annotations

import datetime
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password as django_validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from joserfc import jwk

from esante import ratelimit
from esante.accounts.authenticators import identity_providers, totp
from esante.accounts.authenticators.one_time_codes import CodeVerification, Outcome
from esante.accounts.authenticators.passwords import validate_password
from esante.accounts.models import Account, CodeChannel, CodePurpose, IdentityLink, OneTimeCode
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.wizard import (
    PASSWORD,
    alert_text,
    last_one_time_code,
    page_text,
    reach_one_time_code_step,
    reach_password_step,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.helpdesk.conftest import STAFF_PASSWORD
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db

# 100 characters: far over ASVS's 64, and over bcrypt's silent 72-byte cut.
LONG_PASSWORD = "Le vent du nord souffle sur les collines de l'Oesling en 2026, et la pluie suit !!"
LONG_PASSWORD += "x" * (100 - len(LONG_PASSWORD))
PASSWORD_INPUT = re.compile(r'<input[^>]*name="(?:password|password1|password2|current)"[^>]*>')


def _activate_with(client: Client, person: InsuredPerson, password: str) -> Account:
    reach_password_step(client, person)
    assert submit_password(client, password).status_code == 302
    assert submit_contact(client, "email", EMAIL).status_code == 302
    submit_one_time_code(client, last_one_time_code(EMAIL))
    return Account.objects.get(person=person)


# V6.2 Password security


def test_the_password_is_checked_exactly_as_typed(client: Client, account: Account) -> None:
    """V6.2.8: no case folding, no trimming, no truncation."""
    number = account.person.matricule
    variants = [PASSWORD.lower(), f" {PASSWORD}", f"{PASSWORD} ", PASSWORD[:-1]]

    refused = [submit_credentials(Client(), number, typed, captcha=True) for typed in variants]
    accepted = submit_credentials(client, number, PASSWORD, captcha=True)

    assert [response.status_code for response in refused] == [400] * len(variants)
    assert accepted["Location"] == reverse("patient:login_code")


def test_a_100_character_password_is_kept_whole(alice: InsuredPerson) -> None:
    """V6.2.9: passwords of at least 64 characters are permitted (and not cut)."""
    assert len(LONG_PASSWORD) == 100
    _activate_with(Client(), alice, LONG_PASSWORD)

    whole = submit_credentials(Client(), alice.matricule, LONG_PASSWORD)
    first_72 = submit_credentials(Client(), alice.matricule, LONG_PASSWORD[:72])

    assert whole["Location"] == reverse("patient:login_code")
    assert first_72.status_code == 400


def test_password_fields_are_masked_and_leave_paste_and_managers_alone(
    client: Client, account: Account, bob: InsuredPerson, agent: Any
) -> None:
    """V6.2.6 (type=password) and V6.2.7 (paste and password managers permitted): every
    page where a password is typed, patients' and staff's."""
    pages = {"login": page_text(Client().get(reverse("patient:login")))}
    wizard = Client()
    reach_password_step(wizard, bob)
    pages["activation step 2"] = page_text(wizard.get(reverse("activation:password")))
    log_in(client, account)
    pages["Mon compte: password"] = page_text(client.get(reverse("patient:password")))
    pages["helpdesk login"] = page_text(Client().get(reverse("helpdesk:login")))

    for name, page in pages.items():
        inputs = PASSWORD_INPUT.findall(page)
        assert inputs, name
        for tag in inputs:
            assert 'type="password"' in tag, (name, tag)
            assert 'autocomplete="off"' not in tag, (name, tag)
            assert "onpaste" not in tag and "oncopy" not in tag, (name, tag)
        assert "onpaste" not in page, name


def test_a_common_password_is_refused_at_change_and_at_recovery(
    client: Client, account: Account
) -> None:
    """V6.2.4 and V6.2.12 beyond registration: the same list at every password change."""
    log_in(client, account)
    changed = client.post(
        reverse("patient:password"),
        {"current": PASSWORD, "password1": "password123", "password2": "password123"},
    )
    recovery = Client()
    recovery.post(
        reverse("patient:recovery"),
        {"matricule": account.person.matricule, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    recovery.post(reverse("patient:recovery_code"), {"code": last_one_time_code(EMAIL)})
    reset = recovery.post(
        reverse("patient:recovery_password"),
        {"password1": "password123", "password2": "password123"},
    )

    assert changed.status_code == reset.status_code == 400
    assert "Ce mot de passe est trop courant" in page_text(changed)
    assert "Ce mot de passe est trop courant" in page_text(reset)


def test_a_password_never_expires(account: Account) -> None:
    """V6.2.10: no periodic rotation; three years later the same password still works."""
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3 * 366), tick=False):
        client = Client()
        asked = submit_credentials(client, account.person.matricule, PASSWORD)
        done = client.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})

    assert asked["Location"] == reverse("patient:login_code")
    assert done["Location"] == reverse("patient:services")


# V6.3 General authentication security


def test_a_fresh_installation_has_no_account_and_no_staff(settings: Any) -> None:
    """V6.3.2: no default account; the demo staff exist only in demo mode."""
    settings.ESANTE_DEMO = False

    with pytest.raises(CommandError, match="ESANTE_DEMO=1"):
        call_command("load_demo")

    assert not get_user_model().objects.exists()
    assert not Account.objects.exists()


# V6.5 General multi-factor authentication requirements


def _request() -> Any:
    return RequestFactory().post("/", REMOTE_ADDR="127.0.0.1")


def test_a_one_time_code_serves_once(alice: InsuredPerson) -> None:
    """V6.5.1: consumed on first success, refused after, from any copy of the object."""
    sent = CodeVerification.send(
        _request(),
        purpose=CodePurpose.LOGIN,
        flow_id="flow-once",
        person=alice,
        channel=CodeChannel.EMAIL,
        destination=EMAIL,
    )
    code = last_one_time_code(EMAIL)

    first = sent.verify(code)
    again = sent.verify(code)
    found = CodeVerification.find(sent.code.pk, "flow-once")

    assert first.ok
    assert again.outcome is Outcome.USED
    assert found is not None and found.verify(code).outcome is Outcome.USED


def test_codes_come_from_the_operating_systems_csprng(
    alice: InsuredPerson, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """V6.5.3: one-time codes and recovery codes are drawn with `secrets` (CSPRNG): with
    its functions replaced, the codes are exactly what they return."""
    monkeypatch.setattr(
        "esante.accounts.authenticators.one_time_codes.secrets.randbelow", lambda _n: 424242
    )
    monkeypatch.setattr(
        "esante.accounts.authenticators.totp.secrets.choice", lambda alphabet: alphabet[0]
    )

    CodeVerification.send(
        _request(),
        purpose=CodePurpose.LOGIN,
        flow_id="flow-rng",
        person=alice,
        channel=CodeChannel.EMAIL,
        destination="rng@example.lu",
    )
    recovery_codes = totp.new_recovery_codes(account)

    assert last_one_time_code("rng@example.lu") == "424242"
    assert set(recovery_codes) == {"AAAAA-AAAAA"}


def test_a_one_time_code_lifetime_of_10_minutes_is_one_setting_away(
    client: Client, alice: InsuredPerson, settings: Any
) -> None:
    """V6.5.5: the guide's 15 minutes is the default deviation; ESANTE_OTP_MINUTES=10
    meets ASVS (lifetime stored, told in the message, and enforced)."""
    settings.ESANTE_OTP_MINUTES = 10
    reach_one_time_code_step(client, alice, EMAIL)
    code = last_one_time_code(EMAIL)
    stored = OneTimeCode.objects.get()
    message = OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10, seconds=1)):
        late = submit_one_time_code(client, code)

    assert stored.expires_at - stored.created_at == datetime.timedelta(minutes=10)
    assert "valable pendant 10 min" in message.body
    assert "Ce code a expiré." in page_text(late)
    assert not Account.objects.exists()


# V6.6 Out-of-band authentication


def test_a_code_opens_only_the_login_it_was_sent_for(account: Account) -> None:
    """V6.6.2: a code is bound to the flow (browser and purpose) that asked for it."""
    first, second, recovering = Client(), Client(), Client()
    submit_credentials(first, account.person.matricule)
    first_code = last_one_time_code(EMAIL)
    submit_credentials(second, account.person.matricule)
    second_code = last_one_time_code(EMAIL)
    recovering.post(
        reverse("patient:recovery"),
        {"matricule": account.person.matricule, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    recovery_code = last_one_time_code(EMAIL)
    login_code = reverse("patient:login_code")

    with_recovery_code = second.post(login_code, {"code": recovery_code})
    with_first_code = second.post(login_code, {"code": first_code})
    first_done = first.post(login_code, {"code": first_code})
    second_done = second.post(login_code, {"code": second_code})

    if len({first_code, second_code, recovery_code}) == 3:  # one in a million draws a twin
        assert with_recovery_code.status_code == with_first_code.status_code == 400
        assert "Ce code est incorrect." in alert_text(with_first_code)
    assert first_done["Location"] == second_done["Location"] == reverse("patient:services")


# V6.8 Authentication with an identity provider


def _through_provider(
    client: Client, provider: OidcProvider, slug: str, purpose: str, subject: str
) -> str:
    """Press the `slug` button for `purpose`, log in at the provider as `subject`: the
    address the provider sends the browser back to."""
    response = client.post(reverse("patient:oidc_start", args=[slug]), {"but": purpose})
    assert response.status_code == 302, page_text(response)
    assert parse_qs(urlsplit(response["Location"]).query)["state"][0]
    return provider.authorize(response["Location"], subject)


def test_the_same_subject_at_another_provider_opens_nothing(
    account: Account, oidc_provider: OidcProvider, settings: Any
) -> None:
    """V6.8.1: an identity is the pair (provider, subject); the same subject name from
    another configured provider is another identity."""
    luxtrust = oidc_provider.provider_setting()
    settings.ESANTE_OIDC_PROVIDERS = [
        luxtrust,
        {**luxtrust, "slug": "autre", "name": "Autre", "client_id": "esante-autre"},
    ]
    subject = f"alice-{account.pk}-multi"
    oidc_provider.add_user(subject, matricule=account.person.matricule)
    owner = Client()
    log_in(owner, account)
    owner.get(_through_provider(owner, oidc_provider, "luxtrust", "link", subject))
    assert IdentityLink.objects.get().provider == "luxtrust"

    stranger = Client()
    elsewhere = stranger.get(_through_provider(stranger, oidc_provider, "autre", "login", subject))
    genuine = Client()
    linked = genuine.get(_through_provider(genuine, oidc_provider, "luxtrust", "login", subject))

    assert elsewhere["Location"] == reverse("portal:login_choice")
    assert stranger.get(reverse("patient:services")).status_code == 302
    assert linked["Location"] == reverse("patient:services")


def _keys_like(real: dict[str, Any]) -> dict[str, Any]:
    """Fresh keys with the provider's key ids and types: the signature cannot match."""
    fakes = []
    for key in real["keys"]:
        size_or_curve = key.get("crv") or 2048
        fake = jwk.generate_key(key["kty"], size_or_curve, parameters={"kid": key.get("kid")})
        fakes.append(fake.as_dict(private=False))
    return {"keys": fakes}


def test_an_id_token_whose_signature_does_not_verify_is_refused(
    account: Account, oidc_provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """V6.8.2: the ID token's signature is checked against the provider's keys; the same
    login with other keys in their place opens no session."""
    monkeypatch.setattr(identity_providers, "_clients", {})
    subject = f"alice-{account.pk}-signature"
    oidc_provider.add_user(subject, matricule=account.person.matricule)
    owner = Client()
    log_in(owner, account)
    owner.get(_through_provider(owner, oidc_provider, "luxtrust", "link", subject))
    control = Client()
    assert control.get(_through_provider(control, oidc_provider, "luxtrust", "login", subject))[
        "Location"
    ] == reverse("patient:services")
    logins_before = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).count()

    client = Client()
    back = _through_provider(client, oidc_provider, "luxtrust", "login", subject)
    provider = identity_providers.provider("luxtrust")
    assert provider is not None
    registered = identity_providers._client(provider)
    registered.server_metadata["jwks"] = _keys_like(registered.fetch_jwk_set())
    refused = client.get(back)

    assert refused["Location"] == reverse("portal:login_choice")
    assert "n'a pas pu être vérifiée" in page_text(client.get(refused["Location"]))
    assert client.get(reverse("patient:services")).status_code == 302
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).count() == logins_before


# Staff (helpdesk): the same password rules of exactness apply to Django's own login.


def test_a_staff_password_is_checked_exactly_as_typed(agent: Any) -> None:
    """V6.2.8 for staff: Django's authenticate() compares the password as typed."""
    for typed in (STAFF_PASSWORD.upper(), f"{STAFF_PASSWORD} ", STAFF_PASSWORD[:-1]):
        refused = Client().post(
            reverse("helpdesk:login"), {"username": agent.username, "password": typed}
        )
        assert refused.status_code == 400, typed


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        ("Court mais 42", "Ce mot de passe est trop court"),
        ("manchesterunited", "Ce mot de passe est trop courant"),
        ("marie.dupont.2026", "Le mot de passe est trop semblable"),
    ],
)
def test_a_staff_password_needs_15_characters_and_is_neither_common_nor_personal(
    monkeypatch: pytest.MonkeyPatch, password: str, refusal: str
) -> None:
    """V6.2.1 and V6.2.4 for staff: `esante create-staff` refuses a password under 15
    characters, a common one, or one like the username (AUTH_PASSWORD_VALIDATORS, which
    Django's admin and changepassword apply too); nobody is created."""
    monkeypatch.setenv("ESANTE_STAFF_PASSWORD", password)

    with pytest.raises(CommandError, match=refusal):
        call_command("create_staff", "marie.dupont", "--role", "agent", "--no-qr")

    assert not get_user_model().objects.filter(username="marie.dupont").exists()


def test_the_staff_password_rules_leave_the_patients_rules_alone(alice: InsuredPerson) -> None:
    """The staff validators are Django's setting; the patients' rules are
    esante.accounts.authenticators.passwords, which does not read it: 10 characters still do for a
    patient (the guide's minimum is 8)."""
    validate_password("Vrgt8kpq2x", alice)
    with pytest.raises(DjangoValidationError):
        django_validate_password("Vrgt8kpq2x", get_user_model()(username="marie.dupont"))


def test_wrong_codes_are_rate_limited_per_person(account: Account) -> None:
    """V6.6.3: beyond the 5 tries of each code, wrong codes are counted per person across
    codes and browsers; at the limit even the right code gets the "try later" page."""
    client = Client()
    submit_credentials(client, account.person.matricule)
    code = last_one_time_code(EMAIL)
    rule = next(r for r in ratelimit.RATE_LIMITS["otp.failed"] if r.scope == "key")
    elsewhere = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    for _hit in range(rule.limit):
        ratelimit.hit("otp.failed", elsewhere, key=str(account.person_id))

    response = client.post(reverse("patient:login_code"), {"code": code})

    assert response.status_code == 429
    assert client.get(reverse("patient:services")).status_code == 302
