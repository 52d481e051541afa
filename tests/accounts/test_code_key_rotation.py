"""Rotating ESANTE_CODE_HMAC_KEY (docs/operations.md): with the old key in
ESANTE_CODE_HMAC_KEY_FALLBACKS, the letters in the post still activate and the sealed
authenticator-app secrets still open; `esante reseal-secrets` moves those to the new key,
after which the old one can go."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from esante.accounts.authenticators import totp
from esante.accounts.models import Account
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import activate, issue_letter, start, submit_code

pytestmark = pytest.mark.django_db

OLD, NEW = "old-code-hmac-key", "new-code-hmac-key"


@pytest.fixture
def old_key(settings: Any) -> Any:
    settings.ESANTE_CODE_HMAC_KEY, settings.ESANTE_CODE_HMAC_KEY_FALLBACKS = OLD, []
    return settings


def rotate(settings: Any, *, keep_old: bool) -> None:
    settings.ESANTE_CODE_HMAC_KEY = NEW
    settings.ESANTE_CODE_HMAC_KEY_FALLBACKS = [OLD] if keep_old else []


def test_a_letter_issued_before_the_rotation_still_activates(
    old_key: Any, alice: InsuredPerson, client: Client
) -> None:
    code = issue_letter(alice)
    rotate(old_key, keep_old=True)

    start(client)
    response = submit_code(client, alice.matricule, code)
    assert response["Location"] == reverse("activation:password")


def test_without_the_fallback_the_old_letters_no_longer_open(
    old_key: Any, alice: InsuredPerson, client: Client
) -> None:
    code = issue_letter(alice)
    rotate(old_key, keep_old=False)

    start(client)
    assert submit_code(client, alice.matricule, code).status_code == 400


def test_reseal_secrets_moves_the_app_secrets_to_the_new_key(
    old_key: Any, alice: InsuredPerson
) -> None:
    activate(Client(), alice, "alice@example.lu")
    secret = totp.new_secret()
    Account.objects.filter(person=alice).update(totp_secret=totp.seal(secret))
    rotate(old_key, keep_old=True)
    assert totp.unseal(Account.objects.get(person=alice).totp_secret) == secret

    output = io.StringIO()
    call_command("reseal_secrets", stdout=output)
    assert output.getvalue().startswith("1 secret rescellé")
    again = io.StringIO()
    call_command("reseal_secrets", stdout=again)
    assert again.getvalue().startswith("0 secret rescellé")  # idempotent

    rotate(old_key, keep_old=False)  # the old key is gone: the secret opens all the same
    assert totp.unseal(Account.objects.get(person=alice).totp_secret) == secret
