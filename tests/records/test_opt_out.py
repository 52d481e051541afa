"""Every living insured person has a DSP (opt-out): it opens with the person's first
letter, which says so and gives ESANTE_DSP_OBJECTION_DAYS days to close it before
professionals may write into it; `esante open-records` opens one for the people already
registered."""

from __future__ import annotations

import datetime
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from esante.notifications.models import Channel, OutboundMessage
from esante.records.actions import open_missing_records
from esante.records.models import CareRecord
from esante.records.receivers import open_records_with_letters
from esante.registry import signals as registry_signals
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import activate
from tests.factories import make_person

pytestmark = pytest.mark.django_db

LUXEMBOURG = ZoneInfo("Europe/Luxembourg")
ISSUED_AT = datetime.datetime(2027, 1, 10, 9, 30, tzinfo=LUXEMBOURG)


def letter_text(person: InsuredPerson) -> str:
    return OutboundMessage.objects.filter(person=person, channel=Channel.LETTER).latest("pk").body


def test_the_first_letter_opens_the_dsp_with_30_days_to_object(alice: InsuredPerson) -> None:
    assert not CareRecord.objects.filter(person=alice).exists()

    with time_machine.travel(ISSUED_AT, tick=False):
        issue_letters([alice], actor="test")

    record = CareRecord.objects.get(person=alice)
    assert record.created_at == ISSUED_AT
    assert record.objection_until == ISSUED_AT + datetime.timedelta(days=30)
    assert record.closed_at is None
    text = letter_text(alice)
    assert "Votre dossier de soins partagé (DSP) est ouvert" in text
    assert "à partir du 9 février 2027" in text
    assert "fermez votre DSP avant cette date" in text


def test_the_letter_tells_it_in_the_person_s_language(alice: InsuredPerson, lea: Any) -> None:
    InsuredPerson.objects.filter(pk=alice.pk).update(language="de")

    with time_machine.travel(ISSUED_AT, tick=False):
        issue_letters([alice, lea], actor="test")

    assert "ab dem 9. Februar 2027" in letter_text(alice)
    assert "Ihre Gemeinsame Gesundheitsakte (DSP) ist eröffnet" in letter_text(alice)
    assert "Le dossier de soins partagé (DSP) de votre enfant est ouvert" in letter_text(lea)


def test_the_objection_period_is_a_setting(settings: Any, alice: InsuredPerson) -> None:
    settings.ESANTE_DSP_OBJECTION_DAYS = 45

    with time_machine.travel(ISSUED_AT, tick=False):
        issue_letters([alice], actor="test")

    until = CareRecord.objects.get(person=alice).objection_until
    assert until == ISSUED_AT + datetime.timedelta(days=45)
    assert "à partir du 24 février 2027" in letter_text(alice)


def test_a_later_letter_leaves_the_record_as_it_is(alice: InsuredPerson) -> None:
    with time_machine.travel(ISSUED_AT, tick=False):
        issue_letters([alice], actor="test")
    first = CareRecord.objects.get(person=alice)

    # A lost letter, reissued within the 30 days: the same date, printed again.
    with time_machine.travel(ISSUED_AT + datetime.timedelta(days=10), tick=False):
        issue_letters([alice], actor="test")
    assert CareRecord.objects.get(person=alice).objection_until == first.objection_until
    assert "à partir du 9 février 2027" in letter_text(alice)

    # After them: the DSP is open to professionals, the letter says so without a date.
    with time_machine.travel(ISSUED_AT + datetime.timedelta(days=60), tick=False):
        issue_letters([alice], actor="test")
    again = CareRecord.objects.get(person=alice)
    assert (again.pk, again.created_at, again.objection_until) == (
        first.pk,
        first.created_at,
        first.objection_until,
    )
    assert "peuvent y consulter et y ajouter vos documents médicaux" in letter_text(alice)
    assert "à partir du" not in letter_text(alice)


