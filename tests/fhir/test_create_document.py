"""Practice software writes a document into a record (DocumentReference create): a PDF in
`content[0].attachment.data`, written, journaled and audited as the portal's upload; a
new version of the professional's own document with `relatesTo` `replaces` (scope
`user/DocumentReference.u` too). Refused: during the record's objection period, without
access, blocked, from a patient app."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import pytest
from django.utils import timezone

from esante import ratelimit
from esante.audit.models import AuditEvent, EventType
from esante.fhir.resources import CONFIDENTIALITY_SYSTEM, code_system_url
from esante.professionals.models import Professional
from esante.records import documents
from esante.records.actions import ensure_care_record
from esante.records.care import block_professional
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Capacity,
    CareRecord,
    Category,
    Confidentiality,
    Document,
)
from esante.registry.models import InsuredPerson
from tests.factories import make_person
from tests.fhir.conftest import (
    PDF,
    Api,
    fhir_base,
    issue_token,
    not_found,
    practice_software,
    refused,
    stored_document,
    validated,
)
from tests.records.care_people import make_sophie

pytestmark = pytest.mark.django_db


def document_reference(record: CareRecord, *, data: bytes = PDF, **changes: Any) -> dict[str, Any]:
    """A DocumentReference as practice software sends it; `changes` replace its elements
    (None removes one)."""
    body: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "category": [
            {"coding": [{"system": code_system_url("document-category"), "code": "laboratory"}]}
        ],
        "subject": {"reference": f"Patient/{record.public_id}"},
        "description": "Bilan sanguin",
        "securityLabel": [{"coding": [{"system": CONFIDENTIALITY_SYSTEM, "code": "N"}]}],
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "data": base64.b64encode(data).decode(),
                }
            }
        ],
        "context": {"period": {"start": "2025-03-04"}},
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def test_a_pdf_is_written_into_the_record(
    paul_api: Api, paul: Professional, alice_record: CareRecord
) -> None:
    response = paul_api.post("DocumentReference", document_reference(alice_record))
    resource = validated(response, 201)

    document = Document.objects.get(public_id=resource["id"])
    assert response["Location"] == f"{fhir_base()}/DocumentReference/{document.public_id}"
    assert response["ETag"] == f'W/"{resource["meta"]["versionId"]}"'
    assert (document.record, document.professional, document.author) == (
        alice_record,
        paul,
        paul.full_name,
    )
    assert document.category == Category.LABORATORY
    assert document.title == "Bilan sanguin"
    assert document.document_date == datetime.date(2025, 3, 4)
    assert document.confidentiality == document.author_confidentiality == Confidentiality.NORMAL
    assert (document.content_type, document.size) == ("application/pdf", len(PDF))
    with documents.storage().open(document.stored_name, "rb") as handle:
        assert handle.read() == PDF
    assert resource["author"][0]["reference"] == f"Practitioner/{paul.public_id}"
    # What the software reads back is what it wrote.
    raw = paul_api.get(f"Binary/{document.public_id}", Accept="application/pdf")
    assert b"".join(raw.streaming_content) == PDF


def test_the_write_is_journaled_and_audited_as_the_portals_upload(
    paul_api: Api, paul: Professional, alice_record: CareRecord
) -> None:
    resource = validated(paul_api.post("DocumentReference", document_reference(alice_record)), 201)

    line = AccessEntry.objects.filter(record=alice_record).order_by("-pk").first()
    assert line is not None
    assert (line.action, line.capacity, line.professional, line.actor, line.target) == (
        AccessAction.UPLOAD,
        Capacity.CARE,
        paul,
        None,
        "Bilan sanguin",
    )
    event = AuditEvent.objects.filter(event_type=EventType.RECORD_CHANGED).latest("pk")
    assert event.actor == f"professional:{paul.pk}"
    assert event.person_id == alice_record.person_id
    assert event.details == {
        "action": "upload",
        "capacity": "care",
        "document": resource["id"],
    }


@pytest.mark.parametrize(("code", "level"), [("R", "R"), ("V", "V")])
def test_the_security_label_is_the_level_the_author_sets(
    paul_api: Api, alice_record: CareRecord, code: str, level: str
) -> None:
    body = document_reference(
        alice_record,
        securityLabel=[{"coding": [{"system": CONFIDENTIALITY_SYSTEM, "code": code}]}],
    )

    resource = validated(paul_api.post("DocumentReference", body), 201)

    document = Document.objects.get(public_id=resource["id"])
    assert document.confidentiality == document.author_confidentiality == level


def test_return_minimal_answers_without_a_body(paul_api: Api, alice_record: CareRecord) -> None:
    response = paul_api.post(
        "DocumentReference", document_reference(alice_record), Prefer="return=minimal"
    )

    assert response.status_code == 201
    assert response.content == b""
    document = Document.objects.get()
    assert response["Location"].endswith(f"/DocumentReference/{document.public_id}")
    assert response["ETag"].startswith('W/"')


# A new version ----------------------------------------------------------------------------


@pytest.fixture
def own(alice_record: CareRecord, paul: Professional) -> Document:
    return stored_document(alice_record, "Version 1", professional=paul, category=Category.IMAGING)


def test_relates_to_replaces_the_professionals_own_document(
    paul_api: Api, alice_record: CareRecord, own: Document
) -> None:
    body = document_reference(
        alice_record,
        description="Version 2",
        relatesTo=[
            {"code": "replaces", "target": {"reference": f"DocumentReference/{own.public_id}"}}
        ],
    )

    resource = validated(paul_api.post("DocumentReference", body), 201)

    new = Document.objects.get(public_id=resource["id"])
    own.refresh_from_db()
    assert own.superseded_at is not None
    assert new.previous == own
    assert new.category == Category.IMAGING  # the category stays the old version's
    assert resource["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{own.public_id}"}}
    ]
    line = AccessEntry.objects.filter(record=alice_record).order_by("-pk").first()
    assert line is not None and line.action == AccessAction.REPLACE_DOCUMENT
    not_found(paul_api.get(f"DocumentReference/{own.public_id}"))  # listed to no one


def test_replacing_needs_the_update_scope(
    paul: Professional, alice_record: CareRecord, paul_api: Api, own: Document
) -> None:
    software = practice_software(scopes=["openid", "user/*.rs", "user/DocumentReference.c"])
    api = Api(issue_token(software, professional=paul))
    relates = [{"code": "replaces", "target": {"reference": f"DocumentReference/{own.public_id}"}}]

    response = api.post("DocumentReference", document_reference(alice_record, relatesTo=relates))

    refused(response, 403, "forbidden")
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    validated(api.post("DocumentReference", document_reference(alice_record)), 201)
    own.refresh_from_db()
    assert own.superseded_at is None


def test_only_the_author_replaces_a_document(paul_api: Api, alice_record: CareRecord) -> None:
    theirs = stored_document(alice_record, professional=make_sophie())
    relates = [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{theirs.public_id}"}}
    ]

    response = paul_api.post(
        "DocumentReference", document_reference(alice_record, relatesTo=relates)
    )

    refused(response, 422, "business-rule")
    assert Document.objects.count() == 1


@pytest.mark.parametrize("how", ["replaced", "withdrawn", "unknown", "other_record"])
def test_a_version_of_what_the_professional_cannot_see_is_not_found(
    paul_api: Api, alice_record: CareRecord, paul: Professional, own: Document, how: str
) -> None:
    target = own
    if how == "replaced":
        Document.objects.filter(pk=own.pk).update(superseded_at=timezone.now())
    elif how == "withdrawn":
        Document.objects.filter(pk=own.pk).update(withdrawn_at=timezone.now())
    elif how == "other_record":
        target = stored_document(
            ensure_care_record(make_person("Bob", "Muller")), professional=paul
        )
    reference = (
        "DocumentReference/8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"
        if how == "unknown"
        else f"DocumentReference/{target.public_id}"
    )
    relates = [{"code": "replaces", "target": {"reference": reference}}]

    not_found(
        paul_api.post("DocumentReference", document_reference(alice_record, relatesTo=relates))
    )


# Refusals -----------------------------------------------------------------------------------


def test_nothing_is_written_during_the_objection_period(
    paul_api: Api, alice_record: CareRecord
) -> None:
    CareRecord.objects.filter(pk=alice_record.pk).update(
        objection_until=timezone.now() + datetime.timedelta(days=10)
    )

    issue = refused(
        paul_api.post("DocumentReference", document_reference(alice_record)), 422, "business-rule"
    )

    assert "s'opposer" in issue["diagnostics"]
    assert not Document.objects.exists()


def test_a_professional_without_access_writes_nothing(alice_record: CareRecord) -> None:
    api = Api(issue_token(practice_software(), professional=make_sophie()))

    not_found(api.post("DocumentReference", document_reference(alice_record)))
    assert not Document.objects.exists()


def test_a_blocked_professional_writes_nothing(
    paul_api: Api, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    block_professional(alice_record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None)

    not_found(paul_api.post("DocumentReference", document_reference(alice_record)))
    assert not Document.objects.exists()


def test_a_patient_app_cannot_write(alice_api: Api, alice_record: CareRecord) -> None:
    refused(alice_api.post("DocumentReference", document_reference(alice_record)), 403, "forbidden")
    assert not Document.objects.exists()


def test_writes_are_rate_limited_per_professional_as_on_the_portal(
    monkeypatch: pytest.MonkeyPatch, paul_api: Api, alice_record: CareRecord
) -> None:
    monkeypatch.setitem(
        ratelimit.RATE_LIMITS,
        "document.upload",
        (ratelimit.Rule("key", 2, ratelimit.DAY),),
    )
    for _ in range(2):
        validated(paul_api.post("DocumentReference", document_reference(alice_record)), 201)

    response = paul_api.post("DocumentReference", document_reference(alice_record))

    refused(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert Document.objects.count() == 2
