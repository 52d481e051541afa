"""SMART App Launch (standalone) end to end, with a real SMART client: fhirclient reads
the CapabilityStatement's OAuth addresses from the running server (pytest-django's live
server), sends the person through the platform's own authorization (the Django test
client is the browser), exchanges the code, and then reads and searches through its R4
models — for a patient app (the person, then an assistant launching for the record they
assist) and for practice software acting as the professional."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from fhirclient import client as smart_client
from fhirclient.models.documentreference import DocumentReference
from fhirclient.models.fhirsearch import FHIRSearch
from fhirclient.server import FHIRNotFoundException

from esante.professionals.models import Professional
from esante.records import care
from esante.records.actions import add_document
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Assistant,
    Capacity,
    CareRecord,
    Confidentiality,
    Document,
)
from esante.registry.models import InsuredPerson
from esante.services.models import Service
from tests.accounts.conftest import activation_settings
from tests.factories import make_person, years_ago
from tests.fhir.conftest import PRACTICE_SCOPES, patient_app, practice_software
from tests.practice.conftest import at_provider as pro_at_provider
from tests.practice.conftest import paul, pro_provider, provider_user
from tests.provider.conftest import authorize, issuer, logged_in
from tests.servers import OidcProvider

__all__ = ["activation_settings", "issuer", "paul", "pro_provider"]

REDIRECT_URI = "http://127.0.0.1:9/retour"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


_opened: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Each client's keep-alive connection closed with its test: none left to the live
    server, whose threads would meet a database already gone."""
    yield
    while _opened:
        _opened.pop().server.session.close()


def smart(service: Service, issuer: str, scope: str, *, wants_patient: bool = True) -> Any:
    app = smart_client.FHIRClient(
        settings={
            "app_id": service.client_id,
            "api_base": f"{issuer}/fhir/",
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
        }
    )
    app.wants_patient = wants_patient
    _opened.append(app)
    return app


def upload(record: CareRecord, person: InsuredPerson, title: str) -> Document:
    return add_document(
        record,
        actor=person,
        capacity=Capacity.OWNER,
        upload=ContentFile(PDF, name="x.pdf"),  # type: ignore[arg-type]
        title=title,
        document_date=datetime.date(2025, 3, 1),
        confidentiality=Confidentiality.NORMAL,
    )


def launch(app: Any, browser: Client, **chosen: str) -> dict[str, Any]:
    url = app.authorize_url  # fetches /fhir/metadata from the live server
    query = parse_qs(urlsplit(url).query)
    assert query["aud"] == [app.server.base_uri]
    assert ("launch/patient" in query["scope"][0].split()) == app.wants_patient
    page = authorize(browser, url, **chosen) if chosen else authorize(browser, url)
    assert page.status_code == 200
    answer = authorize(browser, url, decision="accept", **chosen)
    assert answer.status_code == 302, answer.content
    return dict(app.handle_callback(answer["Location"]) or {})


def test_a_patient_app_launches_standalone_reads_and_pages_through_the_documents(
    issuer: str, alice: InsuredPerson, transactional_db: None
) -> None:
    browser = logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    titles = {f"Analyse {number}" for number in range(5)}
    for title in titles:
        upload(record, alice, title)
    service = patient_app(redirect_uris=[REDIRECT_URI])
    app = smart(service, issuer, "openid fhirUser patient/*.rs")

    launch(app, browser)

    assert app.patient_id == str(record.public_id)
    patient = app.patient
    assert patient.name[0].family == alice.last_name
    assert patient.identifier is None  # no matricule without the scope
    search = FHIRSearch(DocumentReference, {"patient": app.patient_id, "_count": "2"})
    found = list(search.perform_resources_iter(app.server))  # follows the `next` links
    assert {each.description for each in found} == titles
    assert len(found) == 5
    first = found[0].content[0].attachment
    response = app.server.request_data(first.url, headers={"Accept": "application/pdf"})
    assert response == PDF
    lines = AccessEntry.objects.filter(record=record, actor=alice)
    assert lines.filter(action=AccessAction.READ_RECORD, target__contains=service.name).count() >= 3
    assert lines.filter(action=AccessAction.READ_DOCUMENT, target__contains=service.name).exists()


