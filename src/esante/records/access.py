"""Who may open a record: every record URL goes through `open_record`.

The holder, and the record's active assistants while it is open. The check is made on
every request from the database, so a removed assistant is refused at their very next
request. A record the visitor may not open answers 404, exactly as one that does not exist.
Every refusal is logged, and audited as `security.access_denied` up to a cap per visitor
(esante.audit.security_log; ASVS 5.0 16.3.2).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from esante.audit import security_log
from esante.records.models import Assistant, Capacity, CareRecord, Document
from esante.registry.models import InsuredPerson, born_on_or_before


def read_record(public_id: uuid.UUID) -> CareRecord | None:
    try:  # get(), not first(): public_id is unique, no ORDER BY to build
        return CareRecord.objects.get(public_id=public_id)
    except CareRecord.DoesNotExist:
        return None


def open_record(
    visitor: InsuredPerson,
    public_id: uuid.UUID,
    *,
    request: HttpRequest,
    read: Callable[[uuid.UUID], CareRecord | None] = read_record,
) -> tuple[CareRecord, Capacity]:
    """The record and the visitor's capacity, or 404 (logged with `request`'s address).
    `read` reads the record by its public id, when a page wants more in the same
    statement (the record page); the checks below are the same whatever it is."""
    record = read(public_id)
    if record is None:
        raise refusal(request, visitor, "unknown_record", record=str(public_id))
    if record.person_id == visitor.pk:
        # The holder's row, read with their session in this request: not read again.
        record.person = visitor
        return record, Capacity.OWNER
    # A closed record is open to no one but its holder, assistants included.
    if record.closed_at is None and active_assistants(record).filter(person=visitor).exists():
        return record, Capacity.ASSISTANT
    raise refusal(request, visitor, "not_holder_nor_assistant", record=str(public_id))


def open_document(
    record: CareRecord, public_id: uuid.UUID, *, request: HttpRequest, visitor: InsuredPerson
) -> Document:
    """A document of an opened record; none while the record is closed."""
    if record.closed_at is not None:
        raise refusal(request, visitor, "record_closed", record=str(record.public_id))
    document = record.documents.filter(public_id=public_id).first()
    if document is None:
        raise refusal(
            request,
            visitor,
            "unknown_document",
            record=str(record.public_id),
            document=str(public_id),
        )
    return document


def refusal(request: HttpRequest, visitor: InsuredPerson, reason: str, **details: Any) -> Http404:
    """The 404 of a refused access, logged and audited (`raise refusal(…)`): the visitor
    sees the answer for what does not exist, the agency sees who tried what."""
    security_log.access_denied(
        request, actor=f"person:{visitor.pk}", person=visitor, reason=reason, **details
    )
    return Http404()


def active_assistants(record: CareRecord) -> QuerySet[Assistant]:
    """Rights given during the holder's minority end at 18, from the birth date itself:
    not only when the daily `esante coming-of-age` has ended the rows."""
    assistants = record.assistants.filter(ended_at__isnull=True)
    if not record.person.is_minor:
        assistants = assistants.exclude(during_minority=True)
    return assistants


def assisted_records(visitor: InsuredPerson) -> QuerySet[CareRecord]:
    """The records where the visitor is an active assistant (*Accéder aux autres dossiers
    patient*), closed ones included so that the list can say they are closed."""
    adult = born_on_or_before(timezone.localdate())
    return (
        CareRecord.objects.filter(  # one filter(): the three conditions on the same row
            Q(assistants__during_minority=False) | Q(person__birth_date__gt=adult),
            assistants__person=visitor,
            assistants__ended_at__isnull=True,
        )
        .select_related("person")
        .order_by("person__last_name", "person__first_name")
    )
