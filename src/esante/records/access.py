"""Who may open a record, and which of its documents: the one gate (DESIGN.md, "The
access model"). Every record URL goes through `open_record` (patients) or
`open_record_as_professional` (health professionals), every document through
`open_document` or `professional_documents`.

Patients: the holder, and the record's active assistants while it is open.
Professionals: while the record is open, not blocked for them and they are active in the
register, with a current care relationship (capacity CARE), or else a current emergency
access if they are a physician and the holder has not refused emergency access
(capacity EMERGENCY). What each sees (`professional_documents`): *Normal* documents;
*Restreint* ones in a care relationship to the médecin référent and the professionals the
holder named for the document; *Très restreint* ones to no one else; masked ones to no
professional; and, always, the documents they wrote themselves. Replaced and withdrawn
documents are listed to no one.

Every check is made on every request from the database, so a removed assistant, an
ended relationship, a block or a professional made inactive is refused at the very next
request. A record the visitor may not open answers 404, exactly as one that does not
exist. Every refusal is logged, and audited as `security.access_denied` up to a cap per
visitor (esante.audit.security_log; ASVS 5.0 16.3.2).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from esante.audit import security_log
from esante.professionals.models import PHYSICIANS, Professional
from esante.records.models import (
    Assistant,
    Capacity,
    CareRecord,
    CareRelationship,
    Confidentiality,
    Document,
    EmergencyAccess,
    ProfessionalBlock,
)
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
    # A replaced version stays open to them (the document's page lists its versions); a
    # withdrawn document to no one.
    document = record.documents.filter(public_id=public_id, withdrawn_at__isnull=True).first()
    if document is None:
        raise refusal(
            request,
            visitor,
            "unknown_document",
            record=str(record.public_id),
            document=str(public_id),
        )
    return document


def refusal(
    request: HttpRequest, visitor: InsuredPerson | Professional, reason: str, **details: Any
) -> Http404:
    """The 404 of a refused access, logged and audited (`raise refusal(…)`): the visitor
    sees the answer for what does not exist, the agency sees who tried what."""
    if isinstance(visitor, Professional):
        security_log.access_denied(
            request, actor=f"professional:{visitor.pk}", reason=reason, **details
        )
    else:
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


# Health professionals ------------------------------------------------------------------


@dataclass(frozen=True)
class ProfessionalAccess:
    """A professional's standing access to one record, as the gate found it now."""

    record: CareRecord
    professional: Professional
    capacity: Capacity  # CARE or EMERGENCY
    until: datetime.datetime
    is_referent: bool

    @property
    def sees_organ_declaration(self) -> bool:
        return self.professional.is_physician

    @property
    def may_write(self) -> bool:
        """Writing waits for the end of the holder's objection period."""
        until = self.record.objection_until
        return until is None or timezone.now() >= until


def is_blocked(record: CareRecord, professional: Professional) -> bool:
    return (
        ProfessionalBlock.objects.standing()
        .filter(record=record, professional=professional)
        .exists()
    )


def current_relationship(
    record: CareRecord, professional: Professional, now: datetime.datetime | None = None
) -> CareRelationship | None:
    return (
        CareRelationship.objects.current(now)
        .filter(record=record, professional=professional)
        .first()
    )


def current_emergency(
    record: CareRecord, professional: Professional, now: datetime.datetime | None = None
) -> EmergencyAccess | None:
    return (
        EmergencyAccess.objects.current(now)
        .filter(record=record, professional=professional)
        .order_by("-ends_at")
        .first()
    )


def professional_access(
    record: CareRecord, professional: Professional
) -> ProfessionalAccess | None:
    """What `professional` may do in `record` now, or None: no access of any kind."""
    if not professional.is_active or record.closed_at is not None:
        return None
    if is_blocked(record, professional):
        return None
    now = timezone.now()
    is_referent = record.referent_id == professional.pk and professional.is_physician
    relationship = current_relationship(record, professional, now)
    if relationship is not None:
        return ProfessionalAccess(
            record, professional, Capacity.CARE, relationship.ends_at, is_referent
        )
    if professional.is_physician and not record.refuses_emergency_access:
        emergency = current_emergency(record, professional, now)
        if emergency is not None:
            # In an emergency, a médecin référent sees what any related professional sees.
            return ProfessionalAccess(
                record, professional, Capacity.EMERGENCY, emergency.ends_at, False
            )
    return None


