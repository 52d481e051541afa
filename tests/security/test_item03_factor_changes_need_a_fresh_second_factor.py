"""Issue 13, item 3 (ASVS 5.0 7.5.1, docs/security.md): changing or removing a factor —
the code channel, the authenticator app, a passkey, a linked provider, the recovery codes
— needs a fresh proof of the CURRENT second factor, not the password alone. Fresh: the
login itself (within 10 minutes), or *Confirmez votre identité* (a code to the current
channel, the app, a passkey of the account, the linked provider). A recovery code is no
such proof. The same for staff passkeys (a new code of the app); a staff password change
removes the staff member's passkeys."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pyotp
import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts import reauth
from esante.accounts.models import (
    Account,
    CodePurpose,
    IdentityLink,
    OneTimeCode,
    Passkey,
    RecoveryCode,
)
from esante.audit.models import AuditEvent, EventType
from esante.helpdesk.models import StaffPasskey
from esante.notifications.models import OutboundMessage
from esante.registry.models import InsuredPerson
from tests.accounts.softauthn import SoftAuthenticator
from tests.accounts.test_authenticator_app import T0, app_code
from tests.accounts.test_authenticator_app import app_account as app_account
from tests.accounts.test_login import EMAIL, log_in, step_up, submit_credentials
from tests.accounts.test_oidc import linked as linked
from tests.accounts.wizard import PASSWORD, activate, last_one_time_code, page_text
from tests.helpdesk.conftest import SECRETS, STAFF_PASSWORD
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db

NEW_MOBILE = "+352621555666"
LATER = reauth.FRESH_FOR + datetime.timedelta(minutes=1)


def post_json(client: Client, name: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(reverse(name), json.dumps(body or {}), content_type="application/json")


def confirm_password(client: Client, section: str) -> None:
    """What sufficed until now: the password typed again in Mon compte ("sudo mode")."""
    prefix = {"passkeys": "cles", "strong": "fournisseurs", "sessions": "sessions"}[section]
    client.post(
        reverse("patient:account"), {"confirm_password": section, f"{prefix}-current": PASSWORD}
    )


def change_channel(client: Client, **fields: str) -> Any:
    data = {"current": PASSWORD, "channel": "sms", "mobile": "621 555 666", **fields}
    return client.post(reverse("patient:contact"), data)


@pytest.fixture
def stolen(account: Account) -> Client:
    """Alice's session, taken over by someone who knows her password too."""
    client = Client()
    log_in(client, account)
    return client


def test_a_stolen_session_and_the_password_cannot_move_the_code_channel(
    stolen: Client, account: Account
) -> None:
    with time_machine.travel(timezone.now() + LATER):
        asked = change_channel(stolen)

    assert not OutboundMessage.objects.filter(recipient=NEW_MOBILE).exists()
    account.refresh_from_db()
    assert (account.code_channel, account.email) == ("email", EMAIL)
    assert asked["Location"].startswith(reverse("patient:step_up"))  # and asked to confirm


def test_a_stolen_session_and_the_password_cannot_switch_to_the_app(
    stolen: Client, account: Account
) -> None:
    with time_machine.travel(timezone.now() + LATER):
        asked = stolen.post(reverse("patient:contact"), {"current": PASSWORD, "channel": "totp"})

    assert not OneTimeCode.objects.filter(purpose=CodePurpose.CONTACT_CHANGE).exists()
    assert asked["Location"].startswith(reverse("patient:step_up"))  # and asked to confirm


