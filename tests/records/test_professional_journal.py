"""*Historique des accès* with professionals (issue 17, point 9): each professional line
names them, their profession and the capacity; emergency lines are marked in red and in
words; the journal filters by professional; its reads do not grow with its lines."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from esante.professionals.models import Professional
from esante.records.access import professional_access
from esante.records.actions import journal
from esante.records.care import (
    declare_relationship,
    journal_professional_read,
    open_emergency_access,
)
from esante.records.models import AccessAction, Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import page_text
from tests.records.care_people import make_professional, record_of, url

pytestmark = pytest.mark.django_db


def visible_text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def professional_lines(record: CareRecord, paul: Professional, sophie: Professional) -> None:
    """Sophie declares a relationship and reads the record; Paul opens it in an emergency."""
    alice = record.person
    declare_relationship(
        sophie,
        matricule=alice.matricule,
        last_name=alice.last_name,
        reason="Pansements",
        ip_address=None,
    )
    access = professional_access(record, sophie)
    assert access is not None
    journal_professional_read(access, AccessAction.READ_RECORD)
    open_emergency_access(
        paul,
        matricule=alice.matricule,
        last_name=alice.last_name,
        reason="Malaise aux urgences",
        ip_address=None,
    )


def test_professional_lines_say_who_their_profession_and_capacity(
    alice_client: Client, alice: InsuredPerson, paul: Professional, sophie: Professional
) -> None:
    record = record_of(alice)
    professional_lines(record, paul, sophie)

    page = page_text(alice_client.get(url("journal", record)))
    text = visible_text(page)

    assert "Sophie Müller (Infirmier) Bloquer Sophie Müller Relation de soins" in text
    assert "Relation de soins déclarée — Pansements" in text
    emergency_rows = re.findall(r'<tr role="row" class="journal-emergency">.*?</tr>', page, re.S)
    assert len(emergency_rows) == 1
    emergency = visible_text(emergency_rows[0])
    assert "Paul Reding (Médecin)" in emergency
    assert "⚠ Urgence (bris de glace)" in emergency
    assert "Accès en urgence — Malaise aux urgences" in emergency
    assert url("professional_block", record, paul.pk) in page


def test_a_blocked_professionals_lines_offer_no_block(
    alice_client: Client, alice: InsuredPerson, paul: Professional, sophie: Professional
) -> None:
    record = record_of(alice)
    professional_lines(record, paul, sophie)
    alice_client.post(url("professional_block", record, sophie.pk))

    page = page_text(alice_client.get(url("journal", record)))

    assert url("professional_block", record, sophie.pk) not in page
    assert url("professional_block", record, paul.pk) in page


def test_the_journal_filters_by_professional(
    alice_client: Client, alice: InsuredPerson, paul: Professional, sophie: Professional
) -> None:
    record = record_of(alice)
    professional_lines(record, paul, sophie)
    unrelated = make_professional("Marc", "Thill")

    page = page_text(alice_client.get(url("journal", record)))
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', page)
    assert options == [
        ("", "Tous les accès"),
        (str(sophie.pk), "Sophie Müller (Infirmier)"),
        (str(paul.pk), "Paul Reding (Médecin)"),
    ]

    only_paul = alice_client.get(url("journal", record), {"professionnel": paul.pk})
    text = visible_text(page_text(only_paul))
    assert only_paul.status_code == 200
    assert "Paul Reding (Médecin)" in text and "Pansements" not in text
    assert "Consultation de l'historique" not in text  # alice's own lines are not his
    assert f'<option value="{paul.pk}" selected>' in page_text(only_paul)

    for bogus in ("abc", str(unrelated.pk), "<script>alert(1)</script>"):
        refused = alice_client.get(url("journal", record), {"professionnel": bogus})
        assert refused.status_code == 400, bogus
        assert "Choisissez l'un des professionnels de la liste." in page_text(refused)
        assert "<script>alert(1)</script>" not in refused.content.decode()


def test_a_journal_without_professionals_shows_no_filter(
    alice_client: Client, alice: InsuredPerson
) -> None:
    page = page_text(alice_client.get(url("journal", record_of(alice))))

    assert 'name="professionnel"' not in page


def test_the_journal_reads_as_much_for_3_professional_lines_as_for_30(
    alice_client: Client, alice: InsuredPerson, paul: Professional, sophie: Professional
) -> None:
    record = record_of(alice)
    professional_lines(record, paul, sophie)
    address = url("journal", record)
    alice_client.get(address)  # the session's first reads out of the way

    with CaptureQueriesContext(connection) as few:
        alice_client.get(address)
    access = professional_access(record, sophie)
    assert access is not None
    for _line in range(27):
        journal_professional_read(access, AccessAction.READ_DOCUMENT, "Bilan")
    journal(record, actor=alice, capacity=Capacity.OWNER, action=AccessAction.READ_RECORD)
    with CaptureQueriesContext(connection) as many:
        alice_client.get(address)

    assert len(many) == len(few) <= 15
