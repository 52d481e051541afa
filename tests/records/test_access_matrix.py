"""The access matrix: every record URL and action, for alice (the holder), bob (her
assistant), a removed assistant (dan) and charlie (an outsider). Allowed exactly where the
rules say, 404 elsewhere — the same answer as for a record that does not exist — and
every access journaled with who, in which capacity, and what."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.audit.models import AuditEvent, EventType
from esante.records import documents
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Assistant,
    Capacity,
    CareRecord,
    Category,
    Document,
)
from esante.registry.models import InsuredPerson
from tests.factories import make_person, years_ago
from tests.records.conftest import logged_in
from tests.records.test_documents import PDF

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[CareRecord, Document, Assistant], str]
    data: Callable[[Assistant], dict[str, object]]
    journaled: AccessAction | None
    holder_only: bool = False


def _record(name: str) -> Callable[[CareRecord, Document, Assistant], str]:
    return lambda record, document, assistant: reverse(name, args=[record.public_id])


def _document(name: str) -> Callable[[CareRecord, Document, Assistant], str]:
    return lambda record, document, assistant: reverse(
        name, args=[record.public_id, document.public_id]
    )


def _no_data(assistant: Assistant) -> dict[str, object]:
    return {}


CASES = [
    Case("record", "get", _record("records:record"), _no_data, AccessAction.READ_RECORD),
    Case("journal", "get", _record("records:journal"), _no_data, AccessAction.READ_JOURNAL),
    Case("document page", "get", _document("records:document"), _no_data, None),
    Case("file", "get", _document("records:document_file"), _no_data, AccessAction.READ_DOCUMENT),
    Case(
        "upload",
        "post",
        _record("records:upload"),
        lambda _a: {
            "title": "Ordonnance",
            "document_date": "2026-01-05",
            "confidentiality": "N",
            "file": SimpleUploadedFile("o.pdf", PDF),
        },
        AccessAction.UPLOAD,
    ),
    Case("mask", "post", _document("records:mask"), lambda _a: {"masquer": "1"}, AccessAction.MASK),
    Case(
        "confidentiality",
        "post",
        _document("records:confidentiality"),
        lambda _a: {"confidentiality": "R"},
        AccessAction.CONFIDENTIALITY,
    ),
    Case(
        "search",
        "post",
        _record("records:assistant_search"),
        lambda _a: {"numero": "19800101123"},
        AccessAction.ASSISTANT_SEARCH,
    ),
    Case(
        "remove assistant",
        "post",
        lambda record, document, assistant: reverse(
            "records:assistant_remove", args=[record.public_id, assistant.pk]
        ),
        _no_data,
        AccessAction.REMOVE_ASSISTANT,
    ),
    # « Télécharger mon dossier » (esante.fhir.export): its page, and the ZIP by POST.
    Case("export page", "get", _record("fhir:export"), _no_data, None),
    Case("export", "post", _record("fhir:export"), _no_data, AccessAction.EXPORT),
    Case(
        "organ donation",
        "post",
        _record("records:organ_donation"),
        lambda _a: {"refuses_removal": "1"},
        AccessAction.ORGAN_DECLARATION,
        holder_only=True,
    ),
    Case(
        "close",
        "post",
        _record("records:close"),
        lambda _a: {"confirm": "on"},
        AccessAction.CLOSE,
        holder_only=True,
    ),
    Case("reopen", "post", _record("records:reopen"), _no_data, AccessAction.REOPEN, True),
]


@pytest.fixture
def world(alice: InsuredPerson, bob: InsuredPerson, charlie: InsuredPerson) -> dict[str, object]:
    dan = make_person("Dan", "Martin", years_ago(70), sex="M")
    clients = {
        "alice": logged_in(alice, "alice@example.lu"),
        "bob": logged_in(bob, "bob@example.lu"),
        "dan": logged_in(dan, "dan@example.lu"),
        "charlie": logged_in(charlie, "charlie@example.lu"),
    }
    record = CareRecord.objects.get(person=alice)
    Assistant.objects.create(record=record, person=bob, added_by=alice)
    Assistant.objects.create(
        record=record, person=dan, added_by=alice, ended_at="2026-01-01T00:00Z"
    )
    stored = documents.storage().save("matrix/doc", io.BytesIO(PDF))
    document = Document.objects.create(
        record=record,
        category=Category.HOSPITAL,
        title="Lettre de sortie",
        author="CHL",
        document_date="2026-01-02",
        stored_name=stored,
        content_type="application/pdf",
        size=len(PDF),
    )
    people = {"alice": alice, "bob": bob, "dan": dan, "charlie": charlie}
    return {"clients": clients, "record": record, "document": document, "people": people}


def _fresh_assistant(record: CareRecord, alice: InsuredPerson) -> Assistant:
    """The row each "remove assistant" case removes: a third person's."""
    person = make_person("Eve", "Klein", years_ago(35))
    return Assistant.objects.create(record=record, person=person, added_by=alice)


