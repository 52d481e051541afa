"""The authenticator app as the code channel ("Application d'authentification"): set up
at step 3 with a server-drawn QR code, 30 s codes with one step of drift, never the same
code twice, ten recovery codes shown once, and the switch from Mon compte."""

from __future__ import annotations

import datetime
import re

import pyotp
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from esante.accounts.authenticators import totp
from esante.accounts.models import Account, CodeChannel, OneTimeCode, RecoveryCode
from esante.keyed_hash import keyed_hash
from esante.notifications.models import OutboundMessage
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.wizard import (
    PASSWORD,
    activate,
    page_text,
    reach_password_step,
    submit_one_time_code,
    submit_password,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 26, 9, 0, 5, tzinfo=datetime.UTC)


def secret_of(code_row: OneTimeCode) -> str:
    secret = totp.unseal(code_row.destination)
    assert secret is not None
    return secret


def app_code(secret: str, at: datetime.datetime) -> str:
    return str(pyotp.TOTP(secret).at(at))


def activate_with_app(client: Client, person: InsuredPerson) -> tuple[str, list[str], str]:
    """Steps 1 to 3 with the app; returns the secret, the recovery codes and step 4."""
    reach_password_step(client, person)
    submit_password(client)
    messages_before = OutboundMessage.objects.count()
    chosen = client.post(reverse("activation:contact"), {"channel": "totp"})
    assert chosen["Location"] == reverse("activation:otp")
    page = page_text(client.get(reverse("activation:otp")))
    assert "Associez votre application d'authentification" in page
    assert '<svg role="img"' in page and "QR code à scanner avec votre application" in page
    secret = secret_of(OneTimeCode.objects.latest("pk"))
    assert " ".join(re.findall(r".{4}", secret)) in page  # the key to type by hand
    assert OutboundMessage.objects.count() == messages_before  # nothing is sent
    done = submit_one_time_code(client, app_code(secret, datetime.datetime.now(datetime.UTC)))
    assert done["Location"] == reverse("activation:authenticators")
    step_4 = page_text(client.get(reverse("activation:authenticators")))
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", step_4)
    return secret, codes, step_4


@pytest.fixture
def app_account(alice: InsuredPerson) -> tuple[Account, str, list[str]]:
    with time_machine.travel(T0, tick=False):
        secret, codes, _page = activate_with_app(Client(), alice)
    return Account.objects.get(person=alice), secret, codes