def open_record_as_professional(
    professional: Professional, public_id: uuid.UUID, *, request: HttpRequest
) -> ProfessionalAccess:
    """The professional's access to the record, or 404 (logged), whatever the reason: no
    such record, closed, blocked, no relationship, an ended one, inactive."""
    record = CareRecord.objects.select_related("person").filter(public_id=public_id).first()
    if record is None:
        raise refusal(request, professional, "unknown_record", record=str(public_id))
    access = professional_access(record, professional)
    if access is None:
        raise refusal(request, professional, "no_care_access", record=str(public_id))
    return access


def professional_documents(access: ProfessionalAccess) -> QuerySet[Document]:
    """The record's documents `access` lets its professional see (module docstring)."""
    professional = access.professional
    levels = Q(confidentiality=Confidentiality.NORMAL)
    if access.capacity is Capacity.CARE:
        if access.is_referent:
            levels |= Q(confidentiality=Confidentiality.RESTRICTED)
        else:
            named = Document.named_professionals.through.objects.filter(
                document=OuterRef("pk"), professional=professional
            )
            levels |= Q(confidentiality=Confidentiality.RESTRICTED) & Q(Exists(named))
    visible = (levels & Q(masked_at__isnull=True)) | Q(professional=professional)
    return access.record.documents.filter(
        visible, superseded_at__isnull=True, withdrawn_at__isnull=True
    )


def open_document_as_professional(
    access: ProfessionalAccess, public_id: uuid.UUID, *, request: HttpRequest
) -> Document:
    document = professional_documents(access).filter(public_id=public_id).first()
    if document is None:
        raise refusal(
            request,
            access.professional,
            "document_not_visible",
            record=str(access.record.public_id),
            document=str(public_id),
        )
    return document


def professional_records(professional: Professional) -> QuerySet[CareRelationship]:
    """The professional's current care relationships (*Mes patients*), with their
    records and holders: none while inactive; a blocked or closed record is not listed."""
    if not professional.is_active:
        return CareRelationship.objects.none()
    blocked = ProfessionalBlock.objects.standing().filter(
        record=OuterRef("record"), professional=professional
    )
    return (
        CareRelationship.objects.current()
        .filter(professional=professional, record__closed_at__isnull=True)
        .exclude(Exists(blocked))
        .select_related("record__person")
        .order_by("record__person__last_name", "record__person__first_name")
    )


def professional_emergencies(professional: Professional) -> QuerySet[EmergencyAccess]:
    """The physician's emergency accesses under way, each record listed once (the last
    one to end), the ones the gate would refuse left out (a block, a closed record, the
    holder's refusal)."""
    if not professional.is_active or not professional.is_physician:
        return EmergencyAccess.objects.none()
    blocked = ProfessionalBlock.objects.standing().filter(
        record=OuterRef("record"), professional=professional
    )
    later = EmergencyAccess.objects.filter(
        record=OuterRef("record"), professional=professional, ends_at__gt=OuterRef("ends_at")
    )
    return (
        EmergencyAccess.objects.current()
        .filter(
            professional=professional,
            record__closed_at__isnull=True,
            record__refuses_emergency_access=False,
        )
        .exclude(Exists(blocked))
        .exclude(Exists(later))
        .select_related("record__person")
        .order_by("-started_at")
    )


def record_emergencies(record: CareRecord) -> QuerySet[EmergencyAccess]:
    """The emergency accesses under way that the gate honours, for *Mes professionnels*:
    none while the record is closed or refuses emergency access; a blocked or inactive
    professional's left out."""
    if record.closed_at is not None or record.refuses_emergency_access:
        return EmergencyAccess.objects.none()
    blocked = ProfessionalBlock.objects.standing().filter(
        record=record, professional=OuterRef("professional")
    )
    return (
        record.emergency_accesses.current()
        .filter(
            professional__is_active=True,
            professional__profession__in=PHYSICIANS,
        )
        .exclude(Exists(blocked))
        .select_related("professional")
        .order_by("-started_at", "-pk")
    )
