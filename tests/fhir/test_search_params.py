"""DocumentReference's search parameters, each against the same four documents of alice's
record: `patient`, `category` (with and without its system), `date` (when the document
was added, with every prefix and precision), `period` (the document's own date), `author`
and `status`. Every answer is a searchset both FHIR libraries accept."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

import pytest

from esante.fhir.resources import code_system_url
from esante.professionals.models import Professional
from esante.records.models import CareRecord, Category, Document
from tests.fhir.conftest import Api, fhir_base, ids, refused, stored_document, validated
from tests.records.care_people import make_sophie

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
CATEGORIES = code_system_url("document-category")


@pytest.fixture
def docs(alice_record: CareRecord, paul: Professional) -> dict[str, Document]:
    """d1 … d4: added (`date`) and dated (`period`) in order, of three categories, two by
    paul, one by sophie, one from a laboratory outside the register."""
    sophie = make_sophie()

    def doc(name: str, added: datetime.datetime, dated: datetime.date, **fields: Any) -> Document:
        return stored_document(alice_record, name, added_at=added, document_date=dated, **fields)

    return {
        "d1": doc(
            "d1",
            datetime.datetime(2024, 6, 15, 12, tzinfo=UTC),
            datetime.date(2024, 6, 10),
            category=Category.LABORATORY,
            professional=paul,
        ),
        "d2": doc(
            "d2",
            datetime.datetime(2025, 1, 15, 12, tzinfo=UTC),
            datetime.date(2025, 1, 14),
            category=Category.HOSPITAL,
            professional=sophie,
        ),
        "d3": doc(
            "d3",
            datetime.datetime(2025, 1, 31, 12, tzinfo=UTC),
            datetime.date(2025, 1, 31),
            category=Category.IMAGING,
        ),
        "d4": doc(
            "d4",
            datetime.datetime(2025, 2, 1, 12, tzinfo=UTC),
            datetime.date(2025, 2, 1),
            category=Category.LABORATORY,
            professional=paul,
        ),
    }


def found(api: Api, query: str, docs: dict[str, Document]) -> set[str]:
    """The names of the documents `DocumentReference?<query>` finds."""
    bundle = validated(api.get(f"DocumentReference?{query}"))
    names = {str(doc.public_id): name for name, doc in docs.items()}
    assert bundle["total"] == len(bundle["entry"])
    return {names[each] for each in ids(bundle)}


def test_without_parameters_a_patient_app_finds_every_document(
    alice_api: Api, docs: dict[str, Document]
) -> None:
    assert found(alice_api, "", docs) == {"d1", "d2", "d3", "d4"}


def test_the_patient_parameter_takes_a_reference_a_bare_id_or_an_absolute_url(
    alice_api: Api, alice_record: CareRecord, docs: dict[str, Document]
) -> None:
    public_id = alice_record.public_id
    for value in (
        f"Patient/{public_id}",
        str(public_id),
        quote(f"http://testserver/fhir/Patient/{public_id}", safe=""),
    ):
        assert found(alice_api, f"patient={value}", docs) == {"d1", "d2", "d3", "d4"}
    refused(alice_api.get(f"DocumentReference?patient=Practitioner/{public_id}"), 400, "invalid")


def test_a_professional_names_the_patient(
    paul_api: Api, alice_record: CareRecord, docs: dict[str, Document]
) -> None:
    assert found(paul_api, f"patient={alice_record.public_id}", docs) == {"d1", "d2", "d3", "d4"}
    refused(paul_api.get("DocumentReference"), 400, "invalid")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=laboratory", {"d1", "d4"}),
        (f"category={quote(CATEGORIES)}|laboratory", {"d1", "d4"}),
        ("category=laboratory,imaging", {"d1", "d3", "d4"}),
        (f"category={quote(CATEGORIES)}|hospital,imaging", {"d2", "d3"}),
        ("category=laboratory&category=imaging", set()),  # two parameters: AND
        ("category=http://loinc.org|laboratory", set()),  # another system
        ("category=vaccination", set()),
    ],
)
def test_category(
    alice_api: Api, docs: dict[str, Document], query: str, expected: set[str]
) -> None:
    assert found(alice_api, query, docs) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date=2025", {"d2", "d3", "d4"}),
        ("date=2025-01", {"d2", "d3"}),
        ("date=2025-01-15", {"d2"}),
        ("date=eq2025-01-15", {"d2"}),
        ("date=ne2025-01", {"d1", "d4"}),
        ("date=lt2025-01-15", {"d1"}),
        ("date=le2025-01-15", {"d1", "d2"}),
        ("date=gt2025-01-15", {"d3", "d4"}),
        ("date=ge2025-01-15", {"d2", "d3", "d4"}),
        ("date=ge2025-01&date=lt2025-02", {"d2", "d3"}),  # two parameters: AND
        ("date=lt2025-01-15,gt2025-01-31", {"d1", "d4"}),  # a comma: OR
        ("date=2025-01-15T12:00:00Z", {"d2"}),
        ("date=2025-01-15T13:00:00%2B01:00", {"d2"}),  # the same instant in Luxembourg
        ("date=gt2025-01-15T12:00:00Z", {"d3", "d4"}),
        ("date=le2025-01-15T11:59:59Z", {"d1"}),
        ("date=2025-01-15T12:00Z", {"d2"}),
        ("date=2023", set()),
    ],
)
def test_date_is_when_the_document_was_added(
    alice_api: Api, docs: dict[str, Document], query: str, expected: set[str]
) -> None:
    assert found(alice_api, query, docs) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("period=2025-01-31", {"d3"}),
        ("period=2025-01", {"d2", "d3"}),
        ("period=2024", {"d1"}),
        ("period=ge2025-01-14", {"d2", "d3", "d4"}),
        ("period=gt2025-01-14", {"d3", "d4"}),
        ("period=lt2025-01-14", {"d1"}),
        ("period=le2025-01-31", {"d1", "d2", "d3"}),
        ("period=ne2025-01-31", {"d1", "d2", "d4"}),
        ("period=2025-01-14T10:00:00Z", {"d2"}),
    ],
)
def test_period_is_the_documents_own_date(
    alice_api: Api, docs: dict[str, Document], query: str, expected: set[str]
) -> None:
    assert found(alice_api, query, docs) == expected


def test_author_is_a_practitioner_reference(
    alice_api: Api, docs: dict[str, Document], paul: Professional
) -> None:
    sophie = docs["d2"].professional
    assert sophie is not None
    assert found(alice_api, f"author=Practitioner/{paul.public_id}", docs) == {"d1", "d4"}
    assert found(alice_api, f"author={paul.public_id}", docs) == {"d1", "d4"}
    both = f"author=Practitioner/{paul.public_id},Practitioner/{sophie.public_id}"
    assert found(alice_api, both, docs) == {"d1", "d2", "d4"}
    assert found(alice_api, "author=Practitioner/8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00", docs) == (
        set()
    )
    refused(alice_api.get(f"DocumentReference?author=Patient/{paul.public_id}"), 400, "invalid")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=current", {"d1", "d2", "d3", "d4"}),
        ("status=http://hl7.org/fhir/document-reference-status|current", {"d1", "d2", "d3", "d4"}),
        ("status=superseded", set()),
        ("status=entered-in-error", set()),
        ("status=superseded,current", {"d1", "d2", "d3", "d4"}),
    ],
)
def test_status_lists_the_current_versions_only(
    alice_api: Api, docs: dict[str, Document], query: str, expected: set[str]
) -> None:
    assert found(alice_api, query, docs) == expected


def test_parameters_combine(alice_api: Api, docs: dict[str, Document], paul: Professional) -> None:
    query = f"category=laboratory&author={paul.public_id}&date=ge2025&status=current"
    assert found(alice_api, query, docs) == {"d4"}


def test_the_searchset_names_each_match_at_its_full_url(
    alice_api: Api, docs: dict[str, Document]
) -> None:
    bundle = validated(alice_api.get("DocumentReference?category=imaging"))

    (entry,) = bundle["entry"]
    assert entry["fullUrl"] == f"{fhir_base()}/DocumentReference/{docs['d3'].public_id}"
    assert entry["search"] == {"mode": "match"}
    # Newest document first (its own date).
    everything = validated(alice_api.get("DocumentReference"))
    order = [entry["resource"]["description"] for entry in everything["entry"]]
    assert order == ["d4", "d3", "d2", "d1"]
