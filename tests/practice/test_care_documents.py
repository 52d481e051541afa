"""Documents professionals write: added as PDF with a category, title, date and level,
listed with the professional as author (to the patient too); replaced by a new version
(the old one kept) or withdrawn (kept, listed to no one), by their author only; refused
with a message and nothing lost while the holder may still object to the record."""

from __future__ import annotations

import datetime
import io
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from esante import ratelimit
from esante.audit.models import AuditEvent, EventType
from esante.professionals.models import Profession, Professional
from esante.records import care, documents
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
from tests.accounts.wizard import page_text
from tests.practice.conftest import (
    pdf_upload,
    professional,
    professional_client,
    relate,
    stored_document,
)
from tests.records.conftest import logged_in

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


@pytest.fixture
def related(paul: Professional, alice_record: CareRecord) -> CareRecord:
    """Paul is in a care relationship with Alice."""
    relate(alice_record, paul)
    return alice_record


def add(client: Client, record: CareRecord, **fields: Any) -> Response:
    data = {
        "file": pdf_upload(),
        "category": "hospital",
        "title": "Compte rendu de consultation",
        "document_date": "2026-03-14",
        "confidentiality": "N",
        **fields,
    }
    return client.post(reverse("practice:add_document", args=[record.public_id]), data)


def stored_files() -> list[str]:
    storage = documents.storage()
    try:
        folders, _files = storage.listdir("")
    except FileNotFoundError:
        return []
    return [f"{folder}/{name}" for folder in folders for name in storage.listdir(folder)[1]]


def listed(client: Client, record: CareRecord) -> str:
    """The documents' table of the professional's record page (not its messages)."""
    page = page_text(client.get(reverse("practice:record", args=[record.public_id])))
    return page[page.index('id="documents"') : page.index('id="ajouter"')]


def png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 40)).save(output, format="PNG")
    return output.getvalue()


def test_a_document_added_is_listed_with_its_author_to_the_patient_too(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, related: CareRecord
) -> None:
    response = add(paul_logged_in, related, confidentiality="R")

    assert response.status_code == 302
    assert response["Location"] == reverse("practice:record", args=[related.public_id])
    document = Document.objects.get(record=related)
    assert document.professional == paul and document.author == "Paul Reding"
    assert document.category == Category.HOSPITAL
    assert document.confidentiality == document.author_confidentiality == "R"
    assert document.document_date == datetime.date(2026, 3, 14)
    page = page_text(paul_logged_in.get(response["Location"]))
    assert "Le document « Compte rendu de consultation » est ajouté." in page
    assert "Votre document" in page
    line = AccessEntry.objects.get(record=related, action=AccessAction.UPLOAD)
    assert (line.professional, line.capacity, line.target) == (
        paul,
        Capacity.CARE,
        "Compte rendu de consultation",
    )
    written = AuditEvent.objects.get(
        event_type=EventType.RECORD_CHANGED, actor=f"professional:{paul.pk}"
    )
    assert written.ip_address == "127.0.0.1"
    assert written.details["document"] == str(document.public_id)
    patients_page = page_text(
        logged_in(alice, "alice@example.lu").get(
            reverse("records:record", args=[related.public_id])
        )
    )
    assert "Compte rendu de consultation" in patients_page and "Paul Reding" in patients_page


def test_only_a_pdf_is_taken_and_what_was_typed_is_kept(
    paul_logged_in: Client, related: CareRecord
) -> None:
    for content, message in (
        (png(), "Seuls les documents PDF peuvent être ajoutés au DSP par un professionnel."),
        (b"MZ\x90\x00 not a document", "Seuls les documents PDF peuvent être ajoutés"),
    ):
        response = add(
            paul_logged_in,
            related,
            file=SimpleUploadedFile("scan.pdf", content, content_type="application/pdf"),
            title="Radiographie du genou",
        )

        assert response.status_code == 400
        page = page_text(response)
        assert message in page
        assert 'value="Radiographie du genou"' in page and 'value="2026-03-14"' in page
    assert not Document.objects.exists()
    assert stored_files() == []


