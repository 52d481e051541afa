"""DocumentReference read, and its bytes as Binary: what a document says of itself (its
category, author, dates, confidentiality as `securityLabel`, the version it replaces), and
its file — the raw bytes by default, a Binary resource when FHIR JSON is asked for."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.utils import timezone

from esante.fhir.resources import CONFIDENTIALITY_SYSTEM, code_system_url
from esante.professionals.models import Professional
from esante.records.models import CareRecord, Category, Confidentiality, Document
from tests.fhir.conftest import (
    PDF,
    Api,
    fhir_base,
    ids,
    not_found,
    stored_document,
    validated,
)

pytestmark = pytest.mark.django_db


def test_a_document_reads_as_a_document_reference(
    alice_api: Api, alice_record: CareRecord, paul: Professional
) -> None:
    document = stored_document(
        alice_record,
        "Bilan sanguin",
        professional=paul,
        category=Category.LABORATORY,
        document_date=datetime.date(2025, 3, 4),
    )

    response = alice_api.get(f"DocumentReference/{document.public_id}")
    resource = validated(response)

    assert resource["id"] == str(document.public_id)
    assert resource["status"] == "current"
    assert resource["type"]["coding"] == [
        {"system": "http://loinc.org", "code": "11502-2", "display": "Laboratory report"}
    ]
    assert resource["category"][0]["coding"][0] == {
        "system": code_system_url("document-category"),
        "code": "laboratory",
        "display": "Résultats de laboratoire",
    }
    assert resource["subject"] == {"reference": f"Patient/{alice_record.public_id}"}
    assert resource["author"] == [
        {"reference": f"Practitioner/{paul.public_id}", "display": paul.full_name}
    ]
    assert resource["description"] == "Bilan sanguin"
    attachment = resource["content"][0]["attachment"]
    assert attachment == {
        "contentType": "application/pdf",
        "url": f"{fhir_base()}/Binary/{document.public_id}",
        "size": len(PDF),
        "title": "Bilan sanguin",
        "creation": "2025-03-04",
    }
    assert resource["context"] == {"period": {"start": "2025-03-04"}}
    assert datetime.datetime.fromisoformat(resource["date"]) == document.added_at
    assert "relatesTo" not in resource
    assert response["ETag"] == f'W/"{resource["meta"]["versionId"]}"'


def test_an_author_outside_the_register_is_a_display(
    alice_api: Api, alice_record: CareRecord
) -> None:
    document = stored_document(alice_record, category=Category.PATIENT)

    resource = validated(alice_api.get(f"DocumentReference/{document.public_id}"))

    assert resource["author"] == [{"display": "Laboratoire Ketterthill"}]
    assert "type" not in resource  # no LOINC code says what the patient's own papers are


@pytest.mark.parametrize(
    ("level", "display"),
    [
        (Confidentiality.NORMAL, "normal"),
        (Confidentiality.RESTRICTED, "restricted"),
        (Confidentiality.VERY_RESTRICTED, "very restricted"),
    ],
)
def test_the_confidentiality_level_is_the_security_label(
    alice_api: Api, alice_record: CareRecord, level: Confidentiality, display: str
) -> None:
    document = stored_document(alice_record, confidentiality=level)

    resource = validated(alice_api.get(f"DocumentReference/{document.public_id}"))

    label = {"system": CONFIDENTIALITY_SYSTEM, "code": level.value, "display": display}
    assert resource["securityLabel"] == [{"coding": [label]}]
    assert resource["meta"]["security"] == [label]


def test_a_new_version_replaces_the_old_one(
    alice_api: Api, alice_record: CareRecord, paul: Professional
) -> None:
    now = timezone.now()
    old = stored_document(alice_record, "Version 1", professional=paul, superseded_at=now)
    new = stored_document(alice_record, "Version 2", professional=paul, previous=old)

    listed = validated(alice_api.get("DocumentReference"))
    resource = validated(alice_api.get(f"DocumentReference/{new.public_id}"))
    replaced = validated(alice_api.get(f"DocumentReference/{old.public_id}"))

    assert ids(listed) == {str(new.public_id)}
    assert resource["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{old.public_id}"}}
    ]
    # The holder still reads the old version (the portal lists the versions), superseded.
    assert replaced["status"] == "superseded"


def test_a_withdrawn_or_unknown_document_is_not_found(
    alice_api: Api, alice_record: CareRecord, paul: Professional
) -> None:
    gone = stored_document(alice_record, professional=paul, withdrawn_at=timezone.now())

    not_found(alice_api.get(f"DocumentReference/{gone.public_id}"))
    not_found(alice_api.get(f"Binary/{gone.public_id}"))
    not_found(alice_api.get("DocumentReference/8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"))
    not_found(alice_api.get("DocumentReference/12"))


# Binary ------------------------------------------------------------------------------------


@pytest.fixture
def document(alice_record: CareRecord) -> Document:
    return stored_document(alice_record, "Radio du genou", category=Category.IMAGING)


@pytest.mark.parametrize("accept", ["*/*", "application/pdf", ""])
def test_the_binary_is_the_file_itself_by_default(
    alice_api: Api, document: Document, accept: str
) -> None:
    response = alice_api.get(f"Binary/{document.public_id}", Accept=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("accept", "query"),
    [
        ("application/fhir+json", ""),
        ("application/json", ""),
        ("*/*", "?_format=json"),
        ("*/*", "?_format=application/fhir%2Bjson"),
    ],
)
def test_the_binary_is_a_resource_when_fhir_json_is_asked_for(
    alice_api: Api, document: Document, accept: str, query: str
) -> None:
    response = alice_api.get(f"Binary/{document.public_id}{query}", Accept=accept)
    resource = validated(response)

    assert resource["resourceType"] == "Binary"
    assert resource["id"] == str(document.public_id)
    assert resource["contentType"] == "application/pdf"
    assert base64.b64decode(resource["data"]) == PDF
    assert response["ETag"] == f'W/"{resource["meta"]["versionId"]}"'


def test_a_binary_whose_file_is_missing_is_not_found(
    alice_api: Api, alice_record: CareRecord, document: Document
) -> None:
    Document.objects.filter(pk=document.pk).update(stored_name="ab/missing")

    not_found(alice_api.get(f"Binary/{document.public_id}"))
    not_found(alice_api.get(f"Binary/{document.public_id}", Accept="*/*"))


def test_a_binary_is_read_by_id_only(alice_api: Api) -> None:
    response = alice_api.get("Binary")

    assert response.status_code == 405
    validated(response, 405)
