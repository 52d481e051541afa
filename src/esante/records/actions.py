"""State changes of the DSP (STYLE.md §2). Every access to a record is journaled here."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from esante.records.models import (
    AccessAction,
    AccessEntry,
    Capacity,
    CareRecord,
    OrganDonationDeclaration,
)
from esante.registry.models import InsuredPerson


def journal(
    record: CareRecord,
    *,
    actor: InsuredPerson,
    capacity: Capacity,
    action: AccessAction,
    target: str = "",
) -> AccessEntry:
    """Append one line to the record's *Historique des accès*."""
    return AccessEntry.objects.create(
        record=record, actor=actor, capacity=capacity, action=action, target=target[:200]
    )


@transaction.atomic
def close_record(record: CareRecord, *, actor: InsuredPerson) -> None:
    """The holder closes their DSP: nothing is shown or added until they reopen it."""
    CareRecord.objects.filter(pk=record.pk, closed_at__isnull=True).update(closed_at=timezone.now())
    record.refresh_from_db(fields=["closed_at"])
    journal(record, actor=actor, capacity=Capacity.OWNER, action=AccessAction.CLOSE)


@transaction.atomic
def reopen_record(record: CareRecord, *, actor: InsuredPerson) -> None:
    CareRecord.objects.filter(pk=record.pk).update(closed_at=None)
    record.closed_at = None
    journal(record, actor=actor, capacity=Capacity.OWNER, action=AccessAction.REOPEN)


@transaction.atomic
def declare_organ_donation(
    record: CareRecord, *, actor: InsuredPerson, refuses_removal: bool
) -> OrganDonationDeclaration:
    """The holder's own declaration (never an assistant's), kept with its date."""
    declaration = OrganDonationDeclaration.objects.create(
        record=record, refuses_removal=refuses_removal
    )
    journal(record, actor=actor, capacity=Capacity.OWNER, action=AccessAction.ORGAN_DECLARATION)
    return declaration
