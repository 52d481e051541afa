"""The patient's own copy of their DSP (issue 19, point 5): *Mon DSP* → « Télécharger mon
dossier » gives one ZIP, made while it is sent:

- `documents/`: the file of each document, named `<date>-<title>-<short id>.<ext>` (ASCII,
  unique in the archive);
- `dossier.json`: the record as a FHIR R4 `Bundle` of type `collection` — the Patient, the
  active assistants (RelatedPerson), the professionals it names (Practitioner), the
  documents (DocumentReference, each `content[0].attachment.url` the file's path in the
  ZIP), the Consents and the access journal (AuditEvent);
- `index.html`: a summary to open in a browser, in the person's language, self-contained
  (inline CSS, no script): the patient, the documents with a link to each file, the
  assistants, the professionals with access, and what dossier.json is.

What is copied is what the gate (esante.records.access.open_record) let the visitor — the
holder or an active assistant, « mêmes droits » — open when the download started: the
documents *Mon DSP* lists, masked ones included, none while the record is closed, as
they stood at that instant (`RecordCopy.at`). A document added, replaced or withdrawn
while the ZIP is being sent changes none of the three parts, so that they agree (one
deleted from the Espace personnel meanwhile may be missing from those after its file).
The Patient carries no matricule: the file may travel, and the API itself gives the
matricule only to a service granted its scope.

Nothing of the record is held whole in memory: the documents and the journal are read
with `.iterator()`, each resource is serialized on its own, each file is copied in
chunks, and the archive (zipstream-ng) keeps only each entry's header for its central
directory. A record of 1,000 documents streams in a few megabytes
(tests/fhir/test_export.py measures it)."""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import zipstream
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext_lazy

from esante.fhir import resources
from esante.portal.elision import NamedSentence
from esante.professionals.models import Professional
from esante.records import documents
from esante.records.access import active_assistants, record_emergencies
from esante.records.models import (
    AccessEntry,
    Assistant,
    CareRecord,
    CareRelationship,
    Category,
    Confidentiality,
    Document,
)
from esante.registry.models import InsuredPerson

logger = logging.getLogger(__name__)

T = TypeVar("T")

FILE_CHUNK = 64 * 1024  # bytes read from the storage at a time
SENT_CHUNK = 64 * 1024  # at least this much in each piece handed to the server
ROWS_PER_READ = 100  # the .iterator()s' chunk_size: rows held at once
ROWS_PER_RENDER = 100  # index.html's document rows rendered at once
TITLE_IN_NAME = 60  # characters of the title in a file's name


@dataclass(frozen=True)
class RecordCopy:
    """One download: the record the gate opened, for whom, when, in which language."""

    record: CareRecord
    visitor: InsuredPerson  # the holder or an active assistant
    language: str
    base: str  # the FHIR API's address: each entry's fullUrl
    at: datetime.datetime = field(default_factory=timezone.now)

    def documents(self) -> QuerySet[Document]:
        """The documents *Mon DSP* listed at `at`, newest first (Document's ordering)."""
        if self.record.closed_at is not None:
            return Document.objects.none()  # a closed record shows no document
        listed = (Q(superseded_at__isnull=True) | Q(superseded_at__gt=self.at)) & (
            Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=self.at)
        )
        return self.record.documents.filter(listed, added_at__lte=self.at)

    def file_name(self) -> str:
        """The ZIP's name: `dsp-<holder>-<date>.zip`, the date in Luxembourg."""
        person = self.record.person
        holder = slugify(f"{person.last_name} {person.first_name}") or "dossier"
        return f"dsp-{holder}-{timezone.localtime(self.at).date().isoformat()}.zip"


def zip_chunks(copy: RecordCopy) -> Iterator[bytes]:
    """The ZIP, piece by piece, each made with the person's language active — and only
    while it is made: between two pieces the server thread serves others."""
    return _in_language(copy.language, _coalesced(_archive(copy)))


def _archive(copy: RecordCopy) -> Iterator[bytes]:
    # The files first: the two parts after them know which ones were found.
    stream = zipstream.ZipStream(compress_type=zipstream.ZIP_DEFLATED)
    files = Files()
    for document in copy.documents().only(*PATH_FIELDS).iterator(chunk_size=ROWS_PER_READ):
        found = files.take(document)
        if found is None:
            continue
        handle, path = found
        # Documents are PDF, JPEG and PNG, compressed already: stored as they are.
        stream.add(_read(handle), path, compress_type=zipstream.ZIP_STORED)
        yield from stream.all_files()  # this one file, read from the storage as it goes
    stream.add(bundle(copy, files), "dossier.json")
    yield from stream.all_files()
    stream.add(index(copy, files), "index.html")
    yield from stream.finalize()


