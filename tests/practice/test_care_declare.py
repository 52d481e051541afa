"""*Déclarer une relation de soins*: the professional, with the patient in front of them,
types the matricule, the patient's name and a reason; the record opens at once and the
holder is told. Every refusal is one answer, word for word; every attempt counts against
the professional's and the address's limits."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from esante import ratelimit
from esante.accounts.models import HeldNotice
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.professionals.models import Profession, Professional
from esante.records import care
from esante.records.actions import close_record, ensure_care_record
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Capacity,
    CareRecord,
    CareRelationship,
    RelationshipOrigin,
)
from esante.registry import matricule
from esante.registry.models import InsuredPerson
from tests.accounts.test_enumeration import answer_of
from tests.accounts.wizard import activate, page_text
from tests.factories import years_ago
from tests.practice.conftest import professional, professional_client
from tests.records.conftest import logged_in

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

DECLARE = reverse("practice:declare")
NOTHING_FOUND = (
    "Aucun dossier accessible ne correspond à ces informations. Vérifiez le numéro "
    "d'identification et le nom du patient."
)
UNKNOWN = matricule.make(years_ago(40, days=17), 977)


def declare(client: Client, number: str, last_name: str = "Martin", **fields: str) -> Response:
    data = {"matricule": number, "last_name": last_name, "reason": "Consultation", **fields}
    return client.post(DECLARE, data)


def test_a_declaration_opens_the_record_and_tells_the_holder(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    response = declare(paul_logged_in, alice.matricule, "  martin ", reason="Suivi du diabète")

    record_url = reverse("practice:record", args=[alice_record.public_id])
    assert response.status_code == 302 and response["Location"] == record_url
    relationship = CareRelationship.objects.get(record=alice_record, professional=paul)
    assert relationship.origin == RelationshipOrigin.DECLARED
    assert relationship.reason == "Suivi du diabète"
    assert relationship.ends_at - relationship.started_at == datetime.timedelta(days=183)
    line = AccessEntry.objects.get(record=alice_record, action=AccessAction.DECLARE)
    assert (line.professional, line.capacity, line.target) == (
        paul,
        Capacity.CARE,
        "Suivi du diabète",
    )
    assert AuditEvent.objects.filter(
        event_type=EventType.CARE_RELATIONSHIP_DECLARED, actor=f"professional:{paul.pk}"
    ).exists()
    # Alice has no account yet: the notice waits for her first login.
    notice = HeldNotice.objects.get(person=alice)
    assert "Paul Reding (Médecin)" in notice.body

    page = page_text(paul_logged_in.get(record_url))
    assert "La relation de soins est enregistrée" in page
    home = page_text(paul_logged_in.get(reverse("practice:home")))
    assert alice.full_name in home
    assert f"né(e) le {alice.birth_date:%d/%m/%Y}" in home
    assert "jusqu'au" in home and "déclarée par le professionnel" in home


def test_a_holder_with_an_account_is_told_at_once(
    paul_logged_in: Client, bob: InsuredPerson
) -> None:
    activate(Client(), bob, "bob@example.lu")

    assert declare(paul_logged_in, bob.matricule).status_code == 302

    message = OutboundMessage.objects.filter(person=bob).latest("pk")
    assert message.recipient == "bob@example.lu"
    assert "Paul Reding" in message.body
    assert not HeldNotice.objects.filter(person=bob).exists()


@pytest.fixture
def refusals(
    paul: Professional,
    alice: InsuredPerson,
    bob: InsuredPerson,
    charlie: InsuredPerson,
    lea: InsuredPerson,
) -> dict[str, str]:
    """Each way a declaration opens nothing, all typed with the name « Martin »."""
    alice_record = ensure_care_record(alice)
    care.block_professional(
        alice_record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None
    )
    close_record(ensure_care_record(bob), actor=bob)
    ensure_care_record(charlie)
    CareRecord.objects.filter(person=lea).delete()
    return {
        "unknown": UNKNOWN,
        "name mismatch": charlie.matricule,  # Weber
        "blocked": alice.matricule,
        "closed DSP": bob.matricule,
        "no DSP": lea.matricule,
    }


def test_every_refusal_is_one_answer_word_for_word(
    paul_logged_in: Client, paul: Professional, refusals: dict[str, str]
) -> None:
    answers = {
        label: answer_of(declare(paul_logged_in, number)) for label, number in refusals.items()
    }

    reference = answers["unknown"]
    assert reference.status == 400
    assert NOTHING_FOUND in reference.page.replace("&#x27;", "'")
    for label, answer in answers.items():
        assert answer == reference, f"{label!r} answers differently"
    assert not CareRelationship.objects.filter(professional=paul).exists()
    reasons = [
        event.details["reason"]
        for event in AuditEvent.objects.filter(
            event_type=EventType.CARE_DECLARATION_REFUSED, actor=f"professional:{paul.pk}"
        ).order_by("pk")
    ]
    unknown = "unknown_matricule_or_no_record"
    assert reasons == [unknown, "name_mismatch", "blocked", "closed", unknown]
    # The refusal keeps what was typed.
    assert 'value="Consultation"' in reference.page


def test_what_is_typed_wrong_is_said_and_kept(paul_logged_in: Client) -> None:
    response = declare(paul_logged_in, "1234", "Martin", reason="")

    assert response.status_code == 400
    page = page_text(response)
    assert "Le matricule compte 11 ou 13 chiffres" in page
    assert "Indiquez le motif de la relation de soins." in page
    assert 'value="1234"' in page and 'value="Martin"' in page


def test_every_attempt_counts_and_the_limit_answers_429(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    key = f"professional:{paul.pk}"
    request = RequestFactory().get("/")
    declare(paul_logged_in, UNKNOWN)
    declare(paul_logged_in, alice.matricule)
    assert ratelimit.attempts("care.declare", request, key=key) == 2

    rule = next(rule for rule in ratelimit.RATE_LIMITS["care.declare"] if rule.scope == "key")
    for _hit in range(rule.limit - 2):
        ratelimit.hit("care.declare", RequestFactory().get("/", REMOTE_ADDR="192.0.2.4"), key=key)
    response = declare(paul_logged_in, alice.matricule)

    assert response.status_code == 429
    assert "Trop de relations de soins déclarées aujourd'hui" in page_text(response)


def test_the_limit_per_address_holds_for_every_professional(
    paul_logged_in: Client, alice: InsuredPerson
) -> None:
    rule = next(rule for rule in ratelimit.RATE_LIMITS["care.declare"] if rule.scope == "ip")
    for _hit in range(rule.limit):
        ratelimit.hit("care.declare", RequestFactory().get("/"), key="professional:other")

    response = declare(paul_logged_in, alice.matricule)

    assert response.status_code == 429
    assert "depuis cette connexion Internet" in page_text(response)


def test_an_inactive_professional_declares_nothing(
    alice: InsuredPerson, alice_record: CareRecord
) -> None:
    nurse = professional("20000017", "Schmit", Profession.NURSE)
    client = professional_client(nurse)
    Professional.objects.filter(pk=nurse.pk).update(is_active=False)

    response = declare(client, alice.matricule)

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login_choice") + "#professionnel"
    assert not CareRelationship.objects.exists()


def test_a_nurse_declares_for_a_month(nurse_client: Client, alice: InsuredPerson) -> None:
    ensure_care_record(alice)

    assert declare(nurse_client, alice.matricule).status_code == 302

    relationship = CareRelationship.objects.get()
    assert relationship.ends_at - relationship.started_at == datetime.timedelta(days=31)


@pytest.fixture
def nurse_client(db: None) -> Client:
    return professional_client(professional("20000017", "Schmit", Profession.NURSE))


def test_patients_and_visitors_are_sent_to_the_professional_login(
    alice: InsuredPerson, charlie: InsuredPerson
) -> None:
    for client in (Client(), logged_in(charlie, "charlie@example.lu", declare=False)):
        for response in (client.get(DECLARE), declare(client, alice.matricule)):
            assert response.status_code == 302
            assert response["Location"] == reverse("portal:login_choice") + "#professionnel"
    assert not CareRelationship.objects.exists()


def test_a_declaration_renews_a_relationship_under_way(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    declare(paul_logged_in, alice.matricule)
    first = CareRelationship.objects.get()

    declare(paul_logged_in, alice.matricule, reason="Nouvelle consultation")

    first.refresh_from_db()
    assert first.ended_at is not None and first.ended_at <= timezone.now()
    assert CareRelationship.objects.filter(ended_at__isnull=True).get().reason == (
        "Nouvelle consultation"
    )