def test_a_file_over_the_limit_is_dropped_as_it_comes(
    paul_logged_in: Client, related: CareRecord, settings: Any
) -> None:
    settings.ESANTE_UPLOAD_MAX_BYTES = 1024

    response = add(paul_logged_in, related, file=pdf_upload(content=b"%PDF-1.4\n" + b"0" * 4096))

    assert response.status_code == 400
    assert "Le fichier dépasse la taille maximale" in page_text(response)
    assert not Document.objects.exists()


def test_missing_fields_and_an_offered_category_only(
    paul_logged_in: Client, related: CareRecord
) -> None:
    response = add(paul_logged_in, related, category="patient", title="", document_date="")

    assert response.status_code == 400
    page = page_text(response)
    assert "Choisissez l'une des catégories proposées." in page
    assert "Donnez un titre au document." in page
    assert "Indiquez la date du document." in page
    assert not Document.objects.exists()


def test_nothing_is_written_while_the_holder_may_object(
    paul_logged_in: Client, related: CareRecord
) -> None:
    CareRecord.objects.filter(pk=related.pk).update(
        objection_until=timezone.now() + datetime.timedelta(days=10)
    )

    page = page_text(paul_logged_in.get(reverse("practice:record", args=[related.public_id])))
    response = add(paul_logged_in, related)

    objection = "Le patient peut encore s'opposer à l'ouverture de son DSP"
    assert objection in page and "Ajouter le document" not in page
    assert response.status_code == 400 and objection in page_text(response)
    assert not Document.objects.exists()
    assert stored_files() == []


def test_uploads_count_against_the_professionals_limit(
    paul_logged_in: Client, paul: Professional, related: CareRecord
) -> None:
    rule = next(rule for rule in ratelimit.RATE_LIMITS["document.upload"] if rule.scope == "key")
    elsewhere = RequestFactory().get("/", REMOTE_ADDR="192.0.2.4")
    for _hit in range(rule.limit):
        ratelimit.hit("document.upload", elsewhere, key=f"professional:{paul.pk}")

    assert add(paul_logged_in, related).status_code == 429
    assert not Document.objects.exists()


@pytest.fixture
def own(paul_logged_in: Client, related: CareRecord) -> Document:
    """Paul's report in Alice's record."""
    add(paul_logged_in, related, title="Compte rendu v1")
    return Document.objects.get(title="Compte rendu v1")


def replace(client: Client, document: Document, **fields: Any) -> Response:
    data = {
        "file": pdf_upload(content=b"%PDF-1.4\n% v2\n"),
        "title": "Compte rendu v2",
        "document_date": "2026-03-15",
        "confidentiality": "N",
        **fields,
    }
    url = reverse("practice:replace_document", args=[document.record.public_id, document.public_id])
    return client.post(url, data)


def withdraw(client: Client, document: Document, confirm: bool = True) -> Response:
    url = reverse(
        "practice:withdraw_document", args=[document.record.public_id, document.public_id]
    )
    return client.post(url, {"confirm": "on"} if confirm else {})


def test_a_new_version_replaces_the_old_which_is_kept(
    paul_logged_in: Client, paul: Professional, own: Document, related: CareRecord
) -> None:
    response = replace(paul_logged_in, own)

    new = Document.objects.get(title="Compte rendu v2")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "practice:document", args=[related.public_id, new.public_id]
    )
    own.refresh_from_db()
    assert own.superseded_at is not None and new.previous == own
    assert new.category == own.category and new.professional == paul
    listing = listed(paul_logged_in, related)
    assert "Compte rendu v2" in listing and "Compte rendu v1" not in listing
    old_page = reverse("practice:document", args=[related.public_id, own.public_id])
    assert paul_logged_in.get(old_page).status_code == 404
    assert documents.storage().exists(own.stored_name)
    assert AccessEntry.objects.filter(
        action=AccessAction.REPLACE_DOCUMENT, professional=paul, target="Compte rendu v2"
    ).exists()


