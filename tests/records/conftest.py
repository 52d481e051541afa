"""The records tests activate accounts as the activation tests do (same settings), and
log people in: alice holds the record under test, bob is her assistant in the tests that
add him, charlie is an outsider."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from esante.professionals.models import Professional
from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings
from tests.accounts.wizard import PASSWORD, activate, last_one_time_code
from tests.records.care_people import make_paul, make_sophie

__all__ = ["activation_settings", "logged_in"]


def logged_in(
    person: InsuredPerson, email: str, *, declare: bool = True, language: str = ""
) -> Client:
    """A client logged in as `person`, whose account is activated with `email` on pages in
    `language` (none: French), which the login gives the client's pages; an adult has
    answered the organ-donation question (asked at the first access)."""
    activating = Client()
    if language:
        activating.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    activate(activating, person, email)
    client = Client()
    client.post(reverse("patient:login"), {"matricule": person.matricule, "password": PASSWORD})
    done = client.post(reverse("patient:login_code"), {"code": last_one_time_code(email)})
    assert done["Location"] == reverse("patient:services")
    if declare and not person.is_minor:
        record = CareRecord.objects.get(person=person)
        client.post(
            reverse("records:organ_donation", args=[record.public_id]), {"refuses_removal": "0"}
        )
    return client


@pytest.fixture
def alice_client(alice: InsuredPerson) -> Client:
    return logged_in(alice, "alice@example.lu")


@pytest.fixture
def bob_client(bob: InsuredPerson) -> Client:
    return logged_in(bob, "bob@example.lu")


@pytest.fixture
def charlie_client(charlie: InsuredPerson) -> Client:
    return logged_in(charlie, "charlie@example.lu", declare=False)


@pytest.fixture
def paul(db: None) -> Professional:
    """A physician, Paul Reding, in Luxembourg."""
    return make_paul()


@pytest.fixture
def sophie(db: None) -> Professional:
    """A nurse, Sophie Müller, in Esch-sur-Alzette."""
    return make_sophie()
