"""*Accès en urgence (bris de glace)*: a physician opens a record without a care
relationship for 24 hours, stating the emergency; the record says so in red on every
page, the holder is told, the agency reviews it. Other professionals find no such page;
a block or the holder's refusal of emergency access opens nothing, with the one answer."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from esante import ratelimit
from esante.accounts.models import HeldNotice
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.professionals.models import Profession, Professional
from esante.records import care
from esante.records.actions import ensure_care_record
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Capacity,
    CareRecord,
    Confidentiality,
    EmergencyAccess,
)
from esante.registry.models import InsuredPerson
from tests.accounts.test_enumeration import answer_of
from tests.accounts.wizard import activate, page_text
from tests.practice.conftest import professional, professional_client, stored_document
from tests.practice.test_care_declare import NOTHING_FOUND, UNKNOWN

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

EMERGENCY = reverse("practice:emergency")
BANNER = "cet accès est signalé au patient et vérifié par l'Agence eSanté"


def break_glass(client: Client, number: str, last_name: str = "Martin", **fields: str) -> Response:
    data = {
        "matricule": number,
        "last_name": last_name,
        "reason": "Patient inconscient aux urgences",
        "confirm": "on",
        **fields,
    }
    return client.post(EMERGENCY, data)


def test_a_physician_opens_the_record_for_24_hours_in_red(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    normal = stored_document(alice_record, title="Groupe sanguin")
    stored_document(
        alice_record, title="Suivi psychiatrique", confidentiality=Confidentiality.RESTRICTED
    )

    response = break_glass(paul_logged_in, alice.matricule)

    record_url = reverse("practice:record", args=[alice_record.public_id])
    assert response.status_code == 302 and response["Location"] == record_url
    emergency = EmergencyAccess.objects.get(record=alice_record, professional=paul)
    assert emergency.ends_at - emergency.started_at == datetime.timedelta(hours=24)
    assert emergency.reason == "Patient inconscient aux urgences"
    page = page_text(paul_logged_in.get(record_url))
    assert "Accès en urgence jusqu'au" in page and BANNER in page
    assert "Urgence jusqu'au" in page
    assert normal.title in page and "Suivi psychiatrique" not in page
    document_page = page_text(
        paul_logged_in.get(
            reverse("practice:document", args=[alice_record.public_id, normal.public_id])
        )
    )
    assert BANNER in document_page
    lines = AccessEntry.objects.filter(record=alice_record, professional=paul)
    assert {(line.action, line.capacity) for line in lines} == {
        (AccessAction.EMERGENCY_ACCESS, Capacity.EMERGENCY),
        (AccessAction.READ_RECORD, Capacity.EMERGENCY),
        (AccessAction.READ_DOCUMENT, Capacity.EMERGENCY),
    }
    assert AuditEvent.objects.filter(
        event_type=EventType.EMERGENCY_ACCESS, actor=f"professional:{paul.pk}"
    ).exists()
    # Alice has no account: the notice waits for her.
    assert "urgence" in HeldNotice.objects.get(person=alice).body


def test_the_access_ends_after_24_hours(
    paul_logged_in: Client, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    break_glass(paul_logged_in, alice.matricule)
    record_url = reverse("practice:record", args=[alice_record.public_id])

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=24, minutes=1)):
        client = professional_client(alice_record.emergency_accesses.get().professional)
        assert client.get(record_url).status_code == 404


def test_the_holder_with_an_account_is_told_at_once(
    paul_logged_in: Client, bob: InsuredPerson
) -> None:
    activate(Client(), bob, "bob@example.lu")

    assert break_glass(paul_logged_in, bob.matricule).status_code == 302

    message = OutboundMessage.objects.filter(person=bob).latest("pk")
    assert message.subject == "Accès en urgence à un DSP"
    assert "Paul Reding (Médecin)" in message.body


def test_only_physicians_are_offered_it(alice: InsuredPerson, alice_record: CareRecord) -> None:
    nurse = professional_client(professional("20000017", "Schmit", Profession.NURSE))
    dentist = professional_client(professional("20000025", "Hoffmann", Profession.DENTIST))

    assert EMERGENCY not in nurse.get(reverse("practice:home")).content.decode()
    assert nurse.get(EMERGENCY).status_code == 404
    assert break_glass(nurse, alice.matricule).status_code == 404
    assert EMERGENCY in dentist.get(reverse("practice:home")).content.decode()
    assert dentist.get(EMERGENCY).status_code == 200
    assert break_glass(dentist, alice.matricule).status_code == 302
    assert EmergencyAccess.objects.get().professional.profession == Profession.DENTIST


def test_a_block_or_the_holders_refusal_is_the_one_answer(
    paul_logged_in: Client,
    paul: Professional,
    alice: InsuredPerson,
    alice_record: CareRecord,
    bob: InsuredPerson,
) -> None:
    care.block_professional(
        alice_record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None
    )
    bob_record = ensure_care_record(bob)
    care.set_emergency_refusal(
        bob_record, True, actor=bob, capacity=Capacity.OWNER, ip_address=None
    )

    answers = {
        label: answer_of(break_glass(paul_logged_in, number))
        for label, number in {
            "unknown": UNKNOWN,
            "blocked": alice.matricule,
            "refused by the holder": bob.matricule,
        }.items()
    }

    reference = answers["unknown"]
    assert reference.status == 400
    assert NOTHING_FOUND in reference.page.replace("&#x27;", "'")
    assert all(answer == reference for answer in answers.values()), answers.keys()
    assert not EmergencyAccess.objects.exists()
    reasons = [
        event.details["reason"]
        for event in AuditEvent.objects.filter(
            event_type=EventType.EMERGENCY_ACCESS_REFUSED
        ).order_by("pk")
    ]
    assert reasons == ["unknown_matricule_or_no_record", "blocked", "refused_by_holder"]


def test_the_emergency_must_be_confirmed_and_stated(
    paul_logged_in: Client, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    response = paul_logged_in.post(
        EMERGENCY, {"matricule": alice.matricule, "last_name": "Martin", "reason": ""}
    )

    assert response.status_code == 400
    page = page_text(response)
    assert "Cochez la case pour confirmer l'urgence." in page
    assert "Décrivez l'urgence." in page
    assert f'value="{alice.matricule}"' in page
    assert not EmergencyAccess.objects.exists()


def test_emergency_accesses_are_limited_per_physician(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    rule = next(rule for rule in ratelimit.RATE_LIMITS["care.emergency"] if rule.scope == "key")
    elsewhere = RequestFactory().get("/", REMOTE_ADDR="192.0.2.4")
    for _hit in range(rule.limit):
        ratelimit.hit("care.emergency", elsewhere, key=f"professional:{paul.pk}")

    response = break_glass(paul_logged_in, alice.matricule)

    assert response.status_code == 429
    assert "Trop d'accès en urgence aujourd'hui" in page_text(response)
    assert not EmergencyAccess.objects.exists()


def test_espace_professionnel_lists_the_emergency_accesses_under_way(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    home = reverse("practice:home")
    assert "Accès en urgence en cours" not in page_text(paul_logged_in.get(home))
    break_glass(paul_logged_in, alice.matricule)
    break_glass(paul_logged_in, alice.matricule)  # a second one: the record listed once

    page = page_text(paul_logged_in.get(home))
    assert "Accès en urgence en cours" in page
    assert page.count(alice.full_name) == 1
    record_url = reverse("practice:record", args=[alice_record.public_id])
    assert record_url in paul_logged_in.get(home).content.decode()

    care.block_professional(
        alice_record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None
    )
    assert "Accès en urgence en cours" not in page_text(paul_logged_in.get(home))