def test_a_new_version_keeps_what_the_holder_decided(
    paul_logged_in: Client, alice: InsuredPerson, own: Document
) -> None:
    """Masked, raised to Restreint, named for a colleague: so is the new version, whatever
    level the author now sets."""
    colleague = professional("30000001", "Collègue")
    Document.objects.filter(pk=own.pk).update(
        masked_at=timezone.now(), confidentiality=Confidentiality.RESTRICTED
    )
    own.named_professionals.set([colleague])

    assert replace(paul_logged_in, own, confidentiality="N").status_code == 302

    new = Document.objects.get(title="Compte rendu v2")
    assert new.masked_at is not None
    assert new.confidentiality == Confidentiality.RESTRICTED
    assert new.author_confidentiality == Confidentiality.NORMAL
    assert list(new.named_professionals.all()) == [colleague]


def test_a_refused_new_version_keeps_what_was_typed(paul_logged_in: Client, own: Document) -> None:
    response = replace(
        paul_logged_in,
        own,
        file=SimpleUploadedFile("v2.pdf", png(), content_type="application/pdf"),
        title="Titre tapé",
    )

    assert response.status_code == 400
    page = page_text(response)
    assert "Seuls les documents PDF" in page and 'value="Titre tapé"' in page
    own.refresh_from_db()
    assert own.is_current


def test_a_withdrawn_document_is_listed_to_no_one_and_kept(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, own: Document
) -> None:
    record_url = reverse("practice:record", args=[own.record.public_id])

    refused = withdraw(paul_logged_in, own, confirm=False)
    assert refused.status_code == 400
    assert "Cochez la case pour confirmer le retrait." in page_text(refused)
    response = withdraw(paul_logged_in, own)

    assert response.status_code == 302 and response["Location"] == record_url
    own.refresh_from_db()
    assert own.withdrawn_at is not None
    assert documents.storage().exists(own.stored_name)
    assert "Compte rendu v1" not in listed(paul_logged_in, own.record)
    patients_page = page_text(
        logged_in(alice, "alice@example.lu").get(
            reverse("records:record", args=[own.record.public_id])
        )
    )
    assert "Compte rendu v1" not in patients_page
    assert AccessEntry.objects.filter(
        action=AccessAction.WITHDRAW_DOCUMENT, professional=paul, capacity=Capacity.CARE
    ).exists()


def test_only_the_author_replaces_or_withdraws(own: Document, related: CareRecord) -> None:
    colleague = professional("30000001", "Collègue", Profession.PHYSICIAN)
    relate(related, colleague)
    client = professional_client(colleague)
    page_url = reverse("practice:document", args=[related.public_id, own.public_id])

    page = page_text(client.get(page_url))
    assert "Compte rendu v1" in page
    assert "Remplacer" not in page and "Retirer le document" not in page
    assert replace(client, own).status_code == 404
    assert withdraw(client, own).status_code == 404
    own.refresh_from_db()
    assert own.is_current
    assert not Document.objects.filter(title="Compte rendu v2").exists()


def test_a_lab_document_is_nobodys_to_replace(paul_logged_in: Client, related: CareRecord) -> None:
    lab = stored_document(related)

    assert replace(paul_logged_in, lab).status_code == 404
    assert withdraw(paul_logged_in, lab).status_code == 404
    lab.refresh_from_db()
    assert lab.is_current


def test_the_author_is_offered_both_on_their_document(
    paul_logged_in: Client, own: Document
) -> None:
    page = page_text(
        paul_logged_in.get(reverse("practice:document", args=[own.record.public_id, own.public_id]))
    )

    assert "Enregistrer la nouvelle version" in page and "Retirer le document" in page
    assert 'value="Compte rendu v1"' in page


def test_a_professional_documents_author_sees_it_masked(
    paul_logged_in: Client, alice: InsuredPerson, own: Document
) -> None:
    care_record = own.record
    Document.objects.filter(pk=own.pk).update(masked_at=timezone.now())
    colleague = professional("30000001", "Collègue")
    relate(care_record, colleague)

    url = reverse("practice:record", args=[care_record.public_id])
    assert "Compte rendu v1" in page_text(paul_logged_in.get(url))
    assert "Compte rendu v1" not in page_text(professional_client(colleague).get(url))
    assert care.professional_label(colleague) == "Collègue (Médecin)"
