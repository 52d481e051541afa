"""Writing audit events. Every action of every app calls record_event in its transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from esante.audit.models import AuditEvent, EventType
from esante.registry.models import InsuredPerson


def record_event(
    event_type: EventType,
    *,
    actor: str,
    person: InsuredPerson | None = None,
    ip_address: str | None = None,
    **details: Any,
) -> AuditEvent:
    return AuditEvent.objects.create(
        event_type=event_type,
        actor=actor,
        person=person,
        ip_address=ip_address,
        details=details,
    )


def record_events(events: Iterable[AuditEvent]) -> None:
    """Bulk insert for batch actions (letter runs of 100,000)."""
    AuditEvent.objects.bulk_create(events, batch_size=2000)
