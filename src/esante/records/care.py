"""State changes of the professionals' side of a DSP (STYLE.md §2): care relationships
granted by the patient or declared by the professional, blocks, emergency access and its
review, the médecin référent, the professionals named for a document, and the documents
professionals write. Each one journals, audits and, where the holder must know, notifies.

Who may do what is the gate's (esante.records.access); the views call these once it has
let them through. The declaration and the emergency access find the record themselves,
by matricule and name: every way they can fail is one `CareRefused`, with no hint of why
(the audit row keeps the reason for the agency, never the matricule).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from esante.accounts.notices import notify_person
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.portal.helpdesk import helpdesk_contacts
from esante.professionals.models import Professional, folded
from esante.records import documents
from esante.records.access import ProfessionalAccess, active_assistants, is_blocked
from esante.records.actions import journal
from esante.records.models import (
    AccessAction,
    Capacity,
    CareRecord,
    CareRelationship,
    Category,
    Confidentiality,
    Document,
    EmergencyAccess,
    ProfessionalBlock,
    RelationshipOrigin,
)
from esante.registry.models import InsuredPerson


class CareRefused(Exception):
    """A declaration or an emergency access that opens nothing. Its message is the same
    whatever the reason."""


class DocumentRefused(Exception):
    """`field`: the form field at fault ("file" for the file itself), or None."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def relationship_days(professional: Professional) -> int:
    days = settings.ESANTE_CARE_RELATIONSHIP_DAYS
    return int(days.get(professional.profession, days["*"]))


def professional_label(professional: Professional) -> str:
    """« Dr … »-less, as the register writes them: « Paul Reding (Médecin) »."""
    return f"{professional.full_name} ({professional.get_profession_display()})"


def _actor(person: InsuredPerson) -> str:
    return f"person:{person.pk}"


def _professional_actor(professional: Professional) -> str:
    return f"professional:{professional.pk}"


def _start_relationship(
    record: CareRecord,
    professional: Professional,
    *,
    origin: RelationshipOrigin,
    reason: str = "",
    granted_by: InsuredPerson | None = None,
) -> CareRelationship:
    """A new relationship; the open one, if any, ends now (its end date kept)."""
    now = timezone.now()
    CareRelationship.objects.filter(
        record=record, professional=professional, ended_at__isnull=True
    ).update(ended_at=now)
    return CareRelationship.objects.create(
        record=record,
        professional=professional,
        origin=origin,
        reason=reason,
        granted_by=granted_by,
        started_at=now,
        ends_at=now + datetime.timedelta(days=relationship_days(professional)),
    )


# The patient's side (*Mes professionnels*) ----------------------------------------------


def _patient_change(
    record: CareRecord,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    action: AccessAction,
    target: str,
    event: EventType,
    ip_address: str | None,
    **details: object,
) -> None:
    """A change by the holder or an assistant: its journal line and its audit row (a
    `record.changed` one says which change, as esante.records.actions.journal_change's).
    A professional is named in `target` by their name alone: a line is read in every
    language, its target as it was written."""
    journal(record, actor=actor, capacity=capacity, action=action, target=target)
    if event == EventType.RECORD_CHANGED:
        details = {"action": action.value, "capacity": capacity.value, **details}
    record_event(event, actor=_actor(actor), person=record.person, ip_address=ip_address, **details)


