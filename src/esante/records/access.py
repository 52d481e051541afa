"""Who may open a record: every record URL goes through `open_record`.

The holder, and the record's active assistants while it is open. The check is made on
every request from the database, so a removed assistant is refused at their very next
request. A record the visitor may not open answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from esante.records.models import Assistant, Capacity, CareRecord, Document
from esante.registry.models import InsuredPerson


def open_record(visitor: InsuredPerson, public_id: uuid.UUID) -> tuple[CareRecord, Capacity]:
    record = CareRecord.objects.select_related("person").filter(public_id=public_id).first()
    if record is None:
        raise Http404
    if record.person_id == visitor.pk:
        return record, Capacity.OWNER
    # A closed record is open to no one but its holder, assistants included.
    if record.closed_at is None and active_assistants(record).filter(person=visitor).exists():
        return record, Capacity.ASSISTANT
    raise Http404


def open_document(record: CareRecord, public_id: uuid.UUID) -> Document:
    """A document of an opened record; none while the record is closed."""
    if record.closed_at is not None:
        raise Http404
    document = record.documents.filter(public_id=public_id).first()
    if document is None:
        raise Http404
    return document


def active_assistants(record: CareRecord) -> QuerySet[Assistant]:
    return record.assistants.filter(ended_at__isnull=True)


def assisted_records(visitor: InsuredPerson) -> QuerySet[CareRecord]:
    """The records where the visitor is an active assistant (*Accéder aux autres dossiers
    patient*), closed ones included so that the list can say they are closed."""
    return (
        CareRecord.objects.filter(assistants__person=visitor, assistants__ended_at__isnull=True)
        .select_related("person")
        .order_by("person__last_name", "person__first_name")
    )