def test_a_stolen_session_and_the_password_cannot_switch_away_from_the_app(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, secret, _codes = app_account
    client = Client()
    with time_machine.travel(T0 + datetime.timedelta(minutes=5), tick=False):
        submit_credentials(client, account.person.matricule)
        code = app_code(secret, T0 + datetime.timedelta(minutes=5))
        assert client.post(reverse("patient:login_code"), {"code": code}).status_code == 302
    with time_machine.travel(T0 + datetime.timedelta(minutes=5) + LATER, tick=False):
        asked = change_channel(client)

    assert not OutboundMessage.objects.filter(recipient=NEW_MOBILE).exists()
    assert asked["Location"].startswith(reverse("patient:step_up"))  # and asked to confirm


def test_a_stolen_session_and_the_password_cannot_add_or_remove_a_passkey(
    stolen: Client, account: Account
) -> None:
    authenticator = SoftAuthenticator()
    options = post_json(stolen, "patient:passkey_register_options", {"purpose": "account"})
    post_json(
        stolen,
        "patient:passkey_register",
        {"purpose": "account", "name": "Alice", "credential": authenticator.create(options.json())},
    )
    alices = Passkey.objects.get()

    with time_machine.travel(timezone.now() + LATER):
        confirm_password(stolen, "passkeys")
        refused = post_json(stolen, "patient:passkey_register_options", {"purpose": "account"})
        removal = stolen.post(reverse("patient:passkey_delete", args=[alices.pk]))

    assert list(Passkey.objects.all()) == [alices]
    assert refused.status_code == 403
    assert removal["Location"].startswith(reverse("patient:step_up"))


def test_a_stolen_session_and_the_password_cannot_link_a_provider(
    stolen: Client, oidc_provider: OidcProvider
) -> None:
    with time_machine.travel(timezone.now() + LATER):
        confirm_password(stolen, "strong")
        asked = stolen.post(reverse("patient:oidc_start", args=["luxtrust"]), {"but": "link"})

    assert "code_challenge" not in asked["Location"]  # not sent to the provider
    assert asked["Location"].startswith(reverse("patient:step_up"))


def test_a_stolen_session_and_the_password_cannot_unlink_a_provider(
    account: Account, linked: str
) -> None:
    client = Client()
    log_in(client, account)
    unlink = reverse("patient:identity_unlink", args=["luxtrust"])

    with time_machine.travel(timezone.now() + LATER):
        asked = client.post(unlink, {"current": PASSWORD})

    assert IdentityLink.objects.get().subject == linked
    assert asked["Location"].startswith(reverse("patient:step_up"))


def test_a_stolen_session_and_the_password_cannot_renew_the_recovery_codes(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, secret, _codes = app_account
    before = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    client = Client()
    with time_machine.travel(T0 + datetime.timedelta(minutes=5), tick=False):
        submit_credentials(client, account.person.matricule)
        code = app_code(secret, T0 + datetime.timedelta(minutes=5))
        client.post(reverse("patient:login_code"), {"code": code})
    with time_machine.travel(T0 + datetime.timedelta(minutes=5) + LATER, tick=False):
        asked = client.post(
            reverse("patient:account"), {"new_recovery_codes": "1", "current": PASSWORD}
        )

    assert set(RecoveryCode.objects.values_list("code_hash", flat=True)) == before
    assert asked["Location"].startswith(reverse("patient:step_up"))  # and asked to confirm


def test_a_recovery_code_is_no_fresh_second_factor(
    app_account: tuple[Account, str, list[str]],
) -> None:
    """Logged in with a recovery code: the session opens, but changing a factor asks for
    the app; and the step-up refuses another recovery code."""
    account, _secret, codes = app_account
    client = Client()
    with time_machine.travel(T0 + datetime.timedelta(minutes=5), tick=False):
        submit_credentials(client, account.person.matricule)
        logged = client.post(reverse("patient:login_code"), {"code": codes[0]})
        assert logged["Location"] == reverse("patient:services")

        renew = client.post(
            reverse("patient:account"), {"new_recovery_codes": "1", "current": PASSWORD}
        )
        assert renew["Location"].startswith(reverse("patient:step_up"))
        client.post(reverse("patient:step_up"), {"send": "1"})
        refused = client.post(reverse("patient:step_up_code"), {"code": codes[1]})

    assert refused.status_code == 400
    assert "Un code de secours ne suffit pas pour confirmer votre identité" in page_text(refused)
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1  # the login's
    assert AuditEvent.objects.filter(event_type=EventType.STEP_UP_FAILED).exists()


def test_the_step_up_with_a_code_to_the_current_channel_lets_the_change_through(
    stolen: Client, account: Account
) -> None:
    with time_machine.travel(timezone.now() + LATER):
        asked = stolen.get(reverse("patient:contact"))
        page = page_text(stolen.get(asked["Location"]))
        assert "Confirmez votre identité" in page
        assert "*****@example.lu" in page  # the current channel, masked
        assert 'name="current"' not in page  # never the password alone

        back = step_up(stolen, back_to=reverse("patient:contact"))
        assert back["Location"] == reverse("patient:contact")
        done = change_channel(stolen)

    assert done["Location"] == reverse("patient:contact_code")
    step_up_code = OutboundMessage.objects.filter(recipient=EMAIL).order_by("pk")
    assert step_up_code.count() >= 2  # the login's code, then the step-up's, both to Alice
    assert OutboundMessage.objects.filter(recipient=NEW_MOBILE).count() == 1
    proof = AuditEvent.objects.get(event_type=EventType.STEP_UP_SUCCEEDED)
    assert (proof.person, proof.details["method"]) == (account.person, "code")


def test_a_wrong_step_up_code_is_refused_audited_and_limited(
    stolen: Client, account: Account
) -> None:
    with time_machine.travel(timezone.now() + LATER):
        stolen.post(reverse("patient:step_up"), {"send": "1"})
        right = last_one_time_code(EMAIL)
        wrong = "000000" if right != "000000" else "111111"
        refused = stolen.post(reverse("patient:step_up_code"), {"code": wrong})
        still = stolen.get(reverse("patient:contact"))

    assert refused.status_code == 400
    assert "Ce code est incorrect" in page_text(refused)
    assert still["Location"].startswith(reverse("patient:step_up"))
    failed = AuditEvent.objects.get(event_type=EventType.STEP_UP_FAILED)
    assert failed.details == {"method": "code", "reason": "wrong"}
    assert AuditEvent.objects.filter(event_type=EventType.OTP_FAILED).count() == 1


def test_a_passkey_of_the_account_confirms_ones_identity_and_another_does_not(
    stolen: Client, account: Account, bob: InsuredPerson
) -> None:
    alices, bobs = SoftAuthenticator(), SoftAuthenticator()
    options = post_json(stolen, "patient:passkey_register_options", {"purpose": "account"})
    post_json(
        stolen,
        "patient:passkey_register",
        {"purpose": "account", "credential": alices.create(options.json())},
    )
    activate(Client(), bob, "bob@example.lu")
    bob_client = Client()
    bob_client.post(reverse("patient:login"), {"matricule": bob.matricule, "password": PASSWORD})
    bob_client.post(reverse("patient:login_code"), {"code": last_one_time_code("bob@example.lu")})
    options = post_json(bob_client, "patient:passkey_register_options", {"purpose": "account"})
    post_json(
        bob_client,
        "patient:passkey_register",
        {"purpose": "account", "credential": bobs.create(options.json())},
    )

    with time_machine.travel(timezone.now() + LATER):
        stolen.get(reverse("patient:step_up"), {"suivant": reverse("patient:contact")})
        challenge = post_json(stolen, "patient:step_up_passkey_options").json()
        other = post_json(stolen, "patient:step_up_passkey", {"credential": bobs.get(challenge)})
        assert other.status_code == 400
        assert stolen.get(reverse("patient:contact"))["Location"].startswith(
            reverse("patient:step_up")
        )

        challenge = post_json(stolen, "patient:step_up_passkey_options").json()
        done = post_json(stolen, "patient:step_up_passkey", {"credential": alices.get(challenge)})
        assert done.json() == {"redirect": reverse("patient:contact")}
        assert stolen.get(reverse("patient:contact")).status_code == 200

    assert AuditEvent.objects.get(event_type=EventType.STEP_UP_FAILED).details["method"] == (
        "passkey"
    )
    proof = AuditEvent.objects.get(event_type=EventType.STEP_UP_SUCCEEDED)
    assert proof.details["method"] == "passkey"


def test_right_after_the_login_no_step_up_is_shown(stolen: Client, account: Account) -> None:
    """The login proved the second factor: changing the channel asks what it asked."""
    assert stolen.get(reverse("patient:contact")).status_code == 200
    assert change_channel(stolen)["Location"] == reverse("patient:contact_code")
    assert "data-passkey-register" in page_text(stolen.get(reverse("patient:account")))
    assert not AuditEvent.objects.filter(event_type=EventType.STEP_UP_SUCCEEDED).exists()


# Staff ---------------------------------------------------------------------------------


def staff_key(client: Client) -> SoftAuthenticator:
    key = SoftAuthenticator()
    options = post_json(client, "helpdesk:passkey_register_options")
    assert options.status_code == 200, options.content
    done = post_json(
        client, "helpdesk:passkey_register", {"credential": key.create(options.json())}
    )
    assert done.status_code == 200, done.content
    return key


def test_a_staff_passkey_needs_a_fresh_code_of_the_app(agent: Any, agent_client: Client) -> None:
    staff_key(agent_client)  # right after the login (password and app): fresh
    stored = StaffPasskey.objects.get()
    later = timezone.now() + LATER

    with time_machine.travel(later):
        page = agent_client.get(reverse("helpdesk:passkeys")).content.decode()
        assert "data-passkey-register" not in page
        assert reverse("helpdesk:step_up") in page
        refused = post_json(agent_client, "helpdesk:passkey_register_options")
        assert refused.status_code == 403
        removal = agent_client.post(reverse("helpdesk:passkey_delete", args=[stored.pk]))
        assert removal["Location"] == reverse("helpdesk:step_up")
        assert StaffPasskey.objects.count() == 1

        wrong = agent_client.post(reverse("helpdesk:step_up"), {"code": "000000"})
        assert wrong.status_code == 400
        code = pyotp.TOTP(SECRETS[agent.username]).now()
        done = agent_client.post(reverse("helpdesk:step_up"), {"code": code})
        assert done["Location"] == reverse("helpdesk:passkeys")
        assert post_json(agent_client, "helpdesk:passkey_register_options").status_code == 200
        agent_client.post(reverse("helpdesk:passkey_delete", args=[stored.pk]))

    assert not StaffPasskey.objects.exists()
    assert AuditEvent.objects.filter(
        event_type=EventType.STEP_UP_SUCCEEDED, actor=f"staff:{agent.pk}"
    ).exists()
    assert AuditEvent.objects.filter(
        event_type=EventType.STEP_UP_FAILED, actor=f"staff:{agent.pk}"
    ).exists()


def test_a_staff_passkey_login_is_no_proof_of_the_app(agent: Any, agent_client: Client) -> None:
    """A passkey logs in, but registering another one still asks the app's code."""
    key = staff_key(agent_client)
    client = Client()
    challenge = post_json(client, "helpdesk:passkey_login_options").json()
    logged = post_json(client, "helpdesk:passkey_login", {"credential": key.get(challenge)})
    assert logged.json() == {"redirect": reverse("helpdesk:home")}

    assert post_json(client, "helpdesk:passkey_register_options").status_code == 403


def test_a_staff_password_change_removes_the_staff_members_passkeys(
    agent: Any, agent_client: Client
) -> None:
    staff_key(agent_client)

    done = agent_client.post(
        reverse("helpdesk:password"),
        {
            "old_password": STAFF_PASSWORD,
            "new_password1": "Une tasse de thé au guichet 2027",
            "new_password2": "Une tasse de thé au guichet 2027",
        },
        follow=True,
    )

    assert not StaffPasskey.objects.exists()
    page = done.content.decode()
    assert "votre clé d&#x27;accès est supprimée" in page or "votre clé d'accès est supprimée" in (
        page
    )
    removed = AuditEvent.objects.get(
        event_type=EventType.HELPDESK_ACTION, details__action="passkey_removed"
    )
    assert removed.details["cause"] == "password_changed"
