"""The professionals' access matrix through the API: the scenario of
tests/records/test_professional_access_matrix.py — nine professionals (the author, a
related one, the médecin référent, one named for the documents, an unrelated one, a
blocked one, one in an emergency, one whose relationship has expired, one made inactive)
against a Normal, a Restreint, a Très restreint, a masked, a replaced and a withdrawn
document — each through their practice software: the search, the read and the Binary
give exactly what the portal shows them, 0 leaks, and a refusal reads as a missing
resource (404)."""

from __future__ import annotations

import itertools

import pytest

from esante.professionals.models import Professional
from esante.records.models import AccessEntry, CareRecord, Document
from tests.fhir.conftest import (
    PDF,
    Api,
    ids,
    issue_token,
    not_found,
    practice_software,
    store_files,
    validated,
)
from tests.records.test_professional_access_matrix import EXPECTED, LEVELS, ROLES

pytestmark = pytest.mark.django_db

World = tuple[CareRecord, dict[str, Professional], dict[str, Document]]
# Every document of the scenario: the four levels, then the two no one is listed.
DOCUMENTS = (*LEVELS, "_replaced", "_withdrawn")


@pytest.fixture
def world(matrix_world: World) -> World:
    """The scenario (`matrix_world`, imported in tests/fhir/conftest.py), with each
    document's file in the storage (the Binary's bytes)."""
    store_files(*matrix_world[2].values())
    return matrix_world


def software_of(professional: Professional) -> Api:
    return Api(issue_token(practice_software(), professional=professional))


def seen_through_the_api(
    api: Api, record: CareRecord, docs: dict[str, Document]
) -> dict[str, set[str]]:
    """What the professional's software gets of each document: by search, read, Binary."""
    names = {str(doc.public_id): name for name, doc in docs.items()}
    response = api.get(f"DocumentReference?patient={record.public_id}")
    if response.status_code == 404:
        not_found(response)
        listed: set[str] = set()
    else:
        listed = {names[each] for each in ids(validated(response))}
    read, downloaded = set(), set()
    for name, doc in docs.items():
        response = api.get(f"DocumentReference/{doc.public_id}")
        if response.status_code == 200:
            assert validated(response)["id"] == str(doc.public_id)
            read.add(name)
        else:
            not_found(response)
        raw = api.get(f"Binary/{doc.public_id}", Accept="application/pdf")
        if raw.status_code == 200:
            assert b"".join(raw.streaming_content) == PDF
            downloaded.add(name)
        else:
            not_found(raw)
    return {"search": listed, "read": read, "binary": downloaded}


@pytest.mark.parametrize("role", ROLES)
def test_each_professionals_software_sees_exactly_what_the_rules_say(
    world: World, role: str
) -> None:
    record, pros, docs = world
    api = software_of(pros[role])
    expected = EXPECTED[role]

    seen = seen_through_the_api(api, record, docs)
    patient = api.get(f"Patient/{record.public_id}")

    allowed = expected or set()
    assert seen == {"search": allowed, "read": allowed, "binary": allowed}
    if expected is None:
        not_found(patient)
    else:
        assert validated(patient)["id"] == str(record.public_id)


def test_the_matrix_through_the_api_has_no_leak_in_numbers(world: World) -> None:
    """9 professionals × 6 documents × 3 ways (search, read, Binary): 162 cells, each
    answered exactly when allowed."""
    record, pros, docs = world
    leaks, misses = [], []
    for role in ROLES:
        seen = seen_through_the_api(software_of(pros[role]), record, docs)
        for name, way in itertools.product(DOCUMENTS, ("search", "read", "binary")):
            allowed = name in (EXPECTED[role] or set())
            if name in seen[way] and not allowed:
                leaks.append((role, name, way))
            if allowed and name not in seen[way]:
                misses.append((role, name, way))
    assert leaks == [] and misses == []


def test_the_binary_resource_follows_the_same_rules(world: World) -> None:
    _record, pros, docs = world
    api = software_of(pros["related"])

    validated(api.get(f"Binary/{docs['normal'].public_id}"))  # FHIR JSON asked for
    for name in ("restreint", "tres_restreint", "masque", "_replaced", "_withdrawn"):
        not_found(api.get(f"Binary/{docs[name].public_id}"))


def test_each_refusal_writes_no_journal_line(world: World) -> None:
    record, pros, docs = world
    before = AccessEntry.objects.filter(record=record).count()

    for role in ("unrelated", "blocked", "expired", "inactive"):
        seen_through_the_api(software_of(pros[role]), record, docs)

    assert AccessEntry.objects.filter(record=record).count() == before
