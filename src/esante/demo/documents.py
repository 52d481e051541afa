"""Demo documents for the DSP: what care providers have sent to a dozen demo persons.

Loaded with the demo persons (`esante load-demo`, esante.demo.persons.load_demo). Their
texts are data, documents.toml beside this module; each document becomes a short PDF
drawn at load time (esante.demo.document_pdf). Dates are relative to the day of loading,
so the demo stays fresh.

Idempotent: a document is recognised by its record and title (titles are unique per
person), so a second run creates nothing.
"""

from __future__ import annotations

import datetime
import tomllib
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from esante.demo.document_pdf import (
    Block,
    DemoDocument,
    Grid,
    Provider,
    Signatory,
    Text,
    render_pdf,
)
from esante.professionals.models import Profession, Professional
from esante.records.documents import save_file
from esante.records.models import CareRecord, Category, Confidentiality, Document
from esante.registry.models import InsuredPerson

DATA_FILE = Path(__file__).with_name("documents.toml")


def read_data(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        return tomllib.load(file)


def read_senders(
    data: dict[str, Any],
) -> tuple[dict[str, Provider], dict[str, Signatory]]:
    """The providers and the signatories of the data file, by their keys."""
    providers = {
        key: Provider(entry["name"], tuple(entry["address"]), entry.get("service", ""))
        for key, entry in data["providers"].items()
    }
    signatories = {key: Signatory(**entry) for key, entry in data["signatories"].items()}
    return providers, signatories


def read_documents(path: Path) -> dict[tuple[str, str], tuple[DemoDocument, ...]]:
    """Each demo person's documents, by (first name, last name), as the data file lists
    them (its first lines say how)."""
    data = read_data(path)
    providers, signatories = read_senders(data)
    layouts: dict[str, dict[str, Any]] = data["layouts"]

    def block(entry: dict[str, Any]) -> Block:
        heading = entry.get("heading", "")
        if "paragraphs" in entry:
            return Text(heading, tuple(entry["paragraphs"]))
        table = layouts[entry["layout"]] if "layout" in entry else entry
        return Grid(
            heading,
            tuple(table["columns"]),
            tuple(table["widths"]),
            tuple(tuple(row) for row in entry["rows"]),
            flagged=table.get("flagged", False),
        )

    def document(entry: dict[str, Any]) -> DemoDocument:
        provider = providers[entry["provider"]]
        if "service" in entry:
            provider = provider.at(entry["service"])
        return DemoDocument(
            Category[entry["category"].upper()],
            entry["title"],
            entry["days_ago"],
            provider,
            signatories[entry["signatory"]],
            tuple(block(item) for item in entry["blocks"]),
            Confidentiality[entry.get("confidentiality", "normal").upper()],
        )

    return {
        (patient["first_name"], patient["last_name"]): tuple(
            document(entry) for entry in patient["documents"]
        )
        for patient in data["patients"]
    }


DOCUMENTS = read_documents(DATA_FILE)
# Who sends them (esante.demo.professionals registers them).
PROVIDERS, SIGNATORIES = read_senders(read_data(DATA_FILE))


class Authors:
    """The demo professional who wrote each demo document, as the register holds them
    (esante.demo.professionals registers them): a laboratory's results by the laboratory,
    listed under its name; any other document by the physician who signs it, « Dr Paul
    Reding », by first and last name. Read in one query."""

    def __init__(self) -> None:
        self.physicians: dict[tuple[str, str], Professional] = {}
        self.laboratories: dict[str, Professional] = {}
        for professional in Professional.objects.filter(
            profession__in=[Profession.PHYSICIAN, Profession.LABORATORY]
        ):
            if professional.profession == Profession.LABORATORY:
                self.laboratories[professional.last_name] = professional
            else:
                key = (professional.first_name, professional.last_name)
                self.physicians[key] = professional

    def of(self, demo: DemoDocument) -> Professional | None:
        """Its author, or None when the demo professionals are not loaded."""
        if demo.category == Category.LABORATORY:
            return self.laboratories.get(demo.provider.name)
        first_name, _space, last_name = demo.signatory.name.removeprefix("Dr ").partition(" ")
        return self.physicians.get((first_name, last_name))


@transaction.atomic
def load_demo_documents(people: list[InsuredPerson]) -> int:
    """Give the demo persons their documents, the missing ones only; returns how many
    were created. Deceased persons and closed records get none. Each names its author
    among the demo professionals, with the author's confidentiality level (also on the
    documents an earlier version of the demo loaded without)."""
    today = timezone.localdate()
    authors = Authors()
    created = 0
    for person in people:
        documents = DOCUMENTS.get((person.first_name, person.last_name), ())
        if not documents or person.date_of_death is not None:
            continue
        record, _ = CareRecord.objects.get_or_create(person=person)
        if record.closed_at is not None:
            continue
        present = {
            document.title: document
            for document in record.documents.filter(uploaded_by__isnull=True)
        }
        for demo in documents:
            author = authors.of(demo)
            document = present.get(demo.title)
            if document is None:
                add_document(record, person, demo, today, professional=author)
                created += 1
            elif document.professional_id is None and author is not None:
                Document.objects.filter(pk=document.pk).update(
                    professional=author, author_confidentiality=demo.confidentiality
                )
    return created


def open_demo_records_to_professionals(people: list[InsuredPerson]) -> int:
    """The demo persons' DSPs as if opened long ago: their objection period over, so that
    the demo professionals may write into them at once (a new letter run opens records
    with 30 days to object). Returns how many were changed (none the second time)."""
    return CareRecord.objects.filter(person__in=people, objection_until__gt=timezone.now()).update(
        objection_until=timezone.now()
    )


def add_document(
    record: CareRecord,
    person: InsuredPerson,
    demo: DemoDocument,
    today: datetime.date,
    *,
    professional: Professional | None = None,
) -> Document:
    day = today - datetime.timedelta(days=demo.days_ago)
    pdf = render_pdf(demo, person, day, today)
    stored_name = save_file(record.public_id, ContentFile(pdf, name="document.pdf"))
    return Document.objects.create(
        record=record,
        category=demo.category,
        title=demo.title,
        author=demo.author,
        document_date=day,
        stored_name=stored_name,
        content_type="application/pdf",
        size=len(pdf),
        # Received from the provider at the end of that day.
        added_at=datetime.datetime.combine(
            day, datetime.time(18, 0), tzinfo=timezone.get_current_timezone()
        ),
        uploaded_by=None,
        confidentiality=demo.confidentiality,
        professional=professional,
        author_confidentiality=demo.confidentiality,
    )
