"""State changes of the registry's people, and the deletion of letter batch files.
Letters have theirs in letters.py."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.registry import matricule as matricule_rules
from esante.registry.identifiers import new_esante_id
from esante.registry.models import InsuredPerson, LetterBatch

ID_ATTEMPTS = 5


def create_person(
    *,
    matricule: str,
    first_name: str,
    last_name: str,
    birth_date: datetime.date | None = None,
    address_line1: str,
    postal_code: str,
    locality: str,
    esante_id: str = "",
    **fields: object,
) -> InsuredPerson:
    """One person with a fresh public identifier, unless one is given (the bulk import
    has its own path)."""
    number = matricule_rules.validate(matricule)
    # validate() refused every number that encodes no date.
    birth_date = birth_date or matricule_rules.birth_date_of(number) or datetime.date.min
    for attempt in range(ID_ATTEMPTS):
        try:
            with transaction.atomic():
                return InsuredPerson.objects.create(
                    matricule=number,
                    esante_id=esante_id or new_esante_id(),
                    first_name=first_name,
                    last_name=last_name,
                    birth_date=birth_date,
                    address_line1=address_line1,
                    postal_code=postal_code,
                    locality=locality,
                    **fields,
                )
        except IntegrityError:
            # A clash of the random public identifier: draw again. A clash of the
            # matricule raises again on every attempt and ends up re-raised below.
            if (
                attempt == ID_ATTEMPTS - 1
                or InsuredPerson.objects.filter(matricule=number).exists()
            ):
                raise
    raise RuntimeError("unreachable: the last attempt re-raises")


# Letter batch files.


def delete_batch_file(
    batch: LetterBatch, *, actor: str, reason: str, now: datetime.datetime | None = None
) -> bool:
    """Delete a batch's PDF — the only place its activation codes exist in clear — and
    say so on the row (which stays: the letters' history) and in the audit log. False
    when it was deleted already (by a purge or a click racing this one)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = LetterBatch.objects.filter(pk=batch.pk, pdf_deleted_at__isnull=True).update(
            pdf_deleted_at=now
        )
        if not claimed:
            return False
        record_event(
            EventType.LETTER_BATCH_FILE_DELETED,
            actor=actor,
            batch_id=batch.pk,
            pdf_name=batch.pdf_name,
            reason=reason,
        )
        if batch.pdf_name:
            # Last: if it fails, the row and the event roll back and the file is kept.
            storages["letters"].delete(batch.pdf_name)
    batch.pdf_deleted_at = now
    return True


def purge_batch_files(*, actor: str, now: datetime.datetime | None = None) -> list[LetterBatch]:
    """Delete the PDFs of the batches posted, and of those made more than
    ESANTE_LETTER_BATCH_DAYS days ago, posted or not; returns the batches concerned."""
    now = now or timezone.now()
    too_old = now - datetime.timedelta(days=settings.ESANTE_LETTER_BATCH_DAYS)
    due = LetterBatch.objects.filter(pdf_deleted_at__isnull=True).filter(
        Q(posted_at__isnull=False) | Q(created_at__lte=too_old)
    )
    deleted = []
    for batch in due.order_by("pk"):
        reason = "posted" if batch.posted_at else "expired"
        if delete_batch_file(batch, actor=actor, reason=reason, now=now):
            deleted.append(batch)
    return deleted
