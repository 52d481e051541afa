"""The record page's two reads are plain SQL written once per process (esante.raw_sql.Select,
issue 16), and its journal line one INSERT (esante.raw_sql.insert): they read and write
what the ORM reads and writes, converted as the ORM converts it, on SQLite and on
PostgreSQL alike."""

from __future__ import annotations

import datetime
import uuid
from typing import cast

import pytest
from django.db.models import BooleanField, DateTimeField, Field
from django.utils import timezone

from esante import raw_sql
from esante.audit.models import AppendOnlyError
from esante.records.actions import ensure_care_record, journal
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
from esante.records.views import DOCUMENT_COLUMNS, _documents_select, read_for_record_page
from tests.factories import make_person
from tests.records.test_documents import provider_document

pytestmark = pytest.mark.django_db


def test_the_record_read_is_the_orms_with_its_three_columns() -> None:
    holder = make_person()
    record = ensure_care_record(holder)
    CareRecord.objects.filter(pk=record.pk).update(closed_at=timezone.now())

    read = read_for_record_page(record.public_id)

    assert read is not None
    expected = CareRecord.objects.get(pk=record.pk)
    for field in CareRecord._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(read.public_id, uuid.UUID)
    assert isinstance(read.created_at, datetime.datetime)
    assert read.created_at.tzinfo is not None
    assert read._state.adding is False
    assert read.any_assistant is False  # type: ignore[attr-defined]
    assert read.declaration_at is None  # type: ignore[attr-defined]


def test_the_last_answer_and_a_live_assistant_are_read_with_the_record() -> None:
    holder, helper = make_person(), make_person("Bob", "Martin")
    record = ensure_care_record(holder)
    OrganDonationDeclaration.objects.create(record=record, refuses_removal=False)
    last = OrganDonationDeclaration.objects.create(record=record, refuses_removal=True)
    Assistant.objects.create(record=record, person=helper, added_by=holder)

    read = read_for_record_page(record.public_id)

    assert read is not None
    assert read.any_assistant is True  # type: ignore[attr-defined]
    assert read.declaration_refuses is True  # type: ignore[attr-defined]
    assert read.declaration_at == last.declared_at  # type: ignore[attr-defined]


def test_an_unknown_record_reads_as_none() -> None:
    assert read_for_record_page(uuid.uuid4()) is None


def test_the_documents_come_in_the_models_order_as_the_orm_reads_them() -> None:
    record = ensure_care_record(make_person())
    other = ensure_care_record(make_person("Bob", "Martin"))
    provider_document(record, document_date=datetime.date(2026, 1, 5))
    provider_document(record, document_date=datetime.date(2026, 3, 1), title="Radio")
    provider_document(record, document_date=datetime.date(2026, 3, 1), title="Même jour")
    provider_document(
        record,
        category=Category.PATIENT,
        confidentiality=Confidentiality.RESTRICTED,
        masked_at=timezone.now(),
    )
    provider_document(other)

    every = _documents_select(by_category=False).rows([record.pk])
    some = _documents_select(by_category=True).rows([record.pk, Category.LABORATORY])

    documents = Document.objects.filter(record=record)
    assert every == list(documents.values_list(*DOCUMENT_COLUMNS))
    laboratory = documents.filter(category=Category.LABORATORY)
    assert some == list(laboratory.values_list(*DOCUMENT_COLUMNS))
    assert len(every) == 4 and len(some) == 3


def test_a_computed_columns_values_are_converted_by_their_field() -> None:
    select = raw_sql.Select(
        "SELECT 1 = 1, 1 = 0, %s", [BooleanField(), BooleanField(), DateTimeField()]
    )
    moment = timezone.now().replace(microsecond=0)
    parameter = raw_sql.prepare(DateTimeField(), moment)

    assert select.rows([parameter]) == [(True, False, moment)]


def test_a_parameter_is_prepared_as_the_orm_prepares_it() -> None:
    public_id = cast("Field[uuid.UUID, uuid.UUID]", CareRecord._meta.get_field("public_id"))
    record = ensure_care_record(make_person())
    select = raw_sql.Select(
        "SELECT 1 FROM records_carerecord WHERE public_id = %s", [BooleanField()]
    )

    assert select.rows([raw_sql.prepare(public_id, record.public_id)]) == [(True,)]
    assert select.rows([raw_sql.prepare(public_id, str(record.public_id))]) == [(True,)]


def test_a_journal_line_is_written_as_save_writes_it() -> None:
    holder = make_person()
    record = ensure_care_record(holder)
    before = timezone.now()

    entry = journal(
        record,
        actor=holder,
        capacity=Capacity.OWNER,
        action=AccessAction.READ_RECORD,
        target="x" * 300,
    )

    assert entry.pk is not None and entry._state.adding is False
    stored = AccessEntry.objects.get(pk=entry.pk)
    for field in AccessEntry._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(entry, field.attname), field.name
    assert before <= stored.at <= timezone.now()
    assert len(stored.target) == 200
    with pytest.raises(AppendOnlyError):
        entry.save()  # the line written is as append-only as one the ORM wrote
