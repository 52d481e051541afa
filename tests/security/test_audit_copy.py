"""ASVS 5.0 16.4.3: each committed audit event is also a line of the `esante.audit`
logger (standard error, shipped to the agency's log platform): a copy outside the
application's database."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db import transaction

from esante.audit.actions import record_event
from esante.audit.models import AuditEvent, EventType
from esante.registry.models import InsuredPerson

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "esante.audit"]


def test_a_committed_event_is_copied_to_the_log_stream(
    alice: InsuredPerson,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    caplog.set_level(logging.INFO, logger="esante.audit")
    with django_capture_on_commit_callbacks(execute=True):
        record_event(
            EventType.LOGIN_FAILED, actor="anonymous", person=alice, ip_address="203.0.113.9"
        )

    [line] = audit_lines(caplog)
    event_type, payload = line.split(" ", 1)
    event = AuditEvent.objects.get()
    assert event_type == "login.failed"
    assert json.loads(payload) == {
        "id": event.pk,
        "at": event.at.isoformat(),
        "actor": "anonymous",
        "person": alice.pk,
        "ip": "203.0.113.9",
        "details": {},
    }


def test_an_event_rolled_back_with_its_cause_is_not_copied(
    alice: InsuredPerson,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    caplog.set_level(logging.INFO, logger="esante.audit")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        record_event(EventType.LOGIN_FAILED, actor="anonymous", person=alice)
        raise RuntimeError("the change failed")

    assert audit_lines(caplog) == []
