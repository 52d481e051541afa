"""The record as a professional sees it, over HTTP: the list, each document's page and
its file show exactly what the gate allows, for every kind of professional and every
level (0 leaks); every request asks the gate again; every read is journaled with the
professional and their capacity. (The gate's own matrix: tests/records/
test_professional_access_matrix.py.)"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.professionals.models import Profession, Professional
from esante.records import care
from esante.records.actions import close_record, declare_organ_donation
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Capacity,
    CareRecord,
    CareRelationship,
    Confidentiality,
    Document,
    EmergencyAccess,
)
from esante.registry.models import InsuredPerson
from tests.accounts.test_enumeration import answer_of
from tests.accounts.wizard import page_text
from tests.helpdesk.conftest import make_staff, staff_log_in
from tests.practice.conftest import professional, professional_client, relate, stored_document
from tests.records.conftest import logged_in

pytestmark = pytest.mark.django_db

KINDS = (
    "author",
    "related",
    "referent",
    "named",
    "unrelated",
    "blocked",
    "emergency",
    "expired",
    "inactive",
)
# The record's documents, by title: a laboratory's at each level and masked, and the
# author's own at the strictest levels and masked.
DOCUMENTS: dict[str, dict[str, Any]] = {
    "Titre-labo-normal": {"confidentiality": Confidentiality.NORMAL},
    "Titre-labo-restreint": {"confidentiality": Confidentiality.RESTRICTED},
    "Titre-labo-tres-restreint": {"confidentiality": Confidentiality.VERY_RESTRICTED},
    "Titre-labo-masque": {"confidentiality": Confidentiality.NORMAL, "masked": True},
    "Titre-auteur-restreint": {"confidentiality": Confidentiality.RESTRICTED, "own": True},
    "Titre-auteur-tres-restreint": {
        "confidentiality": Confidentiality.VERY_RESTRICTED,
        "own": True,
    },
    "Titre-auteur-masque": {"confidentiality": Confidentiality.NORMAL, "masked": True, "own": True},
}
EXPECTED = {
    "author": {
        "Titre-labo-normal",
        "Titre-auteur-restreint",
        "Titre-auteur-tres-restreint",
        "Titre-auteur-masque",
    },
    "related": {"Titre-labo-normal"},
    "referent": {"Titre-labo-normal", "Titre-labo-restreint", "Titre-auteur-restreint"},
    "named": {"Titre-labo-normal", "Titre-labo-restreint"},
    "unrelated": set(),
    "blocked": set(),
    "emergency": {"Titre-labo-normal"},
    "expired": set(),
    "inactive": set(),
}


@pytest.fixture
def world(alice: InsuredPerson, alice_record: CareRecord) -> dict[str, Professional]:
    """Alice's record, one professional of each kind, and the documents above."""
    codes = iter(range(30000010, 30000100))
    people = {
        kind: professional(str(next(codes)), f"Docteur-{kind}", Profession.PHYSICIAN)
        for kind in KINDS
    }
    for kind in ("author", "related", "referent", "named", "blocked", "expired", "inactive"):
        relate(alice_record, people[kind])
    care.set_referent(
        alice_record, people["referent"], actor=alice, capacity=Capacity.OWNER, ip_address=None
    )
    care.block_professional(
        alice_record, people["blocked"], actor=alice, capacity=Capacity.OWNER, ip_address=None
    )
    CareRelationship.objects.filter(professional=people["expired"]).update(
        ends_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    now = timezone.now()
    EmergencyAccess.objects.create(
        record=alice_record,
        professional=people["emergency"],
        reason="Urgence",
        started_at=now,
        ends_at=now + datetime.timedelta(hours=24),
    )
    for title, shape in DOCUMENTS.items():
        document = stored_document(
            alice_record,
            title=title,
            confidentiality=shape["confidentiality"],
            author_confidentiality=shape["confidentiality"],
            masked_at=now if shape.get("masked") else None,
            professional=people["author"] if shape.get("own") else None,
        )
        if title == "Titre-labo-restreint":
            document.named_professionals.set([people["named"]])
    return people


def test_each_professional_sees_what_the_gate_allows_and_nothing_else(
    world: dict[str, Professional], alice_record: CareRecord
) -> None:
    inactive = world["inactive"]
    clients = {kind: professional_client(someone) for kind, someone in world.items()}
    Professional.objects.filter(pk=inactive.pk).update(is_active=False)
    record_url = reverse("practice:record", args=[alice_record.public_id])
    documents = {document.title: document for document in alice_record.documents.all()}
    leaks = []
    for kind, client in clients.items():
        expected = EXPECTED[kind]
        listing = client.get(record_url)
        page = listing.content.decode()
        if expected or kind in ("related", "emergency"):
            assert listing.status_code == 200, kind
        else:
            assert listing.status_code in (302, 404), (kind, listing.status_code)
            # Inactive: their session ends, they log in again (and find nothing).
            assert listing.status_code == (302 if kind == "inactive" else 404), kind
        for title, document in documents.items():
            urls = [
                reverse("practice:document", args=[alice_record.public_id, document.public_id]),
                reverse(
                    "practice:document_file", args=[alice_record.public_id, document.public_id]
                ),
            ]
            answers = [client.get(url) for url in urls]
            shown = title in page
            opened = [answer.status_code == 200 for answer in answers]
            if title in expected:
                assert shown and all(opened), (kind, title, shown, opened)
            elif shown or any(opened):
                leaks.append((kind, title))
            for answer in answers:
                if title not in expected:
                    assert answer.status_code in (302, 404), (kind, title)
                    if answer.status_code == 404:
                        assert title not in answer.content.decode()
    assert leaks == []


def test_every_read_is_journaled_with_the_professional_and_the_capacity(
    world: dict[str, Professional], alice_record: CareRecord
) -> None:
    related, emergency = world["related"], world["emergency"]
    document = alice_record.documents.get(title="Titre-labo-normal")
    for someone in (related, emergency):
        client = professional_client(someone)
        client.get(reverse("practice:record", args=[alice_record.public_id]))
        client.get(reverse("practice:document", args=[alice_record.public_id, document.public_id]))
        client.get(
            reverse("practice:document_file", args=[alice_record.public_id, document.public_id])
            + "?telecharger=1"
        )

    lines = [
        (line.professional, line.capacity, line.action, line.target)
        for line in AccessEntry.objects.filter(
            record=alice_record, action__in=[AccessAction.READ_RECORD, AccessAction.READ_DOCUMENT]
        ).order_by("pk")
    ]
    assert lines == [
        (related, Capacity.CARE, AccessAction.READ_RECORD, ""),
        (related, Capacity.CARE, AccessAction.READ_DOCUMENT, "Titre-labo-normal"),
        (related, Capacity.CARE, AccessAction.READ_DOCUMENT, "Titre-labo-normal"),
        (emergency, Capacity.EMERGENCY, AccessAction.READ_RECORD, ""),
        (emergency, Capacity.EMERGENCY, AccessAction.READ_DOCUMENT, "Titre-labo-normal"),
        (emergency, Capacity.EMERGENCY, AccessAction.READ_DOCUMENT, "Titre-labo-normal"),
    ]
    assert all(line.actor_id is None for line in AccessEntry.objects.filter(professional=related))


def test_the_file_is_served_as_the_patients_are(
    paul_logged_in: Client, paul: Professional, alice_record: CareRecord
) -> None:
    relate(alice_record, paul)
    document = stored_document(alice_record, title="Bilan / mars")
    url = reverse("practice:document_file", args=[alice_record.public_id, document.public_id])

    shown = paul_logged_in.get(url)
    downloaded = paul_logged_in.get(url + "?telecharger=1")

    assert shown.getvalue().startswith(b"%PDF-")
    assert shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"].startswith("inline;")
    assert downloaded["Content-Disposition"] == 'attachment; filename="Bilan - mars.pdf"'
    for response in (shown, downloaded):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))


