"""One letter, several browsers typing their one-time codes at once: one account."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account, OneTimeCode
from esante.records.models import CareRecord
from esante.registry.models import ActivationLetter
from tests.accounts.wizard import (
    issue_letter,
    last_one_time_code,
    start,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.concurrency import needs_postgresql, run_together
from tests.factories import make_person, years_ago

BROWSERS = 8


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_letter_activates_one_account_when_browsers_race() -> None:
    alice = make_person("Alice", "Martin", years_ago(41))
    code = issue_letter(alice)
    browsers = []
    for index in range(BROWSERS):
        client = Client()
        start(client)
        assert submit_code(client, alice.matricule, code).status_code == 302
        submit_password(client)
        email = f"alice{index}@example.lu"
        assert submit_contact(client, "email", email).status_code == 302
        browsers.append((client, last_one_time_code(email)))
    assert OneTimeCode.objects.count() == BROWSERS

    def finish(client: Client, one_time_code: str) -> Any:
        return lambda: submit_one_time_code(client, one_time_code)["Location"]

    landed = run_together([finish(client, otp) for client, otp in browsers])

    assert landed.count(reverse("activation:authenticators")) == 1
    assert landed.count(reverse("activation:code")) == BROWSERS - 1
    assert Account.objects.count() == 1
    assert CareRecord.objects.count() == 1
    account = Account.objects.get()
    assert ActivationLetter.objects.get(person=alice).used_at is not None
    # The losers' one-time codes were given back (nothing of theirs was written).
    assert OneTimeCode.objects.filter(consumed_at__isnull=False).count() == 1
    assert OneTimeCode.objects.get(consumed_at__isnull=False).destination == account.email
