"""The superviseur's report of the emergency accesses (bris de glace): every one, newest
first, filtered by the state of its review, each reviewed as justified or not (audited).
It shows the professional, the holder's eSanté identifier, the time and the stated
reason — never a document's title or content, never the record's address. Agents are
refused, as on the other superviseur pages."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from esante.audit.models import AuditEvent, EventType
from esante.professionals.models import Professional
from esante.records import documents
from esante.records.care import open_emergency_access
from esante.records.models import CareRecord, Category, Document, EmergencyAccess
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import page_text
from tests.practice.conftest import PAUL, register

pytestmark = pytest.mark.django_db

REPORT = reverse("helpdesk:emergency_report")
TITLE = "Sérologie VIH confidentielle"
CONTENT = b"%PDF-1.4 resultat positif"


@pytest.fixture
def paul(db: None) -> Professional:
    return register(PAUL)


@pytest.fixture
def record(alice: InsuredPerson) -> CareRecord:
    issue_letters([alice], actor="test")  # her DSP opens with her letter
    record = CareRecord.objects.get(person=alice)
    Document.objects.create(
        record=record,
        category=Category.LABORATORY,
        title=TITLE,
        author="LNS",
        document_date=datetime.date(2026, 1, 2),
        stored_name=documents.storage().save("x/y", io.BytesIO(CONTENT)),
        content_type="application/pdf",
        size=len(CONTENT),
    )
    return record


def emergency(
    professional: Professional, person: InsuredPerson, reason: str, at: datetime.datetime
) -> EmergencyAccess:
    with time_machine.travel(at, tick=False):
        return open_emergency_access(
            professional,
            matricule=person.matricule,
            last_name=person.last_name,
            reason=reason,
            ip_address="192.0.2.7",
        )


@pytest.fixture
def accesses(paul: Professional, record: CareRecord, bob: InsuredPerson) -> list[EmergencyAccess]:
    issue_letters([bob], actor="test")
    at_dawn = datetime.datetime(2026, 12, 1, 8, 15, tzinfo=datetime.UTC)
    at_night = datetime.datetime(2026, 12, 3, 22, 40, tzinfo=datetime.UTC)
    return [
        emergency(paul, record.person, "Patiente inconsciente aux urgences", at_dawn),
        emergency(paul, bob, "Accident de la route, pas de contact", at_night),
    ]


def review(client: Client, access: EmergencyAccess, data: dict[str, str]) -> Any:
    prefix = f"u{access.public_id.hex}"
    return client.post(
        reverse("helpdesk:emergency_review", args=[access.public_id]),
        {
            f"{prefix}-{key}" if key in ("verdict", "commentaire") else key: value
            for key, value in data.items()
        },
    )


def test_the_report_lists_every_emergency_access_newest_first(
    superviseur_client: Client,
    accesses: list[EmergencyAccess],
    alice: InsuredPerson,
    bob: InsuredPerson,
) -> None:
    response = superviseur_client.get(REPORT)

    assert response.status_code == 200
    page = page_text(response)
    assert "2 accès en urgence." in page
    for expected in ("Paul Reding", "Médecin", "10381524", alice.esante_id, bob.esante_id):
        assert expected in page, expected
    assert page.index("Accident de la route") < page.index("Patiente inconsciente")
    assert page.count("À examiner") >= 2
    assert 'class="table table-stack emergency-table"' in page


def test_the_report_shows_no_title_content_or_address_of_a_record(
    superviseur_client: Client, accesses: list[EmergencyAccess], record: CareRecord
) -> None:
    page = page_text(superviseur_client.get(REPORT))

    assert TITLE not in page and "positif" not in page
    assert str(record.public_id) not in page and record.public_id.hex not in page
    assert reverse("records:record", args=[record.public_id]) not in page
    assert "/dsp/" not in page
    assert record.person.matricule not in page  # the identifier, not the matricule


def test_the_supervisor_reviews_an_access_and_it_is_audited(
    superviseur_client: Client, superviseur: Any, accesses: list[EmergencyAccess]
) -> None:
    access = accesses[0]

    done = review(
        superviseur_client,
        access,
        {
            "verdict": "non_justifie",
            "commentaire": "Aucune admission ce jour-là",
            "etat": "a_examiner",
        },
    )

    assert done.status_code == 302
    assert done["Location"] == f"{REPORT}?etat=a_examiner"  # back to the list as it was
    access.refresh_from_db()
    assert access.justified is False
    assert access.reviewed_by_id == superviseur.pk
    assert access.review_note == "Aucune admission ce jour-là"
    event = AuditEvent.objects.get(event_type=EventType.EMERGENCY_ACCESS_REVIEWED)
    assert event.actor == f"staff:{superviseur.pk}"
    assert event.details["emergency"] == str(access.public_id)
    assert event.details["justified"] is False

    page = page_text(superviseur_client.get(REPORT))
    assert "Accès en urgence examiné : non justifié." in page
    assert (
        "Non justifié" in page and "sup.weber" in page and "« Aucune admission ce jour-là »" in page
    )

    # A verdict can be changed: each one is audited.
    review(superviseur_client, access, {"verdict": "justifie", "commentaire": ""})
    access.refresh_from_db()
    assert access.justified is True
    assert AuditEvent.objects.filter(event_type=EventType.EMERGENCY_ACCESS_REVIEWED).count() == 2


def test_the_filters_show_each_state(
    superviseur_client: Client,
    accesses: list[EmergencyAccess],
    paul: Professional,
    alice: InsuredPerson,
) -> None:
    third = emergency(
        paul, alice, "Troisième urgence", datetime.datetime(2026, 12, 5, 9, 0, tzinfo=datetime.UTC)
    )
    review(superviseur_client, accesses[0], {"verdict": "justifie"})
    review(superviseur_client, accesses[1], {"verdict": "non_justifie"})

    def reasons(state: str) -> set[str]:
        page = page_text(superviseur_client.get(REPORT, {"etat": state}))
        all_reasons = {access.reason for access in [*accesses, third]}
        return {reason for reason in all_reasons if reason in page}

    assert reasons("") == {accesses[0].reason, accesses[1].reason, third.reason}
    assert reasons("a_examiner") == {third.reason}
    assert reasons("justifies") == {accesses[0].reason}
    assert reasons("non_justifies") == {accesses[1].reason}
    unknown = superviseur_client.get(REPORT, {"etat": "tous-les-secrets"})
    assert unknown.status_code == 400
    assert "Choisissez un état de la liste." in page_text(unknown)


def test_the_report_is_paginated(
    superviseur_client: Client, paul: Professional, record: CareRecord
) -> None:
    start = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=datetime.UTC)
    for index in range(27):
        emergency(
            paul,
            record.person,
            f"Urgence numéro {index:02d}",
            start + datetime.timedelta(hours=index),
        )

    first = page_text(superviseur_client.get(REPORT))
    second = page_text(superviseur_client.get(REPORT, {"page": 2}))

    assert "Urgence numéro 26" in first and "Urgence numéro 02" in first
    assert "Urgence numéro 01" not in first
    assert "Urgence numéro 01" in second and "Urgence numéro 00" in second
    assert "Page 2 sur 2" in second


def test_a_review_without_verdict_is_refused_and_keeps_the_comment(
    superviseur_client: Client, accesses: list[EmergencyAccess]
) -> None:
    access = accesses[0]

    refused = review(superviseur_client, access, {"commentaire": "Je reviens vers vous"})
    too_long = review(superviseur_client, access, {"verdict": "justifie", "commentaire": "x" * 501})

    assert refused.status_code == 400
    assert "Choisissez : justifié ou non justifié." in page_text(refused)
    assert "Je reviens vers vous" in page_text(refused)
    assert too_long.status_code == 400
    assert "500 caractères" in page_text(too_long)
    access.refresh_from_db()
    assert access.reviewed_at is None
    assert not AuditEvent.objects.filter(event_type=EventType.EMERGENCY_ACCESS_REVIEWED).exists()


def test_an_unknown_access_is_not_found(superviseur_client: Client) -> None:
    url = reverse("helpdesk:emergency_review", args=["00000000-0000-4000-8000-000000000000"])
    assert superviseur_client.post(url, {}).status_code == 404


def test_only_the_supervisor_sees_the_report_and_its_link(
    superviseur_client: Client, agent_client: Client, accesses: list[EmergencyAccess]
) -> None:
    access = accesses[0]

    assert REPORT in superviseur_client.get(reverse("helpdesk:home")).content.decode()
    assert REPORT not in agent_client.get(reverse("helpdesk:home")).content.decode()
    assert agent_client.get(REPORT).status_code == 403
    assert review(agent_client, access, {"verdict": "justifie"}).status_code == 403
    access.refresh_from_db()
    assert access.reviewed_at is None
