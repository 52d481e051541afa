"""Documents of the DSP: list, view and download, uploads to the Espace personnel (type from
the content, size from the settings), masking, confidentiality level and deletion."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from esante.records import documents
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Assistant,
    CareRecord,
    Category,
    Confidentiality,
    Document,
)
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import page_text
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def image_bytes(kind: str) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 40)).save(output, format=kind)
    return output.getvalue()


def upload(client: Client, record: CareRecord, name: str, content: bytes, **fields: str) -> Any:
    data = {
        "title": "Certificat de sport",
        "document_date": "2026-03-14",
        "confidentiality": "N",
        "file": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        **fields,
    }
    return client.post(reverse("records:upload", args=[record.public_id]), data)


def provider_document(record: CareRecord, **fields: Any) -> Document:
    stored = documents.storage().save("test/lab", io.BytesIO(PDF))
    values: dict[str, Any] = {
        "record": record,
        "category": Category.LABORATORY,
        "title": "Bilan sanguin",
        "author": "Laboratoires Réunis",
        "document_date": datetime.date(2026, 2, 1),
        "stored_name": stored,
        "content_type": "application/pdf",
        "size": len(PDF),
        **fields,
    }
    return Document.objects.create(**values)


@pytest.fixture
def record(alice_client: Client, alice: InsuredPerson) -> CareRecord:
    return CareRecord.objects.get(person=alice)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("resultat.pdf", PDF, "application/pdf"),
        ("photo.jpg", image_bytes("JPEG"), "image/jpeg"),
        ("scan.png", image_bytes("PNG"), "image/png"),
        ("mal-nomme.png", PDF, "application/pdf"),  # the content decides, not the name
    ],
)
def test_pdf_jpeg_and_png_are_accepted_by_their_content(
    alice_client: Client,
    record: CareRecord,
    alice: InsuredPerson,
    name: str,
    content: bytes,
    content_type: str,
) -> None:
    response = upload(alice_client, record, name, content)

    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.content_type, document.size, document.uploaded_by) == (
        content_type,
        len(content),
        alice,
    )
    assert document.category == Category.PATIENT
    with documents.storage().open(document.stored_name) as stored:
        assert stored.read() == content
    assert name not in document.stored_name
    assert AccessEntry.objects.filter(action=AccessAction.UPLOAD, target=document.title).exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("virus.pdf", b"MZ\x90\x00 an executable renamed"),
        ("page.png", b"<html><script>alert(1)</script></html>"),
        ("faux.png", b"\x89PNG\r\n\x1a\n" + b"not really an image" * 10),
        ("faux.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40),
    ],
)
def test_other_content_is_refused_with_a_french_message_and_the_fields_kept(
    alice_client: Client, record: CareRecord, name: str, content: bytes
) -> None:
    response = upload(alice_client, record, name, content, title="Radio du genou")

    assert response.status_code == 400
    page = page_text(response)
    assert "seuls ces formats sont acceptés" in page
    assert 'value="Radio du genou"' in page
    assert not Document.objects.exists()


def test_a_file_over_the_size_limit_is_refused(
    alice_client: Client, record: CareRecord, settings: Any
) -> None:
    settings.ESANTE_UPLOAD_MAX_BYTES = 100 * 1024

    response = upload(alice_client, record, "gros.pdf", PDF + b"0" * (300 * 1024))

    assert response.status_code == 400
    page = page_text(response)
    assert "Le fichier dépasse la taille maximale" in page
    assert 'value="Certificat de sport"' in page
    assert not Document.objects.exists()
    assert not documents.storage().exists("")  # nothing was written


def test_missing_fields_and_a_future_date_get_french_messages(
    alice_client: Client, record: CareRecord
) -> None:
    tomorrow = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()

    response = upload(alice_client, record, "a.pdf", PDF, title="", document_date=tomorrow)

    page = page_text(response)
    assert "Donnez un titre au document." in page
    assert "La date du document ne peut pas être dans le futur." in page


def test_documents_are_listed_viewed_and_downloaded_each_read_journaled(
    alice_client: Client, record: CareRecord
) -> None:
    document = provider_document(record)
    page = page_text(alice_client.get(reverse("records:record", args=[record.public_id])))
    assert "Bilan sanguin" in page and "Laboratoires Réunis" in page
    assert "Résultats de laboratoire" in page
    url = reverse("records:document_file", args=[record.public_id, document.public_id])

    shown = alice_client.get(url)
    downloaded = alice_client.get(url + "?telecharger=1")

    assert b"".join(shown.streaming_content) == PDF  # type: ignore[attr-defined]
    assert shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"].startswith("inline")
    assert downloaded["Content-Disposition"].startswith("attachment")
    assert 'filename="Bilan sanguin.pdf"' in downloaded["Content-Disposition"]
    assert downloaded["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in downloaded["Content-Security-Policy"]
    assert "no-store" in shown["Cache-Control"]
    reads = AccessEntry.objects.filter(action=AccessAction.READ_DOCUMENT, target="Bilan sanguin")
    assert reads.count() == 2


def test_the_category_filter(alice_client: Client, record: CareRecord) -> None:
    provider_document(record)
    provider_document(record, category=Category.VACCINATION, title="Certificat ROR")
    url = reverse("records:record", args=[record.public_id])

    vaccinations = page_text(alice_client.get(url + "?categorie=vaccination"))
    unknown = alice_client.get(url + "?categorie=<b>")

    assert "Certificat ROR" in vaccinations and "Bilan sanguin" not in vaccinations
    assert unknown.status_code == 200 and "Bilan sanguin" in page_text(unknown)


def test_masking_and_confidentiality_are_kept_and_journaled(
    alice_client: Client, record: CareRecord
) -> None:
    document = provider_document(record)
    args = [record.public_id, document.public_id]

    alice_client.post(reverse("records:mask", args=args), {"masquer": "1"})
    document.refresh_from_db()
    assert document.masked_at is not None
    assert "Masqué" in page_text(alice_client.get(reverse("records:record", args=[args[0]])))
    alice_client.post(reverse("records:mask", args=args), {"masquer": "0"})
    document.refresh_from_db()
    assert document.masked_at is None

    alice_client.post(reverse("records:confidentiality", args=args), {"confidentiality": "V"})
    refused = alice_client.post(
        reverse("records:confidentiality", args=args), {"confidentiality": "Z"}, follow=True
    )
    document.refresh_from_db()
    assert document.confidentiality == Confidentiality.VERY_RESTRICTED
    assert "Choisissez l'un des niveaux proposés." in page_text(refused)
    actions = set(AccessEntry.objects.values_list("action", flat=True))
    assert {AccessAction.MASK, AccessAction.UNMASK, AccessAction.CONFIDENTIALITY} <= actions


def test_only_uploaded_documents_can_be_deleted_and_their_file_goes(
    alice_client: Client, record: CareRecord, django_capture_on_commit_callbacks: Any
) -> None:
    provided = provider_document(record)
    upload(alice_client, record, "a.pdf", PDF)
    own = Document.objects.get(uploaded_by__isnull=False)

    refused = alice_client.post(
        reverse("records:delete_document", args=[record.public_id, provided.public_id])
    )
    with django_capture_on_commit_callbacks(execute=True):
        deleted = alice_client.post(
            reverse("records:delete_document", args=[record.public_id, own.public_id])
        )

    assert refused.status_code == 404
    assert deleted.status_code == 302
    assert list(Document.objects.all()) == [provided]
    assert not documents.storage().exists(own.stored_name)
    assert AccessEntry.objects.filter(action=AccessAction.DELETE_DOCUMENT).exists()


def test_a_closed_record_shows_and_serves_no_document(
    alice_client: Client, record: CareRecord
) -> None:
    document = provider_document(record)
    alice_client.post(reverse("records:close", args=[record.public_id]), {"confirm": "on"})

    page = page_text(alice_client.get(reverse("records:record", args=[record.public_id])))
    served = alice_client.get(
        reverse("records:document_file", args=[record.public_id, document.public_id])
    )
    added = upload(alice_client, record, "a.pdf", PDF)

    assert "Bilan sanguin" not in page
    assert served.status_code == 404
    assert added.status_code == 404
    assert Document.objects.count() == 1


def test_a_document_of_another_record_is_not_found(
    alice_client: Client, charlie_client: Client, record: CareRecord, charlie: InsuredPerson
) -> None:
    document = provider_document(record)
    own_record = CareRecord.objects.get(person=charlie)

    response = charlie_client.get(
        reverse("records:document_file", args=[own_record.public_id, document.public_id])
    )

    assert response.status_code == 404


def test_the_record_page_costs_the_same_queries_with_many_documents_and_assistants(
    alice_client: Client, record: CareRecord, alice: InsuredPerson
) -> None:
    url = reverse("records:record", args=[record.public_id])
    provider_document(record)
    # One of each: without any assistant, the page reads no list at all (the next test).
    person = make_person("Paul", "Kieffer", years_ago(40))
    Assistant.objects.create(record=record, person=person, added_by=alice)
    with CaptureQueriesContext(connection) as few:
        alice_client.get(url)
    for number in range(12):
        provider_document(record, title=f"Bilan {number}")
        person = make_person("Paul", f"Kieffer{number}", years_ago(41 + number))
        Assistant.objects.create(record=record, person=person, added_by=alice)
    with CaptureQueriesContext(connection) as many:
        alice_client.get(url)
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]


def test_the_record_page_of_a_record_without_assistants_reads_no_assistant_list(
    alice_client: Client, record: CareRecord, alice: InsuredPerson
) -> None:
    former = make_person("Paul", "Kieffer", years_ago(40))
    Assistant.objects.create(record=record, person=former, added_by=alice, ended_at=timezone.now())

    with CaptureQueriesContext(connection) as queries:
        response = alice_client.get(reverse("records:record", args=[record.public_id]))

    assert "Aucune donnée disponible dans le tableau" in page_text(response)
    lists = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "records_assistant"')
    ]
    assert lists == []