def test_activation_with_the_app_shows_ten_recovery_codes_once(alice: InsuredPerson) -> None:
    client = Client()
    with time_machine.travel(T0, tick=False):
        secret, codes, step_4 = activate_with_app(client, alice)

    account = Account.objects.get(person=alice)
    assert account.code_channel == CodeChannel.TOTP
    assert totp.unseal(account.totp_secret) == secret and secret not in account.totp_secret
    assert (account.phone, account.email) == ("", "")
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "ils ne seront plus jamais affichés" in step_4
    stored = list(RecoveryCode.objects.filter(account=account).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not any(code.replace("-", "") in stored for code in codes)
    again = page_text(client.get(reverse("activation:authenticators")))
    assert "Vos 10 codes de secours" not in again


def test_login_with_the_app_and_never_the_same_code_twice(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, secret, _codes = app_account
    later = T0 + datetime.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        client = Client()
        messages_before = OutboundMessage.objects.count()
        assert submit_credentials(client, account.person.matricule)["Location"] == reverse(
            "patient:login_code"
        )
        page = page_text(client.get(reverse("patient:login_code")))
        assert "Saisissez le code à 6 chiffres affiché par votre application" in page
        assert "Renvoyer le code" not in page
        assert OutboundMessage.objects.count() == messages_before
        code = app_code(secret, later)
        done = client.post(reverse("patient:login_code"), {"code": code})
        assert done["Location"] == reverse("patient:services")

        replay = Client()
        submit_credentials(replay, account.person.matricule)
        refused = replay.post(reverse("patient:login_code"), {"code": code})
        assert refused.status_code == 400
        assert replay.get(reverse("patient:services")).status_code == 302


def test_one_step_of_drift_is_accepted_two_are_not(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, secret, _codes = app_account
    now = T0 + datetime.timedelta(hours=1)
    with time_machine.travel(now, tick=False):
        late = Client()
        submit_credentials(late, account.person.matricule)
        too_old = app_code(secret, now - datetime.timedelta(seconds=65))
        assert late.post(reverse("patient:login_code"), {"code": too_old}).status_code == 400
        previous = app_code(secret, now - datetime.timedelta(seconds=30))
        done = late.post(reverse("patient:login_code"), {"code": previous})
        assert done["Location"] == reverse("patient:services")


def test_a_recovery_code_logs_in_once(app_account: tuple[Account, str, list[str]]) -> None:
    account, _secret, codes = app_account
    client = Client()
    submit_credentials(client, account.person.matricule)

    done = client.post(reverse("patient:login_code"), {"code": codes[3].lower()})
    again = Client()
    submit_credentials(again, account.person.matricule)
    refused = again.post(reverse("patient:login_code"), {"code": codes[3]})

    assert done["Location"] == reverse("patient:services")
    assert refused.status_code == 400
    assert RecoveryCode.objects.filter(account=account, used_at__isnull=False).count() == 1


def test_recovery_codes_are_kept_as_salted_password_hashes(
    app_account: tuple[Account, str, list[str]],
) -> None:
    """ASVS 5.0 6.5.2: 50-bit lookup secrets, so an Argon2id hash with its own salt each;
    codes made before (a keyed hash) still work."""
    account, _secret, _codes = app_account
    stored = list(RecoveryCode.objects.filter(account=account).values_list("code_hash", flat=True))
    assert all(each.startswith("argon2$argon2id$") for each in stored)
    assert len({each.split("$")[-2] for each in stored}) == 10  # ten different salts

    RecoveryCode.objects.filter(account=account).delete()
    RecoveryCode.objects.create(account=account, code_hash=keyed_hash("recovery", "ABCDE23456"))
    assert totp.use_recovery_code(account.pk, "abcde-23456")
    assert not totp.use_recovery_code(account.pk, "abcde-23456")


def test_mot_de_passe_oublie_works_with_the_app(
    app_account: tuple[Account, str, list[str]],
) -> None:
    account, secret, _codes = app_account
    client = Client()
    with time_machine.travel(T0 + datetime.timedelta(minutes=10), tick=False):
        client.post(
            reverse("patient:recovery"),
            {"matricule": account.person.matricule, "captcha_0": "x", "captcha_1": "PASSED"},
        )
        page = page_text(client.get(reverse("patient:recovery_code")))
        assert "Si vous utilisez une application d'authentification" in page
        code = app_code(secret, T0 + datetime.timedelta(minutes=10))
        done = client.post(reverse("patient:recovery_code"), {"code": code})
    assert done["Location"] == reverse("patient:recovery_password")


def test_switching_to_the_app_from_mon_compte(alice: InsuredPerson) -> None:
    activate(Client(), alice, EMAIL)
    account = Account.objects.get(person=alice)
    client = Client()
    log_in(client, account)

    chosen = client.post(reverse("patient:contact"), {"current": PASSWORD, "channel": "totp"})
    assert chosen["Location"] == reverse("patient:contact_code")
    page = page_text(client.get(reverse("patient:contact_code")))
    assert "Associez votre application d'authentification" in page
    secret = secret_of(OneTimeCode.objects.latest("pk"))
    done = client.post(
        reverse("patient:contact_code"),
        {"code": app_code(secret, datetime.datetime.now(datetime.UTC))},
    )

    assert done["Location"] == reverse("patient:account")
    account.refresh_from_db()
    assert account.code_channel == CodeChannel.TOTP and account.email == ""
    overview = page_text(client.get(reverse("patient:account")))
    assert "Vos 10 codes de secours" in overview
    assert "Vos 10 codes de secours" not in page_text(client.get(reverse("patient:account")))
    assert OutboundMessage.objects.filter(
        recipient=EMAIL, subject="Le moyen de réception de vos codes eSanté a été changé"
    ).exists()

    wrong = client.post(
        reverse("patient:account"), {"new_recovery_codes": "1", "current": "pas le bon"}
    )
    assert "Le mot de passe actuel est incorrect." in page_text(client.get(wrong["Location"]))
    old_hashes = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    renewed = client.post(
        reverse("patient:account"), {"new_recovery_codes": "1", "current": PASSWORD}, follow=True
    )
    assert "Vos 10 codes de secours" in page_text(renewed)
    assert not old_hashes & set(RecoveryCode.objects.values_list("code_hash", flat=True))


def test_a_sealed_secret_cannot_be_read_without_the_key(settings: object) -> None:
    sealed = totp.seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    assert "JBSWY3DP" not in sealed

    settings.ESANTE_CODE_HMAC_KEY = "another key"  # type: ignore[attr-defined]

    assert totp.unseal(sealed) is None
    assert totp.matching_step(sealed, "123456") is None
