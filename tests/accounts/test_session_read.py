"""The patient's session row, read on every logged-in request, is plain SQL written once
(esante.raw_sql.Related, issue 16): it reads what `select_related("account__person")`
reads, converted and linked as the ORM does, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from esante import raw_sql
from esante.accounts.models import Account, PatientSession
from esante.accounts.patient_sessions import SESSION_KEY, current_session
from esante.audit.models import AuditEvent
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings
from tests.records.conftest import logged_in

__all__ = ["activation_settings"]  # the activation's settings for logged_in()

pytestmark = pytest.mark.django_db


class SessionOf:
    """A request's session, enough for current_session()."""

    def __init__(self, session_id: object) -> None:
        self.session = {SESSION_KEY: session_id}


def same_fields(read: Any, expected: Any) -> None:
    for field in type(expected)._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name


def test_the_open_session_is_read_with_its_account_and_person(alice: InsuredPerson) -> None:
    client = logged_in(alice, "alice@example.lu")
    session_id = client.session[SESSION_KEY]
    PatientSession.objects.filter(pk=session_id).update(
        amr=["pwd", "otp"], strong_auth_at=timezone.now()
    )

    with CaptureQueriesContext(connection) as queries:
        read = current_session(SessionOf(session_id))  # type: ignore[arg-type]
        assert read is not None
        account, person = read.account, read.account.person
    assert len(queries) == 1

    expected = PatientSession.objects.select_related("account__person").get(pk=session_id)
    same_fields(read, expected)
    same_fields(account, expected.account)
    same_fields(person, expected.account.person)
    assert read.amr == ["pwd", "otp"]
    assert isinstance(read.strong_auth_at, datetime.datetime)
    assert read.strong_auth_at.tzinfo is not None
    assert isinstance(person.birth_date, datetime.date)
    assert read._state.adding is False and account._state.adding is False
    assert isinstance(account, Account) and account.person_id == alice.pk


def test_an_ended_or_unknown_session_is_none(alice: InsuredPerson) -> None:
    client = logged_in(alice, "alice@example.lu")
    session_id = client.session[SESSION_KEY]
    PatientSession.objects.filter(pk=session_id).update(ended_at=timezone.now())
    assert current_session(SessionOf(session_id)) is None  # type: ignore[arg-type]
    assert current_session(SessionOf(session_id + 1000)) is None  # type: ignore[arg-type]
    assert current_session(SessionOf(None)) is None  # type: ignore[arg-type]


def test_the_logged_in_pages_use_it(alice: InsuredPerson) -> None:
    client = logged_in(alice, "alice@example.lu")
    assert client.get("/mes-services/").status_code == 200
    PatientSession.objects.update(ended_at=timezone.now())
    assert client.get("/mes-services/")["Location"].startswith("/connexion/")


def test_a_link_that_may_be_empty_is_refused() -> None:
    # An inner join would lose the rows without one; select_related's outer join keeps them.
    with pytest.raises(ValueError, match="may be null"):
        raw_sql.Related(AuditEvent, "person", where="{0.pk} = %s")
