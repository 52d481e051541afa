"""State changes of the DSP (STYLE.md §2). Every access to a record is journaled here."""

from __future__ import annotations

from esante.records.models import AccessAction, AccessEntry, Capacity, CareRecord
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