def test_a_closed_dsp_stays_closed_and_the_letter_says_nothing_of_it(
    alice: InsuredPerson,
) -> None:
    closed_at = timezone.now() - datetime.timedelta(days=3)
    CareRecord.objects.create(person=alice, closed_at=closed_at)

    issue_letters([alice], actor="test")

    assert CareRecord.objects.get(person=alice).closed_at == closed_at
    assert "dossier de soins partagé" not in letter_text(alice)


def test_the_deceased_get_no_dsp(alice: InsuredPerson, bob: InsuredPerson) -> None:
    InsuredPerson.objects.filter(pk=bob.pk).update(date_of_death=datetime.date(2026, 5, 1))

    issue_letters([alice, bob], actor="test")
    open_missing_records()

    assert CareRecord.objects.filter(person=alice).exists()
    assert not CareRecord.objects.filter(person=bob).exists()


def test_a_letter_run_opens_the_records_with_one_statement_per_chunk() -> None:
    people = [make_person("Personne", f"Numéro {index}") for index in range(7)]
    CareRecord.objects.create(person=people[3])  # one already has a DSP

    with CaptureQueriesContext(connection) as queries:
        issue_letters(people, actor="test", chunk_size=3)

    # Per chunk of 3: one INSERT of the records, and the letters' facts read in one query.
    # (INSERT OR IGNORE on SQLite, INSERT … ON CONFLICT DO NOTHING on PostgreSQL.)
    inserts = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("INSERT") and "records_carerecord" in q["sql"]
    ]
    assert len(inserts) == 3
    touching = [q["sql"] for q in queries if "records_carerecord" in q["sql"]]
    assert len(touching) == 2 * 3
    assert CareRecord.objects.filter(person__in=people).count() == 7
    assert CareRecord.objects.get(person=people[3]).objection_until is None


def test_an_activation_without_a_record_opens_one_without_objection_period(
    alice: InsuredPerson,
) -> None:
    """Her letter came before the opt-out: she activates, and has her DSP in front of
    her, where she can close it at any time (esante.records.receivers)."""
    # A letter from before the opt-out: it opened no DSP.
    registry_signals.letters_written.disconnect(open_records_with_letters)
    try:
        activate(Client(), alice)
    finally:
        registry_signals.letters_written.connect(open_records_with_letters)

    record = CareRecord.objects.get(person=alice)
    assert record.objection_until is None


def test_an_activation_keeps_the_record_the_letter_opened(alice: InsuredPerson) -> None:
    activate(Client(), alice)

    record = CareRecord.objects.get(person=alice)
    assert record.objection_until is not None
    assert record.objection_until > timezone.now() + datetime.timedelta(days=29)


def test_open_records_opens_one_for_every_living_person_without(
    alice: InsuredPerson, bob: InsuredPerson, charlie: InsuredPerson
) -> None:
    InsuredPerson.objects.filter(pk=charlie.pk).update(date_of_death=datetime.date(2026, 5, 1))
    lea = make_person("Léa", "Martin")
    existing = CareRecord.objects.create(person=lea, objection_until=None)
    out = io.StringIO()

    with time_machine.travel(ISSUED_AT, tick=False):
        call_command("open_records", stdout=out, verbosity=0)

    assert out.getvalue().strip() == "2 DSP ouverts."
    for person in (alice, bob):
        record = CareRecord.objects.get(person=person)
        assert record.created_at == ISSUED_AT
        assert record.objection_until == ISSUED_AT + datetime.timedelta(days=30)
    assert not CareRecord.objects.filter(person=charlie).exists()
    assert CareRecord.objects.get(person=lea).objection_until is None
    assert CareRecord.objects.get(person=lea).pk == existing.pk

    again = io.StringIO()
    call_command("open_records", stdout=again)
    assert "Aucun DSP à ouvrir" in again.getvalue()
    assert CareRecord.objects.count() == 3


def test_open_records_goes_by_chunks(alice: InsuredPerson, bob: InsuredPerson, lea: Any) -> None:
    counted: list[int] = []

    assert open_missing_records(chunk_size=2, progress=counted.append) == 3

    assert counted == [2, 1]
    assert CareRecord.objects.count() == 3
    assert open_missing_records(chunk_size=2) == 0


def test_open_records_refuses_a_chunk_size_below_1() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("open_records", "--chunk-size", "0")
