"""ASVS 5.0 16.4.2: the audit log and the access journals cannot be changed, not even by
the application's own database role (PostgreSQL triggers)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from esante.audit.actions import record_event
from esante.audit.models import AuditEvent, EventType
from esante.records.models import AccessEntry, CareRecord
from esante.registry.models import InsuredPerson
from tests.concurrency import needs_postgresql
from tests.records.conftest import logged_in

pytestmark = [needs_postgresql, pytest.mark.django_db]


def refused(sql: str, *params: int) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        return "append-only" in str(error)
    return False


def test_audit_rows_refuse_update_and_delete_even_in_raw_sql(alice: InsuredPerson) -> None:
    record_event(EventType.LOGIN_FAILED, actor="anonymous", person=alice)
    event = AuditEvent.objects.get()

    assert refused("UPDATE audit_auditevent SET actor = 'someone' WHERE id = %s", event.pk)
    assert refused("DELETE FROM audit_auditevent WHERE id = %s", event.pk)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor="someone")
    assert AuditEvent.objects.get().actor == "anonymous"


def test_access_journal_rows_refuse_update_and_delete(alice: InsuredPerson) -> None:
    client: Client = logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    client.get(reverse("records:record", args=[record.public_id]))
    entry = AccessEntry.objects.filter(record=record).first()
    assert entry is not None

    assert refused("UPDATE records_accessentry SET action = 'close' WHERE id = %s", entry.pk)
    assert refused("DELETE FROM records_accessentry WHERE id = %s", entry.pk)
    assert AccessEntry.objects.filter(pk=entry.pk).exists()
