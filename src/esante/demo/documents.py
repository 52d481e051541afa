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


@transaction.atomic
def load_demo_documents(people: list[InsuredPerson]) -> int:
    """Give the demo persons their documents, the missing ones only; returns how many
    were created. Deceased persons and closed records get none."""
    today = timezone.localdate()
    created = 0
    for person in people:
        documents = DOCUMENTS.get((person.first_name, person.last_name), ())
        if not documents or person.date_of_death is not None:
            continue
        record, _ = CareRecord.objects.get_or_create(person=person)
        if record.closed_at is not None:
            continue
        present = set(
            record.documents.filter(uploaded_by__isnull=True).values_list("title", flat=True)
        )
        for demo in documents:
            if demo.title in present:
                continue
            add_document(record, person, demo, today)
            created += 1
    return created


def add_document(
    record: CareRecord, person: InsuredPerson, demo: DemoDocument, today: datetime.date
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
    )
