"""The FHIR API's tests: tokens as the platform's provider issues them (a Token row, kept
as the keyed hash of a known string, with its consent), sent by Django's test client;
every FHIR body the API answers is checked by two FHIR model libraries (`validated`);
documents with their files in the test's storage (`stored_document`)."""

from __future__ import annotations

import datetime
import importlib
import json
import secrets
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from fhirclient.models.fhirelementfactory import FHIRElementFactory

from esante.keyed_hash import keyed_hash
from esante.professionals.models import Professional
from esante.provider.models import Consent, Token
from esante.provider.server import ACCESS_KIND
from esante.records import documents
from esante.records.actions import ensure_care_record
from esante.records.care import grant_relationship
from esante.records.models import Capacity, CareRecord, Category, Confidentiality, Document
from esante.registry.models import InsuredPerson
from esante.services.models import ACR_SUBSTANTIAL, Audience, Service
from tests.records.care_people import make_paul

# The professionals' access matrix of the portal (nine professionals, six documents), for
# the API's own (test_access_matrix_api.py).
from tests.records.test_professional_access_matrix import world as matrix_world  # noqa: F401

PATIENT_SCOPES = ["openid", "fhirUser", "launch/patient", "patient/*.rs"]
PRACTICE_SCOPES = ["openid", "fhirUser", "user/*.rs", "user/DocumentReference.cu"]


def patient_app(**fields: Any) -> Service:
    values: dict[str, Any] = {
        "name": "Mon appli santé (test)",
        "redirect_uris": ["http://127.0.0.1:9/retour"],
        "scopes": PATIENT_SCOPES,
        "token_endpoint_auth_method": Service.AuthMethod.NONE,
        "audience": Audience.PATIENTS,
    }
    values.update(fields)
    return Service.objects.create(**values)


def practice_software(**fields: Any) -> Service:
    values: dict[str, Any] = {
        "name": "Logiciel de cabinet (test)",
        "redirect_uris": ["http://127.0.0.1:9/retour"],
        "scopes": PRACTICE_SCOPES,
        "token_endpoint_auth_method": Service.AuthMethod.NONE,
        "audience": Audience.PROFESSIONALS,
    }
    values.update(fields)
    return Service.objects.create(**values)


def issue_token(
    service: Service,
    *,
    person: InsuredPerson | None = None,
    actor: InsuredPerson | None = None,
    professional: Professional | None = None,
    scopes: list[str] | None = None,
    seconds: int = 600,
) -> str:
    """A live access token for `person` (with `actor` acting for them) or `professional`,
    with its standing consent, as the provider would have issued it."""
    scopes = scopes if scopes is not None else service.scopes
    if not Consent.objects.covering(
        service, person=person, actor=actor, professional=professional
    ).exists():
        Consent.objects.create(
            service=service,
            person=actor or person,
            on_behalf_of=person if actor is not None else None,
            professional=professional,
            scopes=scopes,
        )
    value = secrets.token_urlsafe(32)
    Token.objects.create(
        service=service,
        person=person,
        actor=actor,
        professional=professional,
        access_token_hash=keyed_hash(ACCESS_KIND, value),
        scope=" ".join(scopes),
        issued_at=timezone.now(),
        expires_in=seconds,
        auth_time=timezone.now() - datetime.timedelta(minutes=1),
        acr=ACR_SUBSTANTIAL,
        amr=["pwd", "otp"],
    )
    return value


class Api:
    """Django's test client with a bearer token: `api.get("Patient/…")`."""

    def __init__(self, token: str):
        self.client = Client()
        self.token = token

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json", **extra}

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(f"/fhir/{path}", headers=self.headers(**headers))

    def post(
        self, path: str, body: Any, content_type: str = "application/fhir+json", **headers: str
    ) -> Any:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.client.post(
            f"/fhir/{path}", data=data, content_type=content_type, headers=self.headers(**headers)
        )


@pytest.fixture
def api_for() -> Any:
    return lambda token: Api(token)


# The people of the API's tests: alice's record, read by her app; paul, a physician with
# a care relationship she granted, through his practice software ------------------------


@pytest.fixture
def alice_record(alice: InsuredPerson) -> CareRecord:
    return ensure_care_record(alice)


@pytest.fixture
def alice_api(alice: InsuredPerson, alice_record: CareRecord) -> Api:
    return Api(issue_token(patient_app(), person=alice))


@pytest.fixture
def paul(db: None) -> Professional:
    return make_paul()