@transaction.atomic
def grant_relationship(
    record: CareRecord,
    professional: Professional,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> CareRelationship:
    """The holder or an assistant opens the record to `professional` (the view has asked
    for a fresh second factor). A blocked or inactive professional, or a closed record,
    is refused (ValueError: the panel offers neither)."""
    if not professional.is_active or record.closed_at is not None:
        raise ValueError("Neither an inactive professional nor a closed record.")
    if is_blocked(record, professional):
        raise ValueError("Unblock the professional first.")
    relationship = _start_relationship(
        record, professional, origin=RelationshipOrigin.GRANTED, granted_by=actor
    )
    _patient_change(
        record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.GRANT,
        target=professional.full_name,
        event=EventType.CARE_RELATIONSHIP_GRANTED,
        ip_address=ip_address,
        professional=professional.pk,
        until=relationship.ends_at.isoformat(),
    )
    return relationship


@transaction.atomic
def end_relationship(
    relationship: CareRelationship,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> None:
    """Effective at the professional's very next request."""
    ended = CareRelationship.objects.filter(pk=relationship.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_by=actor
    )
    if not ended:
        return
    _patient_change(
        relationship.record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.END_RELATIONSHIP,
        target=relationship.professional.full_name,
        event=EventType.CARE_RELATIONSHIP_ENDED,
        ip_address=ip_address,
        professional=relationship.professional_id,
    )


@transaction.atomic
def block_professional(
    record: CareRecord,
    professional: Professional,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> ProfessionalBlock:
    """No access of any kind from now on: the open relationship ends, an emergency access
    under way stops (the gate reads the block first), and no declaration nor emergency
    access opens the record again. Never needs a second factor: it takes rights away."""
    block = (
        ProfessionalBlock.objects.standing()
        .filter(record=record, professional=professional)
        .first()
    )
    if block is not None:
        return block
    block = ProfessionalBlock.objects.create(
        record=record, professional=professional, blocked_by=actor
    )
    now = timezone.now()
    CareRelationship.objects.filter(
        record=record, professional=professional, ended_at__isnull=True
    ).update(ended_at=now, ended_by=actor)
    if record.referent_id == professional.pk:
        CareRecord.objects.filter(pk=record.pk).update(referent=None)
        record.referent = None
    _patient_change(
        record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.BLOCK,
        target=professional.full_name,
        event=EventType.PROFESSIONAL_BLOCKED,
        ip_address=ip_address,
        professional=professional.pk,
    )
    return block


@transaction.atomic
def unblock_professional(
    block: ProfessionalBlock,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> None:
    """The block is lifted; no access comes back by itself (a new relationship is needed)."""
    lifted = (
        ProfessionalBlock.objects.standing()
        .filter(pk=block.pk)
        .update(lifted_at=timezone.now(), lifted_by=actor)
    )
    if not lifted:
        return
    _patient_change(
        block.record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.UNBLOCK,
        target=block.professional.full_name,
        event=EventType.PROFESSIONAL_UNBLOCKED,
        ip_address=ip_address,
        professional=block.professional_id,
    )


@transaction.atomic
def set_emergency_refusal(
    record: CareRecord,
    refuses: bool,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> None:
    CareRecord.objects.filter(pk=record.pk).update(refuses_emergency_access=refuses)
    record.refuses_emergency_access = refuses
    _patient_change(
        record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.EMERGENCY_SETTING,
        target=_("Accès en urgence refusé") if refuses else _("Accès en urgence autorisé"),
        event=EventType.RECORD_CHANGED,
        ip_address=ip_address,
        refuses=refuses,
    )


@transaction.atomic
def set_referent(
    record: CareRecord,
    professional: Professional | None,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> None:
    """The médecin référent (a physician, active, not blocked), or none. Choosing one
    grants them the Restreint documents: the view asks for a fresh second factor."""
    if professional is not None and (
        not professional.is_physician
        or not professional.is_active
        or is_blocked(record, professional)
    ):
        raise ValueError("A médecin référent is an active, unblocked physician.")
    CareRecord.objects.filter(pk=record.pk).update(referent=professional)
    record.referent = professional
    _patient_change(
        record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.REFERENT,
        target=professional.full_name if professional else _("aucun"),
        event=EventType.RECORD_CHANGED,
        ip_address=ip_address,
        professional=professional.pk if professional else None,
    )


@transaction.atomic
def name_professionals(
    document: Document,
    professionals: Iterable[Professional],
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> None:
    """The professionals who may read a Restreint document beside its author and the
    médecin référent (the view asks for a fresh second factor)."""
    chosen = list(professionals)
    document.named_professionals.set(chosen)
    Document.objects.filter(pk=document.pk).update(updated_at=timezone.now())
    names = ", ".join(professional.full_name for professional in chosen) or _("aucun")
    _patient_change(
        document.record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.NAMED,
        target=f"{document.title} : {names}",
        event=EventType.RECORD_CHANGED,
        ip_address=ip_address,
        document=str(document.public_id),
        professionals=[professional.pk for professional in chosen],
    )


# The professional's side ----------------------------------------------------------------


def _professional_change(
    record: CareRecord,
    professional: Professional,
    *,
    capacity: Capacity,
    action: AccessAction,
    target: str,
    event: EventType,
    ip_address: str | None,
    **details: object,
) -> None:
    """A professional's act on the record: its journal line and its audit row (a
    `record.changed` one says which change and in which capacity)."""
    if event == EventType.RECORD_CHANGED:
        details = {"action": action.value, "capacity": capacity.value, **details}
    journal(
        record,
        actor=None,
        professional=professional,
        capacity=capacity,
        action=action,
        target=target,
    )
    record_event(
        event,
        actor=_professional_actor(professional),
        person=record.person,
        ip_address=ip_address,
        **details,
    )


def name_matches(person: InsuredPerson, last_name: str) -> bool:
    """The name typed matches the register's, accents, case and hyphens aside."""
    return bool(last_name.strip()) and folded(last_name) == folded(person.last_name)


def _find_record(
    matricule: str, last_name: str, professional: Professional
) -> tuple[CareRecord | None, str, bool]:
    """The living person's open record, or None and why; and whether it is blocked for
    `professional`. One statement whatever is found, so that no refusal takes longer
    than another (tests/accounts/test_enumeration.py)."""
    blocked = ProfessionalBlock.objects.standing().filter(
        record=OuterRef("pk"), professional=professional
    )
    record = (
        CareRecord.objects.filter(person__matricule=matricule)
        .select_related("person")
        .annotate(blocked=Exists(blocked))
        .first()
    )
    if record is None:  # no such person, or (before the opt-out) no DSP
        return None, "unknown_matricule_or_no_record", False
    if not name_matches(record.person, last_name):
        return None, "name_mismatch", False
    if record.person.date_of_death is not None:
        return None, "deceased", False
    if record.closed_at is not None:
        return None, "closed", False
    return record, "", bool(record.blocked)


def declare_relationship(
    professional: Professional,
    *,
    matricule: str,
    last_name: str,
    reason: str,
    ip_address: str | None,
) -> CareRelationship:
    """The professional, with the patient in front of them, declares the relationship:
    it opens the record at once, and the holder is told (and can end it). CareRefused,
    the same whatever the reason: unknown matricule, name mismatch, no or closed DSP,
    blocked, inactive professional."""
    with transaction.atomic():
        record, why, blocked = _find_record(matricule, last_name, professional)
        if record is not None and not professional.is_active:
            record, why = None, "inactive"
        if record is not None and blocked:
            record, why = None, "blocked"
        if record is None:
            record_event(
                EventType.CARE_DECLARATION_REFUSED,
                actor=_professional_actor(professional),
                ip_address=ip_address,
                reason=why,
            )
            refused = True
        else:
            refused = False
            relationship = _start_relationship(
                record, professional, origin=RelationshipOrigin.DECLARED, reason=reason.strip()
            )
            _professional_change(
                record,
                professional,
                capacity=Capacity.CARE,
                action=AccessAction.DECLARE,
                target=reason.strip(),
                event=EventType.CARE_RELATIONSHIP_DECLARED,
                ip_address=ip_address,
                until=relationship.ends_at.isoformat(),
            )
            _notify_declared(record, professional, relationship)
    if refused:
        raise CareRefused
    return relationship


def _notify_declared(
    record: CareRecord, professional: Professional, relationship: CareRelationship
) -> None:
    def compose() -> tuple[str, str]:
        until = date_format(timezone.localtime(relationship.ends_at), "SHORT_DATE_FORMAT")
        return (
            _("Un professionnel de santé a accès à votre DSP"),
            _(
                "%(professional)s a déclaré une relation de soins avec vous : il ou elle a "
                "accès à votre dossier de soins partagé jusqu'au %(until)s. Si vous ne "
                "le connaissez pas, mettez fin à cet accès ou bloquez ce professionnel dans "
                "votre DSP (Mes professionnels), ou appelez le helpdesk au %(phone)s."
            )
            % {
                "professional": professional_label(professional),
                "until": until,
                "phone": helpdesk_contacts().phone,
            },
        )

    _notify_record_people(record, compose)


def _notify_record_people(record: CareRecord, compose: Callable[[], tuple[str, str]]) -> None:
    """The holder (held until their account exists) and the active assistants."""
    people = [record.person]
    people += [row.person for row in active_assistants(record).select_related("person")]
    for person in people:
        notify_person(person, compose)


def open_emergency_access(
    professional: Professional,
    *,
    matricule: str,
    last_name: str,
    reason: str,
    ip_address: str | None,
) -> EmergencyAccess:
    """Bris de glace, by a physician, for ESANTE_EMERGENCY_ACCESS_HOURS: journaled (shown
    in red), notified to the holder and the assistants, audited for the supervisor's
    review. CareRefused, the same whatever the reason (also: not a physician, emergency
    access refused by the holder)."""
    with transaction.atomic():
        record, why, blocked = _find_record(matricule, last_name, professional)
        if record is not None:
            if not professional.is_active:
                record, why = None, "inactive"
            elif not professional.is_physician:
                record, why = None, "not_physician"
            elif blocked:
                record, why = None, "blocked"
            elif record.refuses_emergency_access:
                record, why = None, "refused_by_holder"
        if record is None:
            record_event(
                EventType.EMERGENCY_ACCESS_REFUSED,
                actor=_professional_actor(professional),
                ip_address=ip_address,
                reason=why,
            )
            refused = True
        else:
            refused = False
            now = timezone.now()
            emergency = EmergencyAccess.objects.create(
                record=record,
                professional=professional,
                reason=reason.strip(),
                started_at=now,
                ends_at=now + datetime.timedelta(hours=settings.ESANTE_EMERGENCY_ACCESS_HOURS),
            )
            _professional_change(
                record,
                professional,
                capacity=Capacity.EMERGENCY,
                action=AccessAction.EMERGENCY_ACCESS,
                target=reason.strip(),
                event=EventType.EMERGENCY_ACCESS,
                ip_address=ip_address,
                emergency=str(emergency.public_id),
            )
            _notify_emergency(record, professional)
    if refused:
        raise CareRefused
    return emergency


def _notify_emergency(record: CareRecord, professional: Professional) -> None:
    def compose() -> tuple[str, str]:
        return (
            _("Accès en urgence à un DSP"),
            _(
                "%(professional)s a ouvert le dossier de soins partagé de %(holder)s en "
                "urgence (bris de glace), pour %(hours)s heures. Cet accès est vérifié par "
                "l'Agence eSanté. Vous le voyez dans l'historique des accès du DSP ; vous "
                "pouvez bloquer ce professionnel ou refuser l'accès en urgence dans Mes "
                "professionnels. Une question : helpdesk au %(phone)s."
            )
            % {
                "professional": professional_label(professional),
                "holder": record.person.public_label,
                "hours": settings.ESANTE_EMERGENCY_ACCESS_HOURS,
                "phone": helpdesk_contacts().phone,
            },
        )

    _notify_record_people(record, compose)


@transaction.atomic
def review_emergency_access(
    emergency: EmergencyAccess,
    *,
    staff: AbstractBaseUser,
    justified: bool,
    note: str,
    ip_address: str | None,
) -> None:
    """The supervisor's verdict on one emergency access, audited. A verdict can be
    changed: each one is an audit row."""
    EmergencyAccess.objects.filter(pk=emergency.pk).update(
        reviewed_at=timezone.now(), reviewed_by=staff, justified=justified, review_note=note
    )
    record_event(
        EventType.EMERGENCY_ACCESS_REVIEWED,
        actor=f"staff:{staff.pk}",
        ip_address=ip_address,
        emergency=str(emergency.public_id),
        justified=justified,
    )


# Documents professionals write ----------------------------------------------------------


def _store(
    access: ProfessionalAccess,
    upload: UploadedFile,
    *,
    category: Category,
    title: str,
    document_date: datetime.date,
    confidentiality: Confidentiality,
    previous: Document | None,
    action: AccessAction,
    ip_address: str | None,
) -> Document:
    if not access.may_write:
        raise DocumentRefused(objection_message(access.record))
    upload.seek(0)
    is_pdf = upload.read(5) == b"%PDF-"  # said first: an image is no PDF either
    upload.seek(0)
    if upload.size and not is_pdf:
        raise DocumentRefused(pdf_only_message(), field="file")
    content_type = documents.sniff_content_type(upload)
    stored_name = documents.save_file(access.record.public_id, upload)
    professional = access.professional
    try:
        with transaction.atomic():
            if previous is not None:
                updated = Document.objects.filter(
                    pk=previous.pk, superseded_at__isnull=True, withdrawn_at__isnull=True
                ).update(superseded_at=timezone.now(), updated_at=timezone.now())
                if not updated:
                    raise DocumentRefused(str(_("Ce document a déjà été remplacé ou retiré.")))
            document = Document.objects.create(
                record=access.record,
                category=category,
                title=title,
                author=professional.full_name,
                professional=professional,
                document_date=document_date,
                stored_name=stored_name,
                content_type=content_type,
                size=upload.size or 0,
                confidentiality=_holders_level(previous, confidentiality),
                author_confidentiality=confidentiality,
                previous=previous,
                # What the holder decided for the document stays with its new version.
                masked_at=previous.masked_at if previous is not None else None,
            )
            if previous is not None:
                document.named_professionals.set(previous.named_professionals.all())
            _professional_change(
                access.record,
                professional,
                capacity=access.capacity,
                action=action,
                target=title,
                event=EventType.RECORD_CHANGED,
                ip_address=ip_address,
                document=str(document.public_id),
            )
    except BaseException:
        documents.storage().delete(stored_name)
        raise
    return document


def _holders_level(previous: Document | None, chosen: Confidentiality) -> Confidentiality:
    """A new version's level: the author's, or the level the holder raised the old
    version to when that is stricter (the holder may raise a level, never see it lowered
    behind their back)."""
    if previous is None:
        return chosen
    raised = Confidentiality(previous.confidentiality)
    holder_raised = raised.rank > Confidentiality(previous.author_confidentiality).rank
    return raised if holder_raised and raised.rank > chosen.rank else chosen


def pdf_only_message() -> str:
    return str(_("Seuls les documents PDF peuvent être ajoutés au DSP par un professionnel."))


def objection_message(record: CareRecord) -> str:
    until = record.objection_until or timezone.now()
    return str(
        _(
            "Le patient peut encore s'opposer à l'ouverture de son DSP : aucun document ne "
            "peut y être ajouté avant le %(date)s."
        )
    ) % {"date": date_format(timezone.localtime(until), "SHORT_DATE_FORMAT")}


def add_professional_document(
    access: ProfessionalAccess,
    upload: UploadedFile,
    *,
    category: Category,
    title: str,
    document_date: datetime.date,
    confidentiality: Confidentiality,
    ip_address: str | None = None,
) -> Document:
    """A document the professional writes into the record: listed with them as author,
    at the level they set (the holder may raise it, never lower it). DocumentRefused or
    documents.UploadRefused when it cannot be taken; nothing half-written remains."""
    return _store(
        access,
        upload,
        category=category,
        title=title,
        document_date=document_date,
        confidentiality=confidentiality,
        previous=None,
        action=AccessAction.UPLOAD,
        ip_address=ip_address,
    )


def replace_document(
    access: ProfessionalAccess,
    document: Document,
    upload: UploadedFile,
    *,
    title: str,
    document_date: datetime.date,
    confidentiality: Confidentiality,
    ip_address: str | None = None,
) -> Document:
    """A new version of the author's own document; the old one is kept, no longer
    listed. The category stays."""
    if document.professional_id != access.professional.pk:
        raise DocumentRefused(str(_("Seul l'auteur d'un document peut le remplacer.")))
    return _store(
        access,
        upload,
        category=Category(document.category),
        title=title,
        document_date=document_date,
        confidentiality=confidentiality,
        previous=document,
        action=AccessAction.REPLACE_DOCUMENT,
        ip_address=ip_address,
    )


@transaction.atomic
def withdraw_document(
    access: ProfessionalAccess, document: Document, *, ip_address: str | None = None
) -> None:
    """The author withdraws their document: listed to no one, kept for the legal
    retention (never deleted)."""
    if document.professional_id != access.professional.pk:
        raise DocumentRefused(str(_("Seul l'auteur d'un document peut le retirer.")))
    Document.objects.filter(pk=document.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), updated_at=timezone.now()
    )
    _professional_change(
        access.record,
        access.professional,
        capacity=access.capacity,
        action=AccessAction.WITHDRAW_DOCUMENT,
        target=document.title,
        event=EventType.RECORD_CHANGED,
        ip_address=ip_address,
        document=str(document.public_id),
    )


def journal_professional_read(
    access: ProfessionalAccess, action: AccessAction, target: str = ""
) -> None:
    """A professional's read (the record, a document, a download) in the journal."""
    journal(
        access.record,
        actor=None,
        professional=access.professional,
        capacity=access.capacity,
        action=action,
        target=target,
    )
