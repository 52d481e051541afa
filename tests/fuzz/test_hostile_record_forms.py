"""Hostile input in the DSP's forms about health professionals (issue 17), posted by a
logged-in holder: *Mes professionnels* (the register search, grant, block, unblock, the
médecin référent, the end of a relationship, emergency access), a document's level and
named professionals, the journal's filter. No server error, no markup typed reflected."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from esante import ratelimit
from esante.professionals.models import Profession, Professional
from esante.records.models import (
    CareRecord,
    CareRelationship,
    Category,
    Confidentiality,
    Document,
    RelationshipOrigin,
)
from esante.registry.models import InsuredPerson
from tests.fuzz.hostile import Value, assert_safe, form, fuzz_settings, hostile_text
from tests.records.conftest import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Alice logged in (her second factor fresh for the whole run), Paul related to her
    record, a Restreint document; the search's limit out of the way (a 429 is safe, but
    would stop the inputs before the form)."""
    unlimited = (
        ratelimit.Rule("ip", 10**9, ratelimit.HOUR),
        ratelimit.Rule("key", 10**9, ratelimit.DAY),
    )
    monkeypatch.setitem(ratelimit.RATE_LIMITS, "professional.search", unlimited)
    client = logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    paul = Professional.objects.create(
        national_code="10381524",
        first_name="Paul",
        last_name="Reding",
        profession=Profession.PHYSICIAN,
        address_line1="12, rue de Strasbourg",
        postal_code="L-2560",
        locality="Luxembourg",
    )
    relationship = CareRelationship.objects.create(
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
        author_confidentiality=Confidentiality.RESTRICTED,
    )
    return {
        "client": client,
        "record": record.public_id,
        "paul": paul.pk,
        "relationship": relationship.public_id,
        "document": document.public_id,
    }


def at(holder: dict[str, Any], name: str, *args: Any) -> str:
    return reverse(f"records:{name}", args=[holder["record"], *args])


some_ids = st.one_of(st.sampled_from(["1", "2", "999999"]), hostile_text)


@fuzz_settings("professional_search")
@given(form({"nom": hostile_text, "localite": hostile_text, "pour": hostile_text}))
def test_professional_search(holder: dict[str, Any], data: dict[str, Value]) -> None:
    client: Client = holder["client"]
    assert_safe(client.get(at(holder, "professional_search"), data), data)


@fuzz_settings("professional_actions")
@given(
    st.sampled_from(
        [
            "professional_grant",
            "professional_block",
            "professional_unblock",
            "professional_referent",
            "referent_remove",
            "relationship_end",
            "emergency_setting",
        ]
    ),
    form({"refuser": st.one_of(st.sampled_from(["0", "1"]), hostile_text)}),
)
def test_professional_actions(holder: dict[str, Any], name: str, data: dict[str, Value]) -> None:
    client: Client = holder["client"]
    if name in ("referent_remove", "emergency_setting"):
        address = at(holder, name)
    elif name == "relationship_end":
        address = at(holder, name, holder["relationship"])
    else:
        address = at(holder, name, holder["paul"])
    assert_safe(client.post(address, data), data)


@fuzz_settings("document_professionals")
@given(
    form(
        {
            "professionnels": some_ids,
            "confidentiality": st.one_of(st.sampled_from(["N", "R", "V"]), hostile_text),
        }
    ),
    st.sampled_from(["named_professionals", "confidentiality"]),
)
def test_document_level_and_named_professionals(
    holder: dict[str, Any], data: dict[str, Value], name: str
) -> None:
    client: Client = holder["client"]
    assert_safe(client.post(at(holder, name, holder["document"]), data), data)


@fuzz_settings("journal_filter")
@given(form({"professionnel": some_ids, "page": hostile_text}))
def test_journal_filter(holder: dict[str, Any], data: dict[str, Value]) -> None:
    client: Client = holder["client"]
    assert_safe(client.get(at(holder, "journal"), data), data)
