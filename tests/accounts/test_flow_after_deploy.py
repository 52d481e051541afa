"""A flow's state written by the code before a deploy, in a shape the flow's dataclass no
longer has (a field more or less, another type): the flow starts again at its entry page,
never an error, and the visitor is not logged as getting round the order."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import activate, page_text

pytestmark = pytest.mark.django_db


def store_old_state(client: Client, flow: str, data: dict[str, Any], reached: int = 0) -> None:
    now = timezone.now().timestamp()
    session = client.session
    session[f"flow:{flow}"] = {
        "flow_id": "written-before-the-deploy",
        "reached": reached,
        "started_at": now,
        "last_seen_at": now,
        "data": data,
    }
    session.save()


def test_an_old_activation_state_restarts_at_the_activation_page(
    client: Client, alice: InsuredPerson, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="esante.security")
    # At step 2, as the earlier code kept it: only the keys filled in so far.
    old = {
        "cgu_version": "2025-01",
        "cgu_accepted_at": timezone.now().isoformat(),
        "person_id": alice.pk,
        "letter_id": 1,
        "matricule": alice.matricule,
        "reactivation": False,
    }
    store_old_state(client, "activation", old, reached=1)

    response = client.post(reverse("activation:password"), {"password1": "x"}, follow=True)

    assert response.redirect_chain[0][0] == reverse("portal:activation")
    assert response.status_code == 200
    assert "acceptez d'abord les Conditions Générales d'Utilisation" in page_text(response)
    assert "flow.out_of_order" not in caplog.text
    # Started again, it goes on as usual.
    started = client.post(reverse("activation:start"), {"accept_cgu": "on"})
    assert client.get(started["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("flow", "url_name", "old", "entry"),
    [
        (
            "login",
            "patient:login_code",
            {"account_id": "12", "next": None, "otp_id": 5},
            "patient:login",
        ),
        (
            "recovery",
            "patient:recovery_code",
            {"account_id": None, "matricule": "1980", "decoy": {"sent_at": 0, "failures": 0}},
            "patient:recovery",
        ),
    ],
)
def test_an_old_state_before_login_restarts_at_the_entry_page(
    client: Client, flow: str, url_name: str, old: dict[str, Any], entry: str
) -> None:
    store_old_state(client, flow, old)

    response = client.get(reverse(url_name), follow=True)

    assert response.redirect_chain[0][0] == reverse(entry)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("flow", "url_name", "old", "entry"),
    [
        (
            "password_change",
            "patient:password_code",
            {"account_id": 0, "password_hash": "argon2$…", "otp_id": 1},
            "patient:password",
        ),
        (
            "contact_change",
            "patient:contact_code",
            {"account_id": 0, "channel": "sms", "destination": "+352621000000", "otp_id": 1},
            "patient:contact",
        ),
        ("step_up", "patient:step_up_code", {"account_id": 0, "otp_id": "1"}, "patient:step_up"),
    ],
)
def test_an_old_state_in_mon_compte_restarts_at_the_entry_page(
    client: Client,
    alice: InsuredPerson,
    flow: str,
    url_name: str,
    old: dict[str, Any],
    entry: str,
) -> None:
    activate(Client(), alice, EMAIL)
    account = Account.objects.get(person=alice)
    log_in(client, account)
    store_old_state(client, flow, {**old, "account_id": account.pk})

    response = client.post(reverse(url_name), {"code": "123456"})

    assert response.status_code == 302
    assert response["Location"] == reverse(entry)
