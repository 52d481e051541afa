"""Malformed requests: each answered with an OperationOutcome and its 4xx — 400 for what
is not valid, 404 for what does not exist, 405 for a method a type does not take, 406 for
a format other than JSON, 413 for too large a body, 415 for a body that is not FHIR
JSON, 422 for a valid resource the business rules refuse — never a 500."""

from __future__ import annotations

import base64
import json
import pathlib
from typing import Any

import pytest

from esante.professionals.models import Professional
from esante.records import documents
from esante.records.models import CareRecord, Document
from tests.fhir.conftest import Api, not_found, refused, validated
from tests.fhir.test_create_document import document_reference

pytestmark = pytest.mark.django_db


# Searches ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "diagnostics"),
    [
        ("DocumentReference?name=x", "Unknown search parameter 'name'."),
        ("DocumentReference?subject=x", "Unknown search parameter 'subject'."),
        ("DocumentReference?patient.name=x", "Unknown search parameter 'patient.name'."),
        (
            "DocumentReference?category:text=labo",
            "The modifier of 'category:text' is not supported.",
        ),
        ("DocumentReference?date:missing=true", "The modifier of 'date:missing' is not supported."),
        ("DocumentReference?_count:x=1", "The modifier of '_count:x' is not supported."),
        ("Patient?name=Martin", "Unknown search parameter 'name'."),
        ("Consent?category=x", "Unknown search parameter 'category'."),
        ("RelatedPerson?_id=x", "Unknown search parameter '_id'."),
        ("AuditEvent?action=R", "Unknown search parameter 'action'."),
    ],
)
def test_an_unknown_parameter_or_modifier_is_refused_not_ignored(
    alice_api: Api, path: str, diagnostics: str
) -> None:
    assert refused(alice_api.get(path), 400, "invalid")["diagnostics"] == diagnostics


@pytest.mark.parametrize(
    "query",
    [
        "_count=abc",
        "_count=-1",
        "_count=1.5",
        "_count=²",  # a digit to str.isdigit, not to int()
        "_count=١٢",
        "_offset=-1",
        "_offset=abc",
        "_offset=²",
        "_offset=9999999999",
        "_total=bogus",
        "_total=",
        "date=notadate",
        "date=٢٠٢٥",
        "date=2025-13-01",
        "date=2025-02-30",
        "date=2025-1-1",
        "date=25",
        "date=xx2025",
        "date=ge",
        "date=2025-01-01T10:00",  # a time needs its zone
        "date=2025-01-01T25:00:00Z",
        "date=0000",
        "date=9999-12-31",
        "date=2025,",
        "period=2025-00",
        "period=lt2025-01-01T10:00:00+99:00",
        "category=",
        "category=|",
        "category=a,",
        "status=",
        "patient=",
        "patient=a,b",
        "patient=Practitioner/x",
        "author=Patient/x",
        "_id=x",
    ],
)
def test_a_value_of_the_wrong_type_is_refused(alice_api: Api, query: str) -> None:
    refused(alice_api.get(f"DocumentReference?{query}"), 400, "invalid")


@pytest.mark.parametrize(
    "query",
    ["patient=not-a-uuid", "patient=Patient/", "patient=8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"],
)
def test_a_patient_that_does_not_exist_is_not_found(alice_api: Api, query: str) -> None:
    not_found(alice_api.get(f"DocumentReference?{query}"))


def test_a_code_no_category_has_finds_nothing_whatever_its_characters(
    alice_api: Api,
) -> None:
    """Codes are compared with the code system's own, never sent as they are to the
    database (PostgreSQL refuses a NUL in text: a 500)."""
    for value in ("%00", "labo%00ratory", "%FF%FE", "x" * 5000):
        bundle = validated(alice_api.get(f"DocumentReference?category={value}"))
        assert bundle["total"] == 0


# Addresses and methods --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "Patient/not-a-uuid",
        "Patient/12",
        "DocumentReference/%20",
        "Binary/..",
        "Practitioner/x",
        "AuditEvent/x",
        "RelatedPerson/x",
        "Consent/x",
        "Patient/" + "a" * 65,
        "Patient/a_b",
        "Patient/a/b",
    ],
)
def test_an_id_that_is_no_id_of_ours_is_not_found(alice_api: Api, path: str) -> None:
    refused(alice_api.get(path), 404)


