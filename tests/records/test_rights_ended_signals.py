"""When an assistant's rights on a record end, the apps above hear it
(records.signals.assistant_rights_ended: the record, the assistant's account, why): removed
by the holder, leaving of their own, ended at the holder's majority — one per assistant.
The majority review, which logs out everyone else on the account, tells it too
(accounts.signals.patient_sessions_ended)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account, PatientSession
from esante.accounts.signals import patient_sessions_ended
from esante.records.actions import add_assistant
from esante.records.majority import coming_of_age
from esante.records.models import Assistant, Capacity, CareRecord
from esante.records.signals import assistant_rights_ended
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import activate
from tests.factories import make_person
from tests.receiving import received
from tests.records.test_assistants import add_assistant as add_by_the_panel
from tests.records.test_coming_of_age import BIRTH, log_in, on

pytestmark = pytest.mark.django_db


def removal(client: Client, row: Assistant) -> None:
    url = reverse("records:assistant_remove", args=[row.record.public_id, row.pk])
    assert client.post(url).status_code == 302


def rights_ended(record: CareRecord, assistant: InsuredPerson, reason: str) -> dict[str, object]:
    return {
        "sender": Assistant,
        "record": record,
        "assistant": Account.objects.get(person=assistant),
        "reason": reason,
    }


def test_an_assistant_removed_by_the_holder(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    add_by_the_panel(alice_client, record, bob)

    with received(assistant_rights_ended) as sent:
        removal(alice_client, Assistant.objects.get())

    assert sent == [rights_ended(record, bob, "removed")]


def test_an_assistant_who_leaves(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    add_by_the_panel(alice_client, record, bob)

    with received(assistant_rights_ended) as sent:
        removal(bob_client, Assistant.objects.get())

    assert sent == [rights_ended(record, bob, "removed")]


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


def test_the_rights_of_each_assistant_end_at_majority(
    family: tuple[InsuredPerson, CareRecord], alice: InsuredPerson, bob: InsuredPerson
) -> None:
    _lea, record = family

    with received(assistant_rights_ended) as sent:
        with on("2026-12-19"):
            coming_of_age()
        with on("2026-12-20", hour=0):
            coming_of_age()
            coming_of_age()  # run twice: ended once

    assert sent == [rights_ended(record, alice, "majority"), rights_ended(record, bob, "majority")]


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