# documents/ -------------------------------------------------------------------------------

PATH_FIELDS = ("id", "public_id", "title", "document_date", "stored_name", "content_type")


def document_path(document: Document, *, id_length: int = 8) -> str:
    """`documents/2025-03-01-bilan-sanguin-1a2b3c4d.pdf`: ASCII only (a title's accents
    dropped), so that every unzipping tool names it alike."""
    title = slugify(document.title)[:TITLE_IN_NAME].strip("-") or "document"
    short_id = document.public_id.hex[:id_length]
    return f"documents/{document.document_date.isoformat()}-{title}-{short_id}.{document.extension}"


@dataclass
class Files:
    """What the files' pass wrote, for dossier.json and index.html after it: how many, the
    documents whose file was not found, and the rare name lengthened not to repeat one."""

    written: int = 0
    missing: set[int] = field(default_factory=set)
    lengthened: dict[int, str] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)

    def take(self, document: Document) -> tuple[IO[bytes], str] | None:
        """The document's stored file, opened, and its name in the ZIP; None when the
        storage has no such file (logged: the index says it, the ZIP stays whole)."""
        try:
            handle: IO[bytes] = documents.storage().open(document.stored_name, "rb")
        except FileNotFoundError:
            logger.error("export: the file of document %s is missing", document.public_id)
            self.missing.add(document.pk)
            return None
        path = document_path(document)
        if path in self.taken:  # the same date, title and 8 first digits of the id
            path = document_path(document, id_length=32)
            self.lengthened[document.pk] = path
        self.taken.add(path)
        self.written += 1
        return handle, path

    def path(self, document: Document) -> str | None:
        """The document's file in the ZIP; None if it was not found."""
        if document.pk in self.missing:
            return None
        return self.lengthened.get(document.pk) or document_path(document)


def _read(handle: IO[bytes]) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(FILE_CHUNK):
            yield chunk


# dossier.json -----------------------------------------------------------------------------


def bundle(copy: RecordCopy, files: Files) -> Iterator[bytes]:
    """The Bundle's JSON, one entry at a time (never the whole text at once)."""
    bundle_id = uuid.uuid4()
    head: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(bundle_id),
        "meta": {"lastUpdated": resources.instant(copy.at)},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
        "type": "collection",
        "timestamp": resources.instant(copy.at),
    }
    opening = json.dumps(head, ensure_ascii=False)
    yield f'{opening[:-1]}, "entry": [\n'.encode()
    separator = ""
    for resource in bundle_resources(copy, files):
        entry = {
            "fullUrl": f"{copy.base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
        }
        yield f"{separator}{json.dumps(entry, ensure_ascii=False)}".encode()
        separator = ",\n"
    yield b"\n]}\n"


def bundle_resources(copy: RecordCopy, files: Files) -> Iterator[resources.Resource]:
    record = copy.record
    yield resources.patient(record, with_matricule=False)
    for assistant in _assistants(record):
        yield resources.related_person(assistant, record)
    for professional in named_professionals(copy).iterator(chunk_size=ROWS_PER_READ):
        yield resources.practitioner(professional)
    listed = copy.documents().select_related("professional", "previous")
    for document in listed.iterator(chunk_size=ROWS_PER_READ):
        yield _document_reference(copy, document, files)
    yield from resources.consents(record, copy.at)
    agents = resources.Agents.of(record)
    for entry in _journal(copy).iterator(chunk_size=ROWS_PER_READ):
        yield resources.audit_event(entry, agents)


def _document_reference(copy: RecordCopy, document: Document, files: Files) -> resources.Resource:
    """The API's DocumentReference, its attachment pointing to the file in the ZIP
    (none when the file was not found)."""
    resource = resources.document_reference(document, copy.record, copy.base)
    attachment = resource["content"][0]["attachment"]
    path = files.path(document)
    if path is None:
        del attachment["url"]
    else:
        attachment["url"] = path
    return resource


def _assistants(record: CareRecord) -> QuerySet[Assistant]:
    return active_assistants(record).select_related("person").order_by("added_at", "pk")


def named_professionals(copy: RecordCopy) -> QuerySet[Professional]:
    """Every professional the Bundle names — authors, journal lines, relationships,
    emergency accesses, blocks — so that each reference resolves inside it."""
    record = copy.record
    named = (
        Q(pk__in=copy.documents().values("professional"))
        | Q(pk__in=record.journal.values("professional"))
        | Q(pk__in=record.care_relationships.values("professional"))
        | Q(pk__in=record.emergency_accesses.values("professional"))
        | Q(pk__in=record.blocks.values("professional"))
    )
    return Professional.objects.filter(named).order_by("last_name", "first_name", "pk")


