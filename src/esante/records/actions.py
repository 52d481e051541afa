"""State changes of the DSP (STYLE.md §2). Every access to a record is journaled here."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from esante import raw_sql
from esante.accounts.models import Account
from esante.accounts.notices import notify_owner
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.portal.helpdesk import helpdesk_contacts
from esante.professionals.models import Professional
from esante.records import documents, signals
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Assistant,
    Capacity,
    CareRecord,
    Category,
    Confidentiality,
    Document,
    OrganDonationDeclaration,
)
from esante.registry.models import InsuredPerson


def journal(
    record: CareRecord,
    *,
    actor: InsuredPerson | None,
    capacity: Capacity,
    action: AccessAction,
    target: str = "",
    professional: Professional | None = None,
) -> AccessEntry:
    """Append one line to the record's *Historique des accès* (one INSERT: the record page
    writes one at every visit). A professional's line names them (`professional`, and no
    `actor`)."""
    entry = AccessEntry(
        record=record,
        actor=actor,
        professional=professional,
        capacity=capacity,
        action=action,
        target=target[:200],
    )
    raw_sql.insert(entry)
    return entry


# Persons per transaction when opening DSPs by the thousand (esante open-records).
OPEN_CHUNK_SIZE = 5000


def objection_deadline(opened_at: datetime.datetime) -> datetime.datetime:
    """Until when the holder of a DSP opened at `opened_at` may object (close it) before
    professionals may write into it: ESANTE_DSP_OBJECTION_DAYS days later."""
    return opened_at + datetime.timedelta(days=settings.ESANTE_DSP_OBJECTION_DAYS)


def open_records(person_ids: Sequence[int], *, at: datetime.datetime) -> None:
    """Open a DSP, whose objection period starts at `at`, for each of these persons who has
    none yet; a record that exists is left as it is, open or closed. One INSERT (the
    person's unique key ignores those who have one; SQLite splits it at its parameter
    limit), no query per person: a letter run calls it for every chunk of 5000 letters.
    Whether the persons are alive is the caller's to check."""
    until = objection_deadline(at)
    CareRecord.objects.bulk_create(
        [
            CareRecord(person_id=person_id, created_at=at, objection_until=until)
            for person_id in person_ids
        ],
        ignore_conflicts=True,
    )


def persons_without_record() -> QuerySet[InsuredPerson]:
    """The living insured persons who have no DSP yet."""
    return InsuredPerson.objects.filter(date_of_death__isnull=True, care_record__isnull=True)


