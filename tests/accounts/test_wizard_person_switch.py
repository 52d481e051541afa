"""Another person's letter (or identity provider) at step 1, once the wizard is further:
steps 2 and 3 are the previous person's, so they are to be done again for the new one."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account, OneTimeCode
from esante.notifications.models import OutboundMessage
from esante.registry.models import InsuredPerson
from tests.accounts.test_oidc import at_provider
from tests.accounts.wizard import (
    issue_letter,
    last_one_time_code,
    letter_code_of,
    reach_one_time_code_step,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db

ALICE_EMAIL = "alice@example.lu"
BOB_EMAIL = "bob@example.lu"


def assert_back_at_step_2_with_nothing_created(client: Client) -> None:
    """Steps 3 refuse to open, step 2 asks for a password again, and nothing is sent or
    created for the new person."""
    messages_before = OutboundMessage.objects.count()
    codes_before = OneTimeCode.objects.count()

    contact = submit_contact(client, "email", BOB_EMAIL)
    assert contact.status_code == 302
    assert contact["Location"] == reverse("activation:password")
    otp = submit_one_time_code(client, last_one_time_code(ALICE_EMAIL))
    assert otp.status_code == 302
    assert otp["Location"] == reverse("activation:password")

    assert not Account.objects.exists()
    assert OutboundMessage.objects.count() == messages_before
    assert OneTimeCode.objects.count() == codes_before
    step_2 = client.get(reverse("activation:password"))
    assert step_2.status_code == 200
    assert step_2.context["current_step"] == 2
    assert not step_2.context["has_password"]  # Alice's password is not offered to Bob


def test_another_letter_at_step_1_sends_the_wizard_back_to_step_2(
    client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    reach_one_time_code_step(client, alice, ALICE_EMAIL)
    bob_code = issue_letter(bob)
    assert client.get(reverse("activation:code")).status_code == 200  # step 1 stays open

    switched = submit_code(client, bob.matricule, bob_code)

    assert switched["Location"] == reverse("activation:password")
    assert_back_at_step_2_with_nothing_created(client)
    # and from there the wizard goes on for Bob as usual
    assert submit_password(client).status_code == 302
    assert submit_contact(client, "email", BOB_EMAIL)["Location"] == reverse("activation:otp")
    done = submit_one_time_code(client, last_one_time_code(BOB_EMAIL))
    assert done["Location"] == reverse("activation:authenticators")
    assert list(Account.objects.values_list("person", flat=True)) == [bob.pk]


def test_the_same_letter_again_keeps_the_progress(client: Client, alice: InsuredPerson) -> None:
    """Only a change of person goes back: the same letter typed again (a visitor checking
    step 1) leaves steps 2 and 3 done."""
    reach_one_time_code_step(client, alice, ALICE_EMAIL)
    code = letter_code_of(alice)

    again = submit_code(client, alice.matricule, code)

    assert again["Location"] == reverse("activation:password")
    assert client.get(reverse("activation:otp")).status_code == 200
    done = submit_one_time_code(client, last_one_time_code(ALICE_EMAIL))
    assert done["Location"] == reverse("activation:authenticators")


def test_another_person_through_the_provider_sends_the_wizard_back_to_step_2(
    client: Client, alice: InsuredPerson, bob: InsuredPerson, oidc_provider: OidcProvider
) -> None:
    reach_one_time_code_step(client, alice, ALICE_EMAIL)
    oidc_provider.add_user("bob-noletter", matricule=bob.matricule, acr="substantial")

    switched = at_provider(client, oidc_provider, "activation", "bob-noletter")

    assert switched["Location"] == reverse("activation:password")
    assert_back_at_step_2_with_nothing_created(client)