def test_an_assistant_launches_for_the_record_they_assist_and_sees_only_it(
    issuer: str, alice: InsuredPerson, transactional_db: None
) -> None:
    child = make_person("Léa", "Martin", years_ago(9), sex="F")
    child_record = CareRecord.objects.get_or_create(person=child)[0]
    Assistant.objects.create(
        record=child_record, person=alice, added_by=alice, during_minority=True
    )
    upload(child_record, alice, "Carnet de vaccination")
    own = CareRecord.objects.get_or_create(person=alice)[0]
    browser = logged_in(alice, "alice@example.lu")
    service = patient_app(redirect_uris=[REDIRECT_URI])
    app = smart(service, issuer, "openid fhirUser patient/*.rs")

    launch(app, browser, pour=str(child_record.public_id))

    assert app.patient_id == str(child_record.public_id)
    assert app.patient.name[0].given == ["Léa"]
    search = FHIRSearch(DocumentReference, {"patient": app.patient_id})
    assert [each.description for each in search.perform_resources_iter(app.server)] == [
        "Carnet de vaccination"
    ]
    # The app was launched for the child: the assistant's own record is not its to read.
    own_search = FHIRSearch(DocumentReference, {"patient": str(own.public_id)})
    with pytest.raises(FHIRNotFoundException) as refused:
        list(own_search.perform_resources_iter(app.server))
    assert refused.value.response.status_code == 404
    assert refused.value.response.json()["resourceType"] == "OperationOutcome"
    line = AccessEntry.objects.filter(record=child_record, action=AccessAction.READ_RECORD).last()
    assert line is not None and line.actor == alice and line.capacity == Capacity.ASSISTANT


def test_practice_software_acts_as_the_professional_within_the_care_rules(
    issuer: str,
    alice: InsuredPerson,
    paul: Professional,
    pro_provider: OidcProvider,
    transactional_db: None,
) -> None:
    record = CareRecord.objects.get_or_create(person=alice)[0]
    upload(record, alice, "Mon document")
    service = practice_software(redirect_uris=[REDIRECT_URI])
    assert service.scopes == PRACTICE_SCOPES
    app = smart(service, issuer, " ".join(PRACTICE_SCOPES), wants_patient=False)
    browser = Client()
    url = app.authorize_url
    authorize(browser, url)  # to the professionals' login
    pro_at_provider(
        browser, pro_provider, provider_user(pro_provider, professional_code=paul.national_code)
    )
    authorize(browser, url)
    answer = authorize(browser, url, decision="accept")
    app.handle_callback(answer["Location"])

    search = FHIRSearch(DocumentReference, {"patient": str(record.public_id)})
    with pytest.raises(FHIRNotFoundException) as refused:  # no care relationship yet
        list(search.perform_resources_iter(app.server))
    assert refused.value.response.status_code == 404

    care.grant_relationship(record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None)
    CareRecord.objects.filter(pk=record.pk).update(objection_until=None)
    assert [each.description for each in search.perform_resources_iter(app.server)] == [
        "Mon document"
    ]

    written = DocumentReference(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": {"reference": f"Patient/{record.public_id}"},
            "category": [
                {
                    "coding": [
                        {
                            "system": f"{_portal()}/fhir/CodeSystem/document-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "description": "Bilan sanguin",
            "context": {"period": {"start": "2026-11-30"}},
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "data": base64.b64encode(PDF).decode(),
                    }
                }
            ],
        }
    )
    created = written.create(app.server)

    assert created["author"][0]["reference"] == f"Practitioner/{paul.public_id}"
    document = Document.objects.get(public_id=created["id"])
    assert document.professional == paul and document.title == "Bilan sanguin"
    assert AccessEntry.objects.filter(
        record=record, professional=paul, action=AccessAction.UPLOAD
    ).exists()


def _portal() -> str:
    from django.conf import settings

    return str(settings.ESANTE_PORTAL_URL)
