"""Issue 17 with issue 13's item 4 (docs/security.md 7.5.1): giving a health professional
access to a DSP, choosing the médecin référent and naming professionals for a Restreint
document open documents to someone, so a session taken over — even with the password —
cannot do them without a fresh second factor. Right after the login nothing more is
asked. Taking access away (ending, blocking, refusing emergency access) never asks."""

from __future__ import annotations

import datetime
from urllib.parse import quote

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.professionals.models import Profession, Professional
from esante.records.access import professional_access
from esante.records.models import (
    CareRecord,
    CareRelationship,
    Category,
    Confidentiality,
    Document,
    ProfessionalBlock,
    RelationshipOrigin,
)
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, step_up
from tests.records.conftest import logged_in

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(minutes=11)


@pytest.fixture
def paul(db: None) -> Professional:
    return Professional.objects.create(
        national_code="10381524",
        first_name="Paul",
        last_name="Reding",
        profession=Profession.PHYSICIAN,
        address_line1="12, rue de Strasbourg",
        postal_code="L-2560",
        locality="Luxembourg",
    )


@pytest.fixture
def alice_client(alice: InsuredPerson) -> Client:
    return logged_in(alice, EMAIL)


def step_up_page(next_url: str) -> str:
    return f"{reverse('patient:step_up')}?suivant={quote(next_url, safe='')}"


def test_a_stolen_session_cannot_grant_access_nor_choose_the_referent(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = CareRecord.objects.get(person=alice)
    grant = reverse("records:professional_grant", args=[record.public_id, paul.pk])
    referent = reverse("records:professional_referent", args=[record.public_id, paul.pk])

    with time_machine.travel(timezone.now() + LATER):
        answers = [
            alice_client.get(grant),
            alice_client.post(grant),
            alice_client.get(referent),
            alice_client.post(referent),
        ]

    assert [answer["Location"] for answer in answers] == [
        step_up_page(grant),
        step_up_page(grant),
        step_up_page(referent),
        step_up_page(referent),
    ]
    assert not CareRelationship.objects.exists()
    record.refresh_from_db()
    assert record.referent is None


def test_a_stolen_session_cannot_name_professionals_for_a_document(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = CareRecord.objects.get(person=alice)
    CareRelationship.objects.create(
        record=record,
        professional=paul,
        origin=RelationshipOrigin.GRANTED,
        granted_by=alice,
        ends_at=timezone.now() + datetime.timedelta(days=30),
    )
    document = Document.objects.create(
        record=record,
        category=Category.HOSPITAL,
        title="Compte rendu",
        author="Clinique",
        document_date=datetime.date(2026, 3, 2),
        stored_name="test/none",
        content_type="application/pdf",
        size=1,
        confidentiality=Confidentiality.RESTRICTED,
    )
    page = reverse("records:document", args=[record.public_id, document.public_id])
    named = reverse("records:named_professionals", args=[record.public_id, document.public_id])

    with time_machine.travel(timezone.now() + LATER):
        answer = alice_client.post(named, {"professionnels": [str(paul.pk)]})

    assert answer["Location"] == step_up_page(page + "#nommes")
    assert not document.named_professionals.exists()


def test_after_the_step_up_the_grant_goes_through(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = CareRecord.objects.get(person=alice)
    grant = reverse("records:professional_grant", args=[record.public_id, paul.pk])

    with time_machine.travel(timezone.now() + LATER):
        alice_client.get(grant)
        back = step_up(alice_client, back_to=grant)
        assert back["Location"] == grant
        assert alice_client.get(grant).status_code == 200  # the confirmation page
        alice_client.post(grant)

    assert professional_access(record, paul) is not None


def test_right_after_the_login_the_grant_asks_nothing_more(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = CareRecord.objects.get(person=alice)
    grant = reverse("records:professional_grant", args=[record.public_id, paul.pk])

    assert alice_client.get(grant).status_code == 200
    alice_client.post(grant)

    assert professional_access(record, paul) is not None


def test_taking_access_away_never_asks_for_a_second_factor(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = CareRecord.objects.get(person=alice)
    alice_client.post(reverse("records:professional_grant", args=[record.public_id, paul.pk]))
    relationship = CareRelationship.objects.get()
    args = [record.public_id]

    with time_machine.travel(timezone.now() + LATER):
        ended = alice_client.post(
            reverse("records:relationship_end", args=[*args, relationship.public_id])
        )
        blocked = alice_client.post(reverse("records:professional_block", args=[*args, paul.pk]))
        refused = alice_client.post(
            reverse("records:emergency_setting", args=args), {"refuser": "1"}
        )
        removed = alice_client.post(reverse("records:referent_remove", args=args))

    panel = reverse("records:professionals", args=args) + "#messages"
    assert [ended["Location"], blocked["Location"], refused["Location"], removed["Location"]] == [
        panel
    ] * 4
    assert ProfessionalBlock.objects.get().professional == paul
    record.refresh_from_db()
    assert record.refuses_emergency_access
