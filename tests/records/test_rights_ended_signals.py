"""The majority review, which logs out everyone else on the account (a parent on the
child's account), tells the apps above (accounts.signals.patient_sessions_ended)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account, PatientSession
from esante.accounts.signals import patient_sessions_ended
from esante.records.actions import add_assistant
from esante.records.majority import coming_of_age
from esante.records.models import Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import activate
from tests.factories import make_person
from tests.receiving import received
from tests.records.test_coming_of_age import BIRTH, log_in, on

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(alice: InsuredPerson, bob: InsuredPerson) -> tuple[InsuredPerson, CareRecord]:
    """Léa, 17, whose account her parents activated; Alice and Bob are her assistants."""
    lea = make_person("Léa", "Martin", BIRTH, sex="F")
    with on("2026-10-01"):
        activate(Client(), lea, "parents@example.lu")
        record = CareRecord.objects.get(person=lea)
        for parent, email, role in (
            (alice, "alice@example.lu", "Mère"),
            (bob, "bob@example.lu", "Père"),
        ):
            activate(Client(), parent, email)
            add_assistant(
                record, parent, role=role, actor=lea, capacity=Capacity.OWNER, ip_address=None
            )
    return lea, record


def test_the_majority_review_logs_out_the_accounts_other_sessions(
    family: tuple[InsuredPerson, CareRecord],
) -> None:
    lea, _record = family
    with on("2026-12-20"):
        coming_of_age()
    with on("2026-12-22"):
        log_in(lea, "parents@example.lu")  # the parent, on the child's account
        parents = PatientSession.objects.latest("pk")
        client = log_in(lea, "parents@example.lu")
        with received(patient_sessions_ended) as sent:
            done = client.post(
                reverse("records:majority"),
                {
                    "password1": "Mon propre secret 2026",
                    "password2": "Mon propre secret 2026",
                    "channel": "keep",
                },
            )

    assert done.status_code == 302
    assert sent == [
        {
            "sender": PatientSession,
            "account": Account.objects.get(person=lea),
            "session_ids": [parents.pk],
            "reason": "majority_review",
        }
    ]
