"""The permission matrix over every helpdesk URL: anonymous, a patient, an agent, a
superviseur, a print operator. And no way from the helpdesk into a DSP."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account
from esante.records import documents
from esante.records.care import open_emergency_access
from esante.records.models import CareRecord, Category, Document, EmergencyAccess
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson, LetterBatch
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import activate, page_text
from tests.practice.conftest import PAUL, register

pytestmark = pytest.mark.django_db

# Each page, and who may open it (the others: 403; without a staff session: the login).
PAGES_GET = {
    "helpdesk:home": {"agent", "superviseur", "impression"},  # impression: sent to batches
    "person": {"agent", "superviseur"},
    "helpdesk:passkeys": {"agent", "superviseur", "impression"},
    "helpdesk:password": {"agent", "superviseur", "impression"},
    "helpdesk:batches": {"impression"},
    "batch_pdf": {"impression"},
    "helpdesk:audit_log": {"superviseur"},
    "helpdesk:statistics": {"superviseur"},
    "helpdesk:statistics_csv": {"superviseur"},
    "helpdesk:emergency_report": {"superviseur"},
}
PAGES_POST = {
    "note": {"agent", "superviseur"},
    "action": {"agent", "superviseur"},
    "helpdesk:batch_generate": {"impression"},
    "batch_posted": {"impression"},
    "emergency_review": {"superviseur"},
}
STAFF = ("agent", "superviseur", "impression")


def url_of(name: str, person: InsuredPerson, batch: LetterBatch, emergency: EmergencyAccess) -> str:
    special = {
        "emergency_review": reverse("helpdesk:emergency_review", args=[emergency.public_id]),
        "person": reverse("helpdesk:person", args=[person.esante_id]),
        "batch_pdf": reverse("helpdesk:batch_pdf", args=[batch.pk]),
        "note": reverse("helpdesk:person_note", args=[person.esante_id]),
        "action": reverse("helpdesk:person_action", args=[person.esante_id, "debloquer"]),
        "batch_posted": reverse("helpdesk:batch_posted", args=[batch.pk]),
    }
    return special.get(name) or reverse(name)


@pytest.fixture
def world(
    alice: InsuredPerson,
    agent_client: Client,
    superviseur_client: Client,
    printer_client: Client,
) -> dict[str, Any]:
    activate(Client(), alice, EMAIL)
    batch = issue_letters([alice], actor="test")
    assert batch is not None
    physician = register(PAUL)
    emergency = open_emergency_access(
        physician, matricule=alice.matricule, last_name="Martin", reason="Urgence", ip_address=None
    )
    patient = Client()
    log_in(patient, Account.objects.get(person=alice))
    return {
        "person": alice,
        "batch": batch,
        "emergency": emergency,
        "clients": {
            "anonyme": Client(),
            "patient": patient,
            "agent": agent_client,
            "superviseur": superviseur_client,
            "impression": printer_client,
        },
    }


@pytest.mark.parametrize("who", ["anonyme", "patient", *STAFF])
def test_permission_matrix(world: dict[str, Any], who: str) -> None:
    client: Client = world["clients"][who]
    person, batch, emergency = world["person"], world["batch"], world["emergency"]
    login = reverse("helpdesk:login")
    for name, allowed in PAGES_GET.items():
        response = client.get(url_of(name, person, batch, emergency))
        if who not in STAFF:
            assert response.status_code == 302 and response["Location"].startswith(login), name
        elif who not in allowed:
            assert response.status_code == 403, (name, response.status_code)
        elif who == "impression" and name == "helpdesk:home":
            assert response["Location"] == reverse("helpdesk:batches")
        else:
            assert response.status_code == 200, (name, response.status_code)
    for name, allowed in PAGES_POST.items():
        data = {
            "reason": "Vérification des droits",
            "text": "Note",
            f"u{emergency.public_id.hex}-verdict": "justifie",
        }
        response = client.post(url_of(name, person, batch, emergency), data)
        if who not in STAFF:
            assert response.status_code == 302 and response["Location"].startswith(login), name
        elif who not in allowed:
            assert response.status_code == 403, (name, response.status_code)
        else:
            assert response.status_code == 302, name
            assert not response["Location"].startswith(login), name


def test_a_staff_session_opens_no_dsp(world: dict[str, Any]) -> None:
    record = CareRecord.objects.get(person=world["person"])
    agent: Client = world["clients"]["agent"]

    for url in (reverse("records:mine"), reverse("records:record", args=[record.public_id])):
        response = agent.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("patient:login"))


def test_the_emergency_report_shows_no_dsp(world: dict[str, Any]) -> None:
    """The superviseur's report of emergency accesses names the holder by their eSanté
    identifier: no title or content of the record's documents, no way into the record."""
    record = CareRecord.objects.get(person=world["person"])
    Document.objects.create(
        record=record,
        category=Category.LABORATORY,
        title="Sérologie confidentielle",
        author="LNS",
        document_date=datetime.date(2026, 1, 2),
        stored_name=documents.storage().save("x/y", io.BytesIO(b"%PDF-1.4")),
        content_type="application/pdf",
        size=8,
    )
    titles = list(Document.objects.filter(record=record).values_list("title", flat=True))
    assert titles
    superviseur: Client = world["clients"]["superviseur"]

    page = page_text(superviseur.get(reverse("helpdesk:emergency_report")))

    assert world["person"].esante_id in page and "Urgence" in page
    assert not [title for title in titles if title in page]
    assert str(record.public_id) not in page and record.public_id.hex not in page
    assert reverse("records:record", args=[record.public_id]) not in page