def _journal(copy: RecordCopy) -> QuerySet[AccessEntry]:
    """The *Historique des accès* up to the download's start, its own line included."""
    return (
        copy.record.journal.filter(at__lte=copy.at)
        .select_related("actor", "professional")
        .order_by("-at", "-pk")
    )


# index.html -------------------------------------------------------------------------------

# Translators: « de Zoé » and « d'Emma » (esante.portal.elision): translate both alike.
HEADING = NamedSentence(
    gettext_lazy("Dossier de Soins Partagé de %(name)s"),
    gettext_lazy("Dossier de Soins Partagé d'%(name)s"),
)


@dataclass(frozen=True)
class IndexRow:
    date: str
    title: str
    category: str
    author: str
    confidentiality: str
    masked: bool
    path: str | None  # None: the file was not found


@dataclass(frozen=True)
class ProfessionalRow:
    name: str
    profession: str
    access: str  # how: "granted", "declared" (RelationshipOrigin) or "emergency"
    until: datetime.datetime


def index(copy: RecordCopy, files: Files) -> Iterator[bytes]:
    """The summary, rendered in parts: its start, the document rows by ROWS_PER_RENDER,
    its end."""
    count = files.written + len(files.missing)
    closed = copy.record.closed_at is not None
    holder = copy.record.person
    context = {
        "copy": copy,
        "holder": holder,
        "heading": HEADING(holder.first_name, name=holder.full_name),
        "generated_at": timezone.localtime(copy.at),
        "document_count": count,
        "missing_count": len(files.missing),
        "closed": closed,
        "with_table": count > 0 and not closed,  # opened by index_start, closed by index_end
        "language": copy.language,
    }
    yield render_to_string("fhir/export/index_start.html", context).encode()
    rows: list[IndexRow] = []
    for document in copy.documents().iterator(chunk_size=ROWS_PER_READ):
        rows.append(_index_row(document, files))
        if len(rows) == ROWS_PER_RENDER:
            yield render_to_string("fhir/export/index_rows.html", {"rows": rows}).encode()
            rows = []
    if rows:
        yield render_to_string("fhir/export/index_rows.html", {"rows": rows}).encode()
    end = {
        **context,
        "assistants": list(_assistants(copy.record)),
        "professionals": professionals_with_access(copy.record),
    }
    yield render_to_string("fhir/export/index_end.html", end).encode()


def _index_row(document: Document, files: Files) -> IndexRow:
    return IndexRow(
        date=date_format(document.document_date, "SHORT_DATE_FORMAT"),
        title=document.title,
        category=str(Category(document.category).label),
        author=document.author,
        confidentiality=str(Confidentiality(document.confidentiality).label),
        masked=document.masked_at is not None,
        path=files.path(document),
    )


def professionals_with_access(record: CareRecord) -> list[ProfessionalRow]:
    """Who has access now, as *Mes professionnels* says it: the current care
    relationships of active professionals the holder has not blocked, and the emergency
    accesses the gate honours; nobody while the record is closed."""
    if record.closed_at is not None:
        return []
    relationships = (
        CareRelationship.objects.current()
        .filter(record=record, professional__is_active=True)
        .exclude(professional__in=record.blocks.standing().values("professional"))
        .select_related("professional")
        .order_by("professional__last_name", "professional__first_name", "pk")
    )
    rows = [
        ProfessionalRow(
            name=each.professional.full_name,
            profession=str(each.professional.get_profession_display()),
            access=each.origin,
            until=each.ends_at,
        )
        for each in relationships
    ]
    rows += [
        ProfessionalRow(
            name=each.professional.full_name,
            profession=str(each.professional.get_profession_display()),
            access="emergency",
            until=each.ends_at,
        )
        for each in record_emergencies(record)
    ]
    return rows


# Streaming --------------------------------------------------------------------------------


def _coalesced(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The pieces joined up to SENT_CHUNK: the compressor gives many small ones, and
    empty ones, which the server would each write on its own."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        if len(buffer) >= SENT_CHUNK:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _in_language(language: str, items: Iterator[T]) -> Iterator[T]:
    """`items`, each made under `language`, which is never left active between two: the
    generator may be resumed, or closed, in whatever the thread does next."""
    while True:
        with translation.override(language):
            try:
                item = next(items)
            except StopIteration:
                return
        yield item
