"""Writing audit events. Every action of every app calls record_event in its transaction.

Each event is also written, once its transaction commits, as a line of the `esante.audit`
logger: standard error goes to the agency's log platform, so a copy of the audit log
lives outside the application's database and reach (ASVS 5.0 16.4.3, docs/operations.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction

from esante.audit.models import AuditEvent, EventType

if TYPE_CHECKING:
    # The type only: the audit sits below the registry (AuditEvent.person names the model
    # by its label), which audits its own actions.
    from esante.registry.models import InsuredPerson

logger = logging.getLogger("esante.audit")


def record_event(
    event_type: EventType,
    *,
    actor: str,
    person: InsuredPerson | None = None,
    ip_address: str | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent.objects.create(
        event_type=event_type,
        actor=actor,
        person=person,
        ip_address=ip_address,
        details=details,
    )
    transaction.on_commit(partial(_copy_to_log, [event]))
    return event


def record_events(events: Iterable[AuditEvent]) -> None:
    """Bulk insert for batch actions (letter runs of 100,000)."""
    made = AuditEvent.objects.bulk_create(events, batch_size=2000)
    transaction.on_commit(partial(_copy_to_log, made))


def _copy_to_log(events: list[AuditEvent]) -> None:
    """One line per committed event: its type, then a JSON object (no secret is ever in an
    event: tests/security/test_logging.py)."""
    for event in events:
        logger.info(
            "%s %s",
            event.event_type,
            json.dumps(
                {
                    "id": event.pk,
                    "at": event.at.isoformat(),
                    "actor": event.actor,
                    "person": event.person_id,
                    "ip": event.ip_address,
                    "details": event.details,
                },
                ensure_ascii=False,
                default=str,
                sort_keys=True,
            ),
        )