def open_missing_records(
    *, chunk_size: int = OPEN_CHUNK_SIZE, progress: Callable[[int], None] | None = None
) -> int:
    """The move to the opt-out for the people already in the registry: a DSP for every
    living insured person who has none, by chunks of `chunk_size` persons in their own
    transactions, all with the same objection period. Idempotent: a second run finds
    nobody. Returns how many persons were given one (a letter run opening some of the
    same ones meanwhile may make it count a few that it did not open itself)."""
    at = timezone.now()
    opened = 0
    last_id = 0
    while True:
        ids = list(
            persons_without_record()
            .filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            return opened
        with transaction.atomic():
            open_records(ids, at=at)
        opened += len(ids)
        last_id = ids[-1]
        if progress is not None:
            progress(len(ids))


def ensure_care_record(person: InsuredPerson) -> CareRecord:
    """The person's DSP, made with their account (esante.accounts.actions); made here for
    an account that has none yet."""
    record, _created = CareRecord.objects.get_or_create(person=person)
    return record


@transaction.atomic
def close_record(record: CareRecord, *, actor: InsuredPerson) -> None:
    """The holder closes their DSP: nothing is shown or added until they reopen it."""
    CareRecord.objects.filter(pk=record.pk, closed_at__isnull=True).update(closed_at=timezone.now())
    record.refresh_from_db(fields=["closed_at"])
    journal_change(record, actor=actor, capacity=Capacity.OWNER, action=AccessAction.CLOSE)


@transaction.atomic
def reopen_record(record: CareRecord, *, actor: InsuredPerson) -> None:
    CareRecord.objects.filter(pk=record.pk).update(closed_at=None)
    record.closed_at = None
    journal_change(record, actor=actor, capacity=Capacity.OWNER, action=AccessAction.REOPEN)


@transaction.atomic
def declare_organ_donation(
    record: CareRecord, *, actor: InsuredPerson, refuses_removal: bool
) -> OrganDonationDeclaration:
    """The holder's own declaration (never an assistant's), kept with its date."""
    declaration = OrganDonationDeclaration.objects.create(
        record=record, refuses_removal=refuses_removal
    )
    journal_change(
        record, actor=actor, capacity=Capacity.OWNER, action=AccessAction.ORGAN_DECLARATION
    )
    return declaration


def journal_change(
    record: CareRecord,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    action: AccessAction,
    target: str = "",
    document: Document | None = None,
) -> None:
    """A change to the record: its journal line, and the audit log's (which names the
    document by its identifier, never by its title: the helpdesk reads the audit log)."""
    journal(record, actor=actor, capacity=capacity, action=action, target=target)
    details: dict[str, str] = {"action": action.value, "capacity": capacity.value}
    if document is not None:
        details["document"] = str(document.public_id)
    record_event(
        EventType.RECORD_CHANGED, actor=f"person:{actor.pk}", person=record.person, **details
    )


@transaction.atomic
def journal_export(
    record: CareRecord, *, actor: InsuredPerson, capacity: Capacity, ip_address: str | None
) -> None:
    """The whole record leaves the platform as a copy (esante.fhir.export), once, when its
    download starts: its journal line, which the copy's own journal includes, and the
    audit log's, so that the agency sees a record copied out by a session taken over."""
    journal(record, actor=actor, capacity=capacity, action=AccessAction.EXPORT)
    record_event(
        EventType.RECORD_EXPORTED,
        actor=f"person:{actor.pk}",
        person=record.person,
        ip_address=ip_address,
        capacity=capacity.value,
    )


# Documents ------------------------------------------------------------------------------


def add_document(
    record: CareRecord,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    upload: UploadedFile,
    title: str,
    document_date: datetime.date,
    confidentiality: Confidentiality,
) -> Document:
    """An upload to the Espace personnel: type read from the content (UploadRefused
    otherwise), file stored, then the document and its journal line in one transaction.
    If that transaction fails, the stored file is removed: nothing half-written remains."""
    content_type = documents.sniff_content_type(upload)
    stored_name = documents.save_file(record.public_id, upload)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                record=record,
                category=Category.PATIENT,
                title=title,
                author=actor.full_name,
                document_date=document_date,
                stored_name=stored_name,
                content_type=content_type,
                size=upload.size or 0,
                uploaded_by=actor,
                confidentiality=confidentiality,
            )
            journal_change(
                record,
                actor=actor,
                capacity=capacity,
                action=AccessAction.UPLOAD,
                target=title,
                document=document,
            )
    except BaseException:
        documents.storage().delete(stored_name)
        raise
    return document


@transaction.atomic
def delete_document(document: Document, *, actor: InsuredPerson, capacity: Capacity) -> None:
    """Only what was uploaded to the Espace personnel can be deleted; the file goes once
    the deletion is committed."""
    if not document.in_personal_space:
        raise ValueError("Only documents of the Espace personnel can be deleted.")
    stored_name = document.stored_name
    Document.objects.filter(pk=document.pk).delete()
    journal_change(
        document.record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.DELETE_DOCUMENT,
        target=document.title,
        document=document,
    )
    transaction.on_commit(lambda: documents.storage().delete(stored_name))


@transaction.atomic
def set_masked(
    document: Document, *, masked: bool, actor: InsuredPerson, capacity: Capacity
) -> None:
    document.masked_at = timezone.now() if masked else None
    Document.objects.filter(pk=document.pk).update(
        masked_at=document.masked_at, updated_at=timezone.now()
    )
    action = AccessAction.MASK if masked else AccessAction.UNMASK
    journal_change(
        document.record,
        actor=actor,
        capacity=capacity,
        action=action,
        target=document.title,
        document=document,
    )


@transaction.atomic
def set_confidentiality(
    document: Document,
    confidentiality: Confidentiality,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
) -> None:
    """The holder or an assistant raises the level, or lowers it down to the level the
    document's author set, never below (ValueError: the form offers only those)."""
    if confidentiality.rank < Confidentiality(document.author_confidentiality).rank:
        raise ValueError("Never below the level the document's author set.")
    document.confidentiality = confidentiality
    Document.objects.filter(pk=document.pk).update(
        confidentiality=confidentiality, updated_at=timezone.now()
    )
    journal_change(
        document.record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.CONFIDENTIALITY,
        target=f"{document.title} : {confidentiality.label}",
        document=document,
    )


# Assistants -----------------------------------------------------------------------------


class AssistantRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def find_assistant_candidate(
    record: CareRecord, matricule: str, *, actor: InsuredPerson, ip_address: str | None
) -> InsuredPerson | None:
    """The *Rechercher* of the Assistants panel: the one person with this exact matricule
    and an activated account, or None — whether the matricule exists or not, the answer is
    the same. Every search is audited (the matricule itself is not written down)."""
    person = (
        InsuredPerson.objects.filter(
            matricule=matricule, account__isnull=False, date_of_death__isnull=True
        )
        .only("pk", "first_name", "last_name", "esante_id")
        .first()
    )
    record_event(
        EventType.ASSISTANT_SEARCHED,
        actor=f"person:{actor.pk}",
        person=record.person,
        ip_address=ip_address,
        found=person is not None,
    )
    return person


def add_assistant(
    record: CareRecord,
    assistant: InsuredPerson,
    *,
    role: str,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> Assistant:
    """Not the holder, not twice, only a person with an activated account (AssistantRefused
    otherwise). Journaled, audited and notified to the holder and to the new assistant."""
    if assistant.pk == record.person_id:
        raise AssistantRefused(_("Le titulaire du DSP ne peut pas être son propre assistant."))
    if not Account.objects.filter(person=assistant).exists():
        raise AssistantRefused(not_activated_message())
    try:
        with transaction.atomic():
            row = Assistant.objects.create(
                record=record,
                person=assistant,
                role=role.strip(),
                added_by=actor,
                during_minority=record.person.is_minor,
            )
            journal(
                record,
                actor=actor,
                capacity=capacity,
                action=AccessAction.ADD_ASSISTANT,
                target=assistant.public_label,
            )
            record_event(
                EventType.ASSISTANT_ADDED,
                actor=f"person:{actor.pk}",
                person=record.person,
                ip_address=ip_address,
                assistant=assistant.pk,
            )
            notify_assistant_change(record, assistant, added=True)
    except IntegrityError as error:
        raise AssistantRefused(_("Cette personne est déjà assistant DSP de ce dossier.")) from error
    return row


@transaction.atomic
def remove_assistant(
    row: Assistant,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    ip_address: str | None,
) -> None:
    """Effective at the assistant's very next request: every request checks the row."""
    ended = Assistant.objects.filter(pk=row.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_by=actor
    )
    if not ended:
        return
    journal(
        row.record,
        actor=actor,
        capacity=capacity,
        action=AccessAction.REMOVE_ASSISTANT,
        target=row.person.public_label,
    )
    record_event(
        EventType.ASSISTANT_REMOVED,
        actor=f"person:{actor.pk}",
        person=row.record.person,
        ip_address=ip_address,
        assistant=row.person_id,
    )
    notify_assistant_change(row.record, row.person, added=False)
    announce_rights_ended(row, reason="removed")


def announce_rights_ended(row: Assistant, *, reason: str) -> None:
    """An assistant's row just ended: the apps above are told, with the assistant's
    account (records.signals.assistant_rights_ended: what a service holds under those
    rights ends with them)."""
    account = Account.objects.filter(person_id=row.person_id).first()
    if account is None:
        return
    signals.assistant_rights_ended.send(
        sender=Assistant, record=row.record, assistant=account, reason=reason
    )


def not_activated_message() -> str:
    return str(
        _(
            "Aucune personne avec un compte eSanté activé ne correspond à ce numéro. La "
            "personne doit d'abord activer son compte eSanté."
        )
    )


def notify_assistant_change(record: CareRecord, assistant: InsuredPerson, *, added: bool) -> None:
    """Tell the holder and the assistant, each on their registered channel and in their
    language."""
    holder = record.person
    for person, to_holder in ((holder, True), (assistant, False)):
        account = Account.objects.filter(person=person).first()
        if account is None:
            continue
        with override(account.language):
            if added and to_holder:
                text = _(
                    "%(assistant)s est désormais assistant DSP de votre dossier de soins "
                    "partagé : cette personne a les mêmes droits que vous sur votre DSP."
                ) % {"assistant": assistant.public_label}
            elif added:
                text = _(
                    "Vous êtes désormais assistant DSP du dossier de soins partagé de "
                    "%(holder)s. Vous y accédez depuis votre DSP, par « Accéder aux autres "
                    "dossiers patient »."
                ) % {"holder": holder.public_label}
            elif to_holder:
                text = _(
                    "%(assistant)s n'est plus assistant DSP de votre dossier de soins partagé."
                ) % {"assistant": assistant.public_label}
            else:
                text = _(
                    "Vous n'êtes plus assistant DSP du dossier de soins partagé de %(holder)s."
                ) % {"holder": holder.public_label}
            subject = (
                _("Un assistant DSP a été ajouté") if added else _("Un assistant DSP a été retiré")
            )
            help_line = _("Si ce n'était pas voulu, appelez le helpdesk au %(phone)s.") % {
                "phone": helpdesk_contacts().phone
            }
            notify_owner(account, subject, f"{text} {help_line}")