@pytest.fixture
def paul_api(paul: Professional, alice: InsuredPerson, alice_record: CareRecord) -> Api:
    """Paul's software; alice granted him a care relationship."""
    grant_relationship(alice_record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None)
    return Api(issue_token(practice_software(), professional=paul))


# What every FHIR answer must be ------------------------------------------------------------

FHIR_JSON = "application/fhir+json"
# fhir.resources' R4B modules that hold each resource type the API serves; each of them
# is the same in R4B as in R4 (4.0.1) — R4B changed the medication, evidence and
# subscription resources, none of these.
R4B_MODULES = {
    "Bundle": "bundle",
    "OperationOutcome": "operationoutcome",
    "CapabilityStatement": "capabilitystatement",
    "CodeSystem": "codesystem",
    "Patient": "patient",
    "Practitioner": "practitioner",
    "DocumentReference": "documentreference",
    "Binary": "binary",
    "RelatedPerson": "relatedperson",
    "AuditEvent": "auditevent",
    "Consent": "consent",
}


def fhir_base() -> str:
    """The API's base URL, as its answers write it (the provider's issuer)."""
    return f"{settings.ESANTE_OIDC_ISSUER or 'http://testserver'}/fhir"


def check_resource(resource: dict[str, Any]) -> None:
    """One FHIR resource (JSON), checked by two maintained model libraries:

    - fhir.resources' R4B models (pydantic): types, cardinalities, required elements,
      FHIR primitive formats (id, instant, dateTime, code, base64Binary…), no unknown
      element; for the types above, which R4B left as R4 had them;
    - fhirclient's R4 (4.0.1) models, `strict=True`: the exact R4 shape — an element R4B
      added or renamed would fail here — and required elements again.

    A Bundle's entries are checked by both as part of the Bundle (each library builds the
    entry's type from its `resourceType`), and each on its own as well."""
    resource_type = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{R4B_MODULES[resource_type]}")
    getattr(module, resource_type).model_validate(resource)
    FHIRElementFactory.instantiate(resource_type, resource)  # strict by default
    for entry in resource.get("entry", []) if resource_type == "Bundle" else []:
        check_resource(entry["resource"])


def validated(response: Any, status: int = 200) -> dict[str, Any]:
    """The body of a FHIR answer with `status`, as `application/fhir+json`, checked by
    both libraries (`check_resource`)."""
    assert response.status_code == status, (response.status_code, response.content[:2000])
    assert response["Content-Type"].split(";")[0] == FHIR_JSON, response["Content-Type"]
    body: dict[str, Any] = json.loads(response.content)
    check_resource(body)
    return body


def refused(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """An OperationOutcome answer with `status` (and its issue's `code`): its one issue."""
    body = validated(response, status)
    assert body["resourceType"] == "OperationOutcome", body
    issue: dict[str, Any] = body["issue"][0]
    assert issue["severity"] == "error"
    if code is not None:
        assert issue["code"] == code, issue
    return issue


def not_found(response: Any) -> None:
    """The one answer for what does not exist and for what the caller may not see."""
    issue = refused(response, 404, "not-found")
    assert issue["diagnostics"] == "No such resource."


def ids(bundle: dict[str, Any]) -> set[str]:
    """The ids of a searchset's resources (each listed once)."""
    found = [entry["resource"]["id"] for entry in bundle["entry"]]
    assert len(found) == len(set(found)), found
    return set(found)


# Documents with their files ------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def stored_document(
    record: CareRecord,
    title: str = "Compte rendu",
    *,
    professional: Professional | None = None,
    category: Category = Category.HOSPITAL,
    confidentiality: Confidentiality = Confidentiality.NORMAL,
    content: bytes = PDF,
    **fields: Any,
) -> Document:
    """A document of `record` whose file is in the documents' storage (the Binary's bytes)."""
    stored_name = documents.storage().save(
        f"{record.public_id.hex[:2]}/{uuid.uuid4().hex}", ContentFile(content)
    )
    values: dict[str, Any] = {
        "record": record,
        "category": category,
        "title": title,
        "author": professional.full_name if professional else "Laboratoire Ketterthill",
        "professional": professional,
        "document_date": timezone.localdate() - datetime.timedelta(days=3),
        "stored_name": stored_name,
        "content_type": "application/pdf",
        "size": len(content),
        "confidentiality": confidentiality,
        "author_confidentiality": confidentiality,
    }
    values.update(fields)
    return Document.objects.create(**values)


def store_files(*found: Document, content: bytes = PDF) -> None:
    """Files for documents made without one (the access matrix's): at their stored names."""
    for document in found:
        documents.storage().save(document.stored_name, ContentFile(content))
