"""The demo DSP documents: PDFs from care providers, loaded with the demo persons."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from esante.demo.document_pdf import Grid, fill
from esante.demo.documents import DOCUMENTS, load_demo_documents
from esante.demo.persons import load_demo, load_demo_people
from esante.records.documents import storage
from esante.records.models import CareRecord, Category, Confidentiality, Document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def documents_storage(settings: Any, tmp_path: Path) -> Path:
    location = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


def stored_files(location: Path) -> list[Path]:
    return [path for path in location.rglob("*") if path.is_file()]


def test_demo_load_gives_records_valid_pdf_documents(documents_storage: Path) -> None:
    people, _ = load_demo()
    today = timezone.localdate()

    documents = list(Document.objects.select_related("record__person"))
    assert len(documents) == sum(len(demo) for demo in DOCUMENTS.values())
    assert len(stored_files(documents_storage)) == len(documents)
    for document in documents:
        with storage().open(document.stored_name) as file:
            content = file.read()
        assert content.startswith(b"%PDF-"), document
        assert content.rstrip().endswith(b"%%EOF"), document
        assert len(content) == document.size
        assert document.content_type == "application/pdf"
        assert document.uploaded_by is None
        assert document.masked_at is None
        assert document.author
        assert document.document_date < today
        assert document.record.person in people
    # Dates are relative to today.
    hector = next(person for person in people if person.first_name == "Hector")
    letter = Document.objects.get(record__person=hector, title__startswith="Lettre de sortie")
    assert letter.document_date == today - datetime.timedelta(days=44)
    assert letter.category == Category.HOSPITAL
    assert letter.author == "Dr Anne Kremer, Centre Hospitalier de Luxembourg"


def test_demo_documents_cover_every_provider_category_and_protected_levels() -> None:
    load_demo()

    categories = set(Document.objects.values_list("category", flat=True))
    assert categories == set(Category.values) - {Category.PATIENT}
    levels = set(Document.objects.values_list("confidentiality", flat=True))
    assert levels == set(Confidentiality.values)
    assert Document.objects.filter(confidentiality=Confidentiality.VERY_RESTRICTED).exists()
    counts = [record.documents.count() for record in CareRecord.objects.all()]
    assert len([count for count in counts if 3 <= count <= 7]) >= 6
    assert all(count <= 7 for count in counts)
    # Children's vaccination certificates.
    for first_name in ("Emma", "Tiago"):
        assert Document.objects.filter(
            record__person__first_name=first_name, category=Category.VACCINATION
        ).exists()


def test_loading_twice_creates_no_new_document(documents_storage: Path) -> None:
    people = load_demo_people()
    created = load_demo_documents(people)
    assert created == Document.objects.count() == sum(len(demo) for demo in DOCUMENTS.values())
    files = stored_files(documents_storage)
    records = CareRecord.objects.count()

    assert load_demo_documents(people) == 0
    load_demo()
    load_demo()

    assert Document.objects.count() == created
    # Every living demo person's DSP, once: the letters opened the ones missing.
    living = [person for person in people if person.date_of_death is None]
    assert records < CareRecord.objects.count() == len(living)
    assert stored_files(documents_storage) == files


def test_demo_documents_name_their_author_and_the_records_take_writing_now() -> None:
    load_demo()
    now = timezone.now()

    documents = list(Document.objects.select_related("professional"))
    assert documents
    for document in documents:
        assert document.professional is not None, document.title
        assert document.author_confidentiality == document.confidentiality
        # « Dr Paul Reding, Cabinet médical… », « Laboratoires Réunis ».
        assert document.author.removeprefix("Dr ").startswith(document.professional.full_name)
    assert Document.objects.filter(confidentiality=Confidentiality.RESTRICTED).exists()
    for record in CareRecord.objects.all():
        assert record.objection_until is None or record.objection_until <= now

    # Documents loaded by an earlier demo, without their author, get them at the next load.
    Document.objects.update(professional=None, author_confidentiality=Confidentiality.NORMAL)
    load_demo()
    assert not Document.objects.filter(professional__isnull=True).exists()
    assert Document.objects.filter(author_confidentiality=Confidentiality.RESTRICTED).exists()


def test_a_missing_document_is_added_again() -> None:
    people = load_demo_people()
    load_demo_documents(people)
    document = Document.objects.filter(category=Category.IMAGING).first()
    assert document is not None
    storage().delete(document.stored_name)
    document.delete()

    assert load_demo_documents(people) == 1
    assert Document.objects.filter(record=document.record, title=document.title).count() == 1


def test_deceased_persons_and_closed_records_get_no_documents() -> None:
    people = load_demo_people()
    marc = next(person for person in people if person.first_name == "Marc")
    CareRecord.objects.create(person=marc, closed_at=timezone.now())

    load_demo_documents(people)

    assert not Document.objects.filter(record__person=marc).exists()
    assert not Document.objects.filter(record__person__date_of_death__isnull=False).exists()


def test_demo_texts_are_unique_per_person_and_fit_the_pdf_fonts() -> None:
    people = {(person.first_name, person.last_name): person for person in load_demo_people()}
    today = timezone.localdate()

    for key, documents in DOCUMENTS.items():
        person = people[key]  # every key names a demo person
        assert 3 <= len(documents) <= 7
        assert len({document.title for document in documents}) == len(documents)
        for document in documents:
            assert document.days_ago > 0
            day = today - datetime.timedelta(days=document.days_ago)
            texts = [document.title, document.author]
            for block in document.blocks:
                texts.append(block.heading)
                if isinstance(block, Grid):
                    texts.extend(cell for row in block.rows for cell in row)
                    assert all(len(row) == len(block.columns) for row in block.rows)
                else:
                    texts.extend(block.paragraphs)
            for text in texts:
                filled = fill(text, person, day, today)
                assert "{" not in filled, text
                filled.encode("cp1252")  # Helvetica's WinAnsi: no black boxes