@pytest.mark.parametrize(
    "path",
    ["Observation", "Observation/x", "Bundle", "Patient/x/_history", "Patient/%0A", "Patient%0A"],
)
def test_an_unknown_type_or_interaction_is_not_found(alice_api: Api, path: str) -> None:
    refused(alice_api.get(path), 404, "not-supported")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("post", "Patient", "GET"),
        ("post", "Binary", "GET"),
        ("post", "Consent", "GET"),
        ("post", "AuditEvent", "GET"),
        ("put", "DocumentReference", "GET, POST"),
        ("delete", "DocumentReference", "GET, POST"),
        ("post", "Patient/{record}", "GET"),
        ("put", "Patient/{record}", "GET"),
        ("delete", "DocumentReference/{record}", "GET"),
        ("patch", "DocumentReference/{record}", "GET"),
        ("post", "metadata", "GET"),
        ("put", ".well-known/smart-configuration", "GET"),
    ],
)
def test_a_method_a_type_does_not_take_is_not_allowed(
    alice_api: Api, alice_record: CareRecord, method: str, path: str, allow: str
) -> None:
    call = getattr(alice_api.client, method)
    response = call(
        f"/fhir/{path.format(record=alice_record.public_id)}",
        data="{}",
        content_type="application/fhir+json",
        headers=alice_api.headers(),
    )

    refused(response, 405, "not-supported")
    assert response["Allow"] == allow


@pytest.mark.parametrize(
    "path", ["metadata", "Patient", "Patient/{record}", "DocumentReference", "Binary/{record}"]
)
@pytest.mark.parametrize("wanted", ["xml", "application/fhir+xml", "text/html", "turtle"])
def test_a_format_other_than_json_is_not_acceptable(
    alice_api: Api, alice_record: CareRecord, path: str, wanted: str
) -> None:
    separator = "&" if "?" in path else "?"
    response = alice_api.get(
        f"{path.format(record=alice_record.public_id)}{separator}_format={wanted}"
    )

    refused(response, 406, "not-supported")


@pytest.mark.parametrize("accept", ["application/fhir+xml", "application/xml, text/xml;q=0.9"])
def test_an_accept_of_xml_only_is_not_acceptable(
    alice_api: Api, alice_record: CareRecord, accept: str
) -> None:
    response = alice_api.get(f"Patient/{alice_record.public_id}", Accept=accept)

    refused(response, 406, "not-supported")


@pytest.mark.parametrize("accept", ["application/fhir+xml, */*;q=0.1", "application/json"])
def test_an_accept_that_takes_json_is_answered(
    alice_api: Api, alice_record: CareRecord, accept: str
) -> None:
    assert alice_api.get(f"Patient/{alice_record.public_id}", Accept=accept).status_code == 200


@pytest.mark.parametrize("wanted", ["json", "application/json", "application/fhir%2Bjson"])
def test_json_formats_are_acceptable(alice_api: Api, wanted: str) -> None:
    validated(alice_api.get(f"Patient?_format={wanted}"))


@pytest.mark.parametrize("total", ["none", "estimate", "accurate"])
def test_every_total_is_exact(alice_api: Api, alice_record: CareRecord, total: str) -> None:
    assert validated(alice_api.get(f"DocumentReference?_total={total}"))["total"] == 0


def test_a_count_of_any_length_is_clamped(alice_api: Api, settings: Any) -> None:
    """Past 4,300 digits, int() refuses a string (CPython's limit): clamped before."""
    for count in ("9" * 5000, "0" * 20 + "7"):
        bundle = validated(alice_api.get(f"DocumentReference?_count={count}"))
        self_link = bundle["link"][0]["url"]
        expected = settings.ESANTE_FHIR_MAX_COUNT if count.startswith("9") else 7
        assert f"_count={expected}&" in self_link


# The body of a create ------------------------------------------------------------------------


def post(api: Api, body: Any, **headers: str) -> Any:
    return api.post("DocumentReference", body, **headers)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b" ",
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,  # nested past the parser's depth
        b"[]",
        b"null",
        b'"DocumentReference"',
        b'{"resourceType": "Patient"}',
        b'{"resourceType": "documentreference"}',
        b"{}",
    ],
)
def test_a_body_that_is_no_document_reference_is_invalid(paul_api: Api, body: bytes) -> None:
    refused(post(paul_api, body), 400, "invalid")
    assert not Document.objects.exists()