EXPECTED = {
    # who: (capacity, may do holder-only actions)
    "alice": (Capacity.OWNER, True),
    "bob": (Capacity.ASSISTANT, False),
    "dan": (None, False),
    "charlie": (None, False),
}


# What esante.records.actions.journal_change writes to the audit log as well.
CHANGES = {
    AccessAction.CLOSE,
    AccessAction.REOPEN,
    AccessAction.ORGAN_DECLARATION,
    AccessAction.UPLOAD,
    AccessAction.DELETE_DOCUMENT,
    AccessAction.MASK,
    AccessAction.UNMASK,
    AccessAction.CONFIDENTIALITY,
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_access_matrix(world: dict[str, object], alice: InsuredPerson, who: str) -> None:
    """Every case in turn, in CASES's order (close comes before reopen)."""
    clients: dict[str, Client] = world["clients"]  # type: ignore[assignment]
    record: CareRecord = world["record"]  # type: ignore[assignment]
    document: Document = world["document"]  # type: ignore[assignment]
    person: InsuredPerson = world["people"][who]  # type: ignore[index]
    client = clients[who]
    capacity, holder_powers = EXPECTED[who]
    changes = AuditEvent.objects.filter(event_type=EventType.RECORD_CHANGED)
    for case in CASES:
        assistant = _fresh_assistant(record, alice)
        if case.name == "reopen":
            CareRecord.objects.filter(pk=record.pk).update(closed_at=timezone.now())
        allowed = capacity is not None and (holder_powers or not case.holder_only)
        before = AccessEntry.objects.count()
        changes_before = changes.count()
        url = case.url(record, document, assistant)

        response = getattr(client, case.method)(url, case.data(assistant))

        if not allowed:
            assert response.status_code == 404, case.name
            assert AccessEntry.objects.count() == before, case.name  # nothing done
            assert changes.count() == changes_before, case.name
            elsewhere = url.replace(str(record.public_id), str(uuid.uuid4()))
            missing = getattr(client, case.method)(elsewhere, case.data(assistant))
            assert missing.status_code == 404, case.name  # as for a record that does not exist
            continue
        assert response.status_code in (200, 302), (case.name, response.status_code)
        if case.journaled is not None:
            entry = AccessEntry.objects.filter(record=record).order_by("-pk").first()
            assert entry is not None
            assert (entry.action, entry.capacity, entry.actor) == (
                case.journaled,
                capacity,
                person,
            ), case.name
        if case.journaled in CHANGES:  # a change, in the audit log too, titles left out
            event = AuditEvent.objects.filter(event_type=EventType.RECORD_CHANGED).latest("pk")
            assert (event.actor, event.person, event.details["action"]) == (
                f"person:{person.pk}",
                alice,
                case.journaled,
            ), case.name
            assert document.title not in str(event.details), case.name
    CareRecord.objects.filter(pk=record.pk).update(closed_at=None)
