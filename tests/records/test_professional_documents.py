"""A DSP's documents with professionals (issue 17, points 7 and 8, the patient's side):
the level never goes below the author's, a Restreint document's named professionals, the
professional author and the previous versions on the document's page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from esante.professionals.models import Professional
from esante.records.access import ProfessionalAccess, professional_access, professional_documents
from esante.records.actions import set_confidentiality
from esante.records.care import (
    add_professional_document,
    grant_relationship,
    replace_document,
    withdraw_document,
)
from esante.records.models import Capacity, CareRecord, Category, Confidentiality, Document
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import page_text
from tests.records.care_people import make_professional, record_of, url
from tests.records.test_documents import PDF

pytestmark = pytest.mark.django_db


def related(record: CareRecord, professional: Professional) -> ProfessionalAccess:
    """`professional` in a care relationship with a record past its objection period."""
    record.objection_until = None
    record.save(update_fields=["objection_until"])
    grant_relationship(
        record, professional, actor=record.person, capacity=Capacity.OWNER, ip_address=None
    )
    access = professional_access(record, professional)
    assert access is not None
    return access


def written(
    access: ProfessionalAccess, level: Confidentiality, title: str = "Compte rendu"
) -> Document:
    return add_professional_document(
        access,
        SimpleUploadedFile("cr.pdf", PDF),
        category=Category.HOSPITAL,
        title=title,
        document_date=datetime.date(2026, 3, 2),
        confidentiality=level,
    )


def level_options(page: str) -> list[str]:
    select = re.search(r'<select name="confidentiality".*?</select>', page, re.S)
    assert select
    return re.findall(r'<option value="(\w)"', select.group(0))


def test_the_level_is_never_lowered_below_the_authors(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    document = written(related(record, paul), Confidentiality.RESTRICTED)
    page_url = url("document", record, document.public_id)

    page = page_text(alice_client.get(page_url))
    assert level_options(page) == ["R", "V"]
    assert "Son auteur a choisi le niveau « Restreint »" in page

    refused = alice_client.post(
        url("confidentiality", record, document.public_id), {"confidentiality": "N"}
    )
    assert refused.status_code == 400
    assert "Choisissez l'un des niveaux proposés." in page_text(refused)
    document.refresh_from_db()
    assert document.confidentiality == Confidentiality.RESTRICTED

    alice_client.post(url("confidentiality", record, document.public_id), {"confidentiality": "V"})
    document.refresh_from_db()
    assert document.confidentiality == Confidentiality.VERY_RESTRICTED
    alice_client.post(url("confidentiality", record, document.public_id), {"confidentiality": "R"})
    document.refresh_from_db()
    assert document.confidentiality == Confidentiality.RESTRICTED

    with pytest.raises(ValueError, match="author"):
        set_confidentiality(document, Confidentiality.NORMAL, actor=alice, capacity=Capacity.OWNER)


def test_a_restricted_document_is_opened_to_the_professionals_named(
    alice_client: Client, alice: InsuredPerson, paul: Professional, sophie: Professional
) -> None:
    record = record_of(alice)
    document = written(related(record, paul), Confidentiality.RESTRICTED)
    sophies = related(record, sophie)
    outsider = make_professional("Marc", "Thill")
    assert document not in professional_documents(sophies)

    page = page_text(alice_client.get(url("document", record, document.public_id)))
    assert "Professionnels nommés" in page
    boxes = re.findall(r'name="professionnels" value="(\d+)"', page)
    assert sorted(boxes) == sorted([str(paul.pk), str(sophie.pk)])

    named = url("named_professionals", record, document.public_id)
    refused = alice_client.post(named, {"professionnels": [str(outsider.pk)]})
    assert refused.status_code == 400
    assert "Choisissez parmi les professionnels proposés." in page_text(refused)
    assert not document.named_professionals.exists()

    done = alice_client.post(named, {"professionnels": [str(sophie.pk)]})

    assert done.status_code == 302
    assert list(document.named_professionals.all()) == [sophie]
    assert document in professional_documents(sophies)
    # Unticking everyone takes it back.
    alice_client.post(named, {})
    assert not document.named_professionals.exists()
    assert document not in professional_documents(sophies)


def test_only_a_restricted_document_has_named_professionals(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    document = written(related(record, paul), Confidentiality.NORMAL)

    page = page_text(alice_client.get(url("document", record, document.public_id)))
    refused = alice_client.post(
        url("named_professionals", record, document.public_id), {"professionnels": [paul.pk]}
    )

    assert 'name="professionnels"' not in page
    assert refused.status_code == 400
    assert "Seul un document « Restreint » a des professionnels nommés." in page_text(refused)
    assert not document.named_professionals.exists()


def test_the_page_names_the_professional_author_and_the_previous_versions(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    access = related(record, paul)
    first = written(access, Confidentiality.NORMAL, "Compte rendu v1")
    second = replace_document(
        access,
        first,
        SimpleUploadedFile("cr.pdf", PDF),
        title="Compte rendu v2",
        document_date=datetime.date(2026, 3, 3),
        confidentiality=Confidentiality.NORMAL,
    )

    page = page_text(alice_client.get(url("document", record, second.public_id)))
    listed = page_text(alice_client.get(url("record", record)))
    old = page_text(alice_client.get(url("document", record, first.public_id)))

    assert "Paul Reding (Médecin)" in page
    assert "Versions précédentes" in page
    assert url("document", record, first.public_id) in page
    assert "Compte rendu v2" in listed and "Compte rendu v1" not in listed
    assert "Cette version a été remplacée le" in old


def test_a_withdrawn_document_is_neither_listed_nor_opened(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    access = related(record, paul)
    document = written(access, Confidentiality.NORMAL, "Ordonnance retirée")
    withdraw_document(access, document)

    assert "Ordonnance retirée" not in page_text(alice_client.get(url("record", record)))
    assert alice_client.get(url("document", record, document.public_id)).status_code == 404