def changed(record: CareRecord, **changes: Any) -> dict[str, Any]:
    return document_reference(record, **changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": None},
        {"subject": {"display": "Alice"}},
        {"subject": {"reference": "Practitioner/8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"}},
        {"content": None},
        {"content": []},
        {"content": [{"attachment": {"contentType": "application/pdf"}}]},
        {"context": None},
        {"context": {"period": {"start": "2999-01-01"}}},
        {"context": {"period": {"start": "2025"}}},
        {"context": {"period": {"start": "2025-03"}}},
        {"context": {"period": {"start": "04/03/2025"}}},
        {"description": None},
        {"description": "x" * 201},
        {"status": None},
        {"status": "superseded"},
        {"status": "bogus"},
        {"category": None},
        {"category": [{"coding": [{"code": "laboratory"}]}]},
        {"category": [{"text": "Labo"}]},
        {
            "securityLabel": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                            "code": "X",
                        }
                    ]
                }
            ]
        },
        {"relatesTo": [{"code": "appends", "target": {"reference": "DocumentReference/x"}}]},
        {"relatesTo": [{"code": "replaces", "target": {"display": "x"}}]},
        {"unknownElement": 1},
        {"id": "not an id!"},
    ],
    ids=lambda changes: json.dumps(changes)[:60],
)
def test_a_document_reference_missing_or_wrong_in_an_element_is_invalid(
    paul_api: Api, alice_record: CareRecord, changes: dict[str, Any]
) -> None:
    refused(post(paul_api, changed(alice_record, **changes)), 400, "invalid")
    assert not Document.objects.exists()


@pytest.mark.parametrize("data", ["!!!notbase64", "abc", "%PDF-1.4", "éé=="])
def test_invalid_base64_is_invalid(paul_api: Api, alice_record: CareRecord, data: str) -> None:
    body = document_reference(alice_record)
    body["content"][0]["attachment"]["data"] = data

    refused(post(paul_api, body), 400, "invalid")


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("application/pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100),
        ("application/pdf", b"not a pdf"),
        ("text/plain", b"hello"),
        ("application/pdf", b""),
    ],
)
def test_what_is_no_pdf_is_refused_by_the_business_rules(
    paul_api: Api, alice_record: CareRecord, content_type: str, data: bytes
) -> None:
    body = document_reference(alice_record, data=data)
    body["content"][0]["attachment"]["contentType"] = content_type

    refused(post(paul_api, body), 422, "business-rule")
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["application/xml", "text/plain", "multipart/form-data; boundary=x", ""]
)
def test_a_body_in_another_media_type_is_unsupported(
    paul_api: Api, alice_record: CareRecord, content_type: str
) -> None:
    body = json.dumps(document_reference(alice_record))

    refused(paul_api.post("DocumentReference", body, content_type=content_type), 415)


def test_a_body_without_a_media_type_is_unsupported(paul_api: Api) -> None:
    """An empty body: Django's test client sends it without a Content-Type."""
    refused(paul_api.post("DocumentReference", b""), 415, "not-supported")


def test_plain_json_is_taken_as_fhir_json(paul_api: Api, alice_record: CareRecord) -> None:
    body = json.dumps(document_reference(alice_record))

    validated(paul_api.post("DocumentReference", body, content_type="application/json"), 201)


def test_too_large_a_body_is_refused_before_it_is_read(
    paul_api: Api, alice_record: CareRecord, settings: Any
) -> None:
    settings.ESANTE_UPLOAD_MAX_BYTES = 1024
    limit = 1024 * 4 // 3 + 64 * 1024
    body = document_reference(alice_record, data=b"%PDF-" + b"0" * (limit + 10))

    refused(post(paul_api, body), 413, "too-long")
    # A file over the limit inside a body under the limit: the upload's own rule.
    small = document_reference(alice_record, data=b"%PDF-" + b"0" * 2000)
    refused(post(paul_api, small), 422, "business-rule")
    assert not Document.objects.exists()


def test_a_refused_create_leaves_no_file_behind(
    paul_api: Api, alice_record: CareRecord, paul: Professional
) -> None:
    refused(post(paul_api, document_reference(alice_record, data=b"not a pdf")), 422)
    refused(post(paul_api, document_reference(alice_record, data=b"%PDF-", status="x")), 400)

    folder = pathlib.Path(documents.storage().path(""))
    assert not folder.exists() or not [each for each in folder.rglob("*") if each.is_file()]


def test_a_pdf_declared_by_its_creation_date_is_taken(
    paul_api: Api, alice_record: CareRecord
) -> None:
    body = document_reference(alice_record, context=None)
    body["content"][0]["attachment"]["creation"] = "2025-03-04T10:00:00+01:00"
    body["content"][0]["attachment"]["data"] = base64.b64encode(b"%PDF-1.4 x").decode()

    resource = validated(post(paul_api, body), 201)

    assert resource["context"]["period"]["start"] == "2025-03-04"
