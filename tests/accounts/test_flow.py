"""The wizard as a flow kept in the session: order, refresh, idle timeout."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import (
    last_one_time_code,
    page_text,
    reach_password_step,
    start,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)

pytestmark = pytest.mark.django_db

STEP_URLS = [
    "activation:code",
    "activation:password",
    "activation:contact",
    "activation:otp",
    "activation:authenticators",
    "activation:done",
]


@pytest.mark.parametrize("name", STEP_URLS)
def test_no_step_opens_without_the_cgu_accepted(client: Client, name: str) -> None:
    response = client.get(reverse(name), follow=True)

    assert response.redirect_chain[-1][0] == reverse("portal:activation")
    assert "acceptez d'abord les Conditions Générales d'Utilisation" in page_text(response)


@pytest.mark.parametrize("name", STEP_URLS[1:])
def test_no_step_opens_out_of_order(client: Client, name: str) -> None:
    start(client)

    response = client.get(reverse(name))

    assert response["Location"] == reverse("activation:code")


def test_a_post_to_a_later_step_changes_nothing(client: Client, alice: InsuredPerson) -> None:
    start(client)

    response = submit_password(client)

    assert response["Location"] == reverse("activation:code")


def test_refreshing_a_step_is_harmless(client: Client, alice: InsuredPerson) -> None:
    reach_password_step(client, alice)

    first = client.get(reverse("activation:password"))
    second = client.get(reverse("activation:password"))

    assert first.status_code == second.status_code == 200


def test_an_idle_wizard_restarts_at_step_1_with_the_letter_still_usable(
    client: Client, alice: InsuredPerson
) -> None:
    code = reach_password_step(client, alice)
    submit_password(client)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        response = client.get(reverse("activation:contact"), follow=True)
        assert response.redirect_chain[-1][0] == reverse("activation:code")
        assert "Après 30 minutes sans activité" in page_text(response)
        # The CGU accepted still hold; the letter is still usable.
        assert submit_code(client, alice.matricule, code)["Location"] == reverse(
            "activation:password"
        )
        submit_password(client)
        submit_contact(client, "email", "alice@example.lu")
        submit_one_time_code(client, last_one_time_code("alice@example.lu"))

    assert Account.objects.filter(person=alice).exists()


def test_activity_keeps_the_wizard_alive(client: Client, alice: InsuredPerson) -> None:
    reach_password_step(client, alice)
    now = timezone.now()

    for minutes in (20, 40, 60):
        with time_machine.travel(now + datetime.timedelta(minutes=minutes)):
            assert client.get(reverse("activation:password")).status_code == 200