def test_each_request_asks_the_gate_again(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    relationship = relate(alice_record, paul)
    document = stored_document(alice_record)
    urls = [
        reverse("practice:record", args=[alice_record.public_id]),
        reverse("practice:document", args=[alice_record.public_id, document.public_id]),
        reverse("practice:document_file", args=[alice_record.public_id, document.public_id]),
    ]
    assert [paul_logged_in.get(url).status_code for url in urls] == [200, 200, 200]

    care.end_relationship(relationship, actor=alice, capacity=Capacity.OWNER, ip_address=None)
    assert [paul_logged_in.get(url).status_code for url in urls] == [404, 404, 404]
    assert alice.public_label not in page_text(paul_logged_in.get(reverse("practice:home")))

    relate(alice_record, paul)
    close_record(alice_record, actor=alice)
    assert [paul_logged_in.get(url).status_code for url in urls] == [404, 404, 404]


def test_a_block_shuts_the_record_at_the_next_request(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    relate(alice_record, paul)
    url = reverse("practice:record", args=[alice_record.public_id])
    assert paul_logged_in.get(url).status_code == 200

    care.block_professional(
        alice_record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None
    )

    assert paul_logged_in.get(url).status_code == 404
    assert alice.public_label not in page_text(paul_logged_in.get(reverse("practice:home")))


def test_an_unknown_record_answers_as_a_refused_one(
    paul_logged_in: Client, alice_record: CareRecord
) -> None:
    unknown_id = "00000000-0000-4000-8000-000000000000"
    refused = paul_logged_in.get(reverse("practice:record", args=[alice_record.public_id]))
    unknown = paul_logged_in.get(reverse("practice:record", args=[unknown_id]))

    assert refused.status_code == unknown.status_code == 404
    # CSRF tokens aside, and the address asked for (the language menu's « next »).
    assert answer_of(refused).page.replace(str(alice_record.public_id), unknown_id) == (
        answer_of(unknown).page
    )


@pytest.fixture
def agent_client(db: None) -> Client:
    client = Client()
    staff_log_in(client, make_staff("agent.dupont", "agent").username)
    return client


def test_patients_visitors_and_staff_never_reach_a_professionals_page(
    alice: InsuredPerson, alice_record: CareRecord, paul: Professional, agent_client: Client
) -> None:
    relate(alice_record, paul)
    document = stored_document(alice_record)
    urls = [
        reverse("practice:record", args=[alice_record.public_id]),
        reverse("practice:document", args=[alice_record.public_id, document.public_id]),
        reverse("practice:document_file", args=[alice_record.public_id, document.public_id]),
    ]
    login = reverse("portal:login_choice") + "#professionnel"
    for client in (Client(), logged_in(alice, "alice@example.lu"), agent_client):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302 and response["Location"] == login, url
    assert not AccessEntry.objects.filter(action=AccessAction.READ_DOCUMENT).exists()


def test_the_organ_donation_declaration_is_shown_to_physicians_only(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    nurse = professional("20000017", "Schmit", Profession.NURSE)
    relate(alice_record, paul)
    relate(alice_record, nurse)
    url = reverse("practice:record", args=[alice_record.public_id])
    assert "Aucune déclaration." in page_text(paul_logged_in.get(url))

    declare_organ_donation(alice_record, actor=alice, refuses_removal=True)

    assert "le patient a déclaré refuser le don de ses organes" in page_text(
        paul_logged_in.get(url)
    )
    nurse_page = page_text(professional_client(nurse).get(url))
    assert "Don d'organes" not in nurse_page and "Aucune déclaration" not in nurse_page


def test_the_holder_is_shown_by_name_birth_date_and_esante_identifier(
    paul_logged_in: Client, paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    relationship = relate(alice_record, paul)

    page = page_text(paul_logged_in.get(reverse("practice:record", args=[alice_record.public_id])))

    assert alice.public_label in page and "Martin Alice" in page
    assert alice.matricule not in page
    assert "Relation de soins jusqu'au" in page
    assert f"{relationship.ends_at:%Y}" in page


def test_the_empty_list_says_so(
    paul_logged_in: Client, paul: Professional, alice_record: CareRecord
) -> None:
    assert "Aucune relation de soins en cours" in page_text(
        paul_logged_in.get(reverse("practice:home"))
    )
    relate(alice_record, paul)
    page = page_text(paul_logged_in.get(reverse("practice:record", args=[alice_record.public_id])))
    assert "Aucun document de ce dossier ne vous est accessible." in page
    assert not Document.objects.exists()
