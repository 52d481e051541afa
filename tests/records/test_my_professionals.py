"""*Mes professionnels* (issue 17, points 4 to 6): the panel, « Ajouter un professionnel »
(search by name and locality, confirm, grant), « Mettre fin », « Bloquer » and
« Débloquer », the médecin référent, and the emergency-access setting — for the holder
and her assistant alike; an outsider gets 404 everywhere."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, RequestFactory

from esante import ratelimit
from esante.audit.models import AuditEvent, EventType
from esante.professionals.models import Profession, Professional
from esante.records.access import professional_access
from esante.records.actions import add_assistant, close_record
from esante.records.care import declare_relationship, open_emergency_access
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Capacity,
    CareRecord,
    CareRelationship,
    ProfessionalBlock,
)
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import page_text
from tests.records.care_people import grant, make_professional, record_of, url
from tests.records.conftest import logged_in

pytestmark = pytest.mark.django_db


def visible_text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def search(client: Client, record: CareRecord, **query: str) -> Any:
    return client.get(url("professional_search", record), query)


def test_the_record_page_links_to_the_panel_which_starts_empty(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = record_of(alice)
    panel = url("professionals", record)

    assert panel in page_text(alice_client.get(url("record", record)))
    page = visible_text(page_text(alice_client.get(panel)))
    assert "Mes professionnels" in page
    assert "Aucun professionnel n'a accès à ce DSP." in page
    assert "Aucun médecin référent n'est choisi." in page
    assert "Aucun professionnel n'est bloqué." in page
    assert "L'accès en urgence est autorisé pour ce DSP." in page


def test_the_search_ignores_accents_case_and_hyphens_in_name_and_locality(
    alice_client: Client, alice: InsuredPerson, paul: Professional, sophie: Professional
) -> None:
    record = record_of(alice)

    by_name = visible_text(page_text(search(alice_client, record, nom="MULLER")))
    by_both = visible_text(
        page_text(search(alice_client, record, nom="sophie muller", localite="esch sur alzette"))
    )
    elsewhere = page_text(search(alice_client, record, nom="Müller", localite="Luxembourg"))

    assert "Sophie Müller Infirmier" in by_name and "Paul Reding" not in by_name
    assert "Esch-sur-Alzette" in by_both and "Cabinet Müller" in by_both
    assert "Sophie Müller" not in elsewhere
    assert "Aucun professionnel en activité ne correspond." in elsewhere


def test_an_inactive_professional_is_not_found(alice_client: Client, alice: InsuredPerson) -> None:
    make_professional("Jean", "Retraite", is_active=False)

    page = page_text(search(alice_client, record_of(alice), nom="Retraite"))

    assert "Jean Retraite" not in page
    assert "Aucun professionnel en activité ne correspond." in page


def test_the_search_shows_at_most_20_and_asks_for_more_detail(
    alice_client: Client, alice: InsuredPerson
) -> None:
    for number in range(23):
        make_professional(f"Anne{number:02d}", "Schmit")

    page = page_text(search(alice_client, record_of(alice), nom="schmit"))

    assert page.count("/accorder/") == 20
    assert "Plus de 20 professionnels correspondent : précisez le nom ou la localité." in page


def test_a_search_without_a_name_is_a_400_that_keeps_the_locality(
    alice_client: Client, alice: InsuredPerson
) -> None:
    response = search(alice_client, record_of(alice), nom=" - ", localite="Ettelbruck")

    assert response.status_code == 400
    page = page_text(response)
    assert "Saisissez au moins deux lettres du nom." in page
    assert 'value="Ettelbruck"' in page


def test_the_search_is_rate_limited_per_account(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    rule = next(r for r in ratelimit.RATE_LIMITS["professional.search"] if r.scope == "key")
    elsewhere = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    for _hit in range(rule.limit - 1):
        ratelimit.hit("professional.search", elsewhere, key=f"person:{alice.pk}")

    assert search(alice_client, record, nom="Reding").status_code == 200
    refused = search(alice_client, record, nom="Reding")

    assert refused.status_code == 429
    assert "Trop de recherches de professionnels pour ce compte" in page_text(refused)
    # Opening the page without searching counts nothing.
    assert alice_client.get(url("professional_search", record)).status_code == 200


def test_choosing_then_confirming_grants_the_relationship(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    found = page_text(search(alice_client, record, nom="reding"))
    confirm_url = url("professional_grant", record, paul.pk)
    assert confirm_url in found

    confirm = visible_text(page_text(alice_client.get(confirm_url)))
    assert re.search(r"Donner accès à mon DSP à Paul Reding jusqu'au \d+ \w+ \d{4} \?", confirm)
    assert professional_access(record, paul) is None

    done = grant(alice_client, record, paul)

    assert done["Location"] == url("professionals", record) + "#messages"
    relationship = CareRelationship.objects.get()
    assert relationship.professional == paul and relationship.granted_by == alice
    access = professional_access(record, paul)
    assert access is not None and access.capacity is Capacity.CARE
    panel = visible_text(page_text(alice_client.get(url("professionals", record))))
    assert "Paul Reding Médecin Luxembourg Accordée" in panel
    assert AccessEntry.objects.filter(action=AccessAction.GRANT, actor=alice).exists()


def test_a_declared_relationship_shows_its_reason_and_can_be_ended(
    alice_client: Client, alice: InsuredPerson, sophie: Professional
) -> None:
    record = record_of(alice)
    declare_relationship(
        sophie,
        matricule=alice.matricule,
        last_name=alice.last_name,
        reason="Soins à domicile",
        ip_address=None,
    )
    panel = visible_text(page_text(alice_client.get(url("professionals", record))))
    assert "Déclarée par le professionnel Motif : Soins à domicile" in panel

    relationship = CareRelationship.objects.get()
    ended = alice_client.post(url("relationship_end", record, relationship.public_id))

    assert ended.status_code == 302
    assert professional_access(record, sophie) is None
    relationship.refresh_from_db()
    assert relationship.ended_by == alice
    assert AccessEntry.objects.filter(action=AccessAction.END_RELATIONSHIP).exists()
    again = alice_client.post(url("relationship_end", record, relationship.public_id))
    assert again.status_code == 404


def test_blocking_ends_the_relationship_and_keeps_the_professional_out(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    grant(alice_client, record, paul)
    block_url = url("professional_block", record, paul.pk)
    assert block_url in page_text(alice_client.get(url("professionals", record)))
    assert "Bloquer Paul Reding ?" in page_text(alice_client.get(block_url))

    alice_client.post(block_url)

    assert professional_access(record, paul) is None
    assert CareRelationship.objects.get().ended_at is not None
    assert ProfessionalBlock.objects.get().blocked_by == alice
    panel = visible_text(page_text(alice_client.get(url("professionals", record))))
    assert "Aucun professionnel n'a accès à ce DSP." in panel
    assert "Paul Reding Médecin Luxembourg" in panel  # in the blocked list
    # The search shows him blocked, with « Débloquer » and no « Donner accès ».
    found = page_text(search(alice_client, record, nom="Reding"))
    assert "bloqué" in found and url("professional_unblock", record, paul.pk) in found
    assert url("professional_grant", record, paul.pk) not in found
    # A grant anyway is refused.
    refused = grant(alice_client, record, paul)
    assert refused["Location"] == url("professionals", record)
    assert CareRelationship.objects.count() == 1


def test_unblocking_lifts_the_block_and_gives_no_access_back(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    grant(alice_client, record, paul)
    alice_client.post(url("professional_block", record, paul.pk))

    alice_client.post(url("professional_unblock", record, paul.pk))

    assert ProfessionalBlock.objects.get().lifted_by == alice
    assert professional_access(record, paul) is None
    assert alice_client.post(url("professional_unblock", record, paul.pk)).status_code == 404
    grant(alice_client, record, paul)
    assert professional_access(record, paul) is not None


def test_the_referent_is_a_physician_chosen_by_search_and_removable(
    alice_client: Client, alice: InsuredPerson, paul: Professional, sophie: Professional
) -> None:
    record = record_of(alice)
    physicians = page_text(search(alice_client, record, nom="e", pour="referent"))
    assert "Saisissez au moins deux lettres du nom." in physicians
    found = page_text(search(alice_client, record, nom="Reding", pour="referent"))
    assert url("professional_referent", record, paul.pk) in found
    nurses = page_text(search(alice_client, record, nom="Müller", pour="referent"))
    assert "Sophie Müller" not in nurses

    assert alice_client.post(url("professional_referent", record, sophie.pk)).status_code == 404
    alice_client.post(url("professional_referent", record, paul.pk))

    record.refresh_from_db()
    assert record.referent == paul
    panel = visible_text(page_text(alice_client.get(url("professionals", record))))
    assert "Ce médecin n'a pas accès à ce DSP pour le moment." in panel
    alice_client.post(url("referent_remove", record))
    record.refresh_from_db()
    assert record.referent is None
    assert AccessEntry.objects.filter(action=AccessAction.REFERENT).count() == 2


def test_emergency_access_can_be_refused_and_allowed_again(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = record_of(alice)
    setting = url("emergency_setting", record)

    alice_client.post(setting, {"refuser": "1"})
    record.refresh_from_db()
    assert record.refuses_emergency_access
    panel = page_text(alice_client.get(url("professionals", record)))
    assert "L'accès en urgence est refusé pour ce DSP." in panel
    assert "Autoriser l'accès en urgence" in panel

    alice_client.post(setting, {"refuser": "0"})
    record.refresh_from_db()
    assert not record.refuses_emergency_access

    bogus = alice_client.post(setting, {"refuser": "<b>peut-être</b>"})
    assert bogus.status_code == 400
    assert "Choisissez d'autoriser ou de refuser l'accès en urgence." in page_text(bogus)
    assert AccessEntry.objects.filter(action=AccessAction.EMERGENCY_SETTING).count() == 2


def test_an_assistant_manages_the_panel_too(
    alice: InsuredPerson, bob: InsuredPerson, paul: Professional
) -> None:
    logged_in(alice, "alice@example.lu")
    bob_client = logged_in(bob, "bob@example.lu")
    record = record_of(alice)
    add_assistant(record, bob, role="", actor=alice, capacity=Capacity.OWNER, ip_address=None)

    confirm = visible_text(page_text(bob_client.get(url("professional_grant", record, paul.pk))))
    assert "Donner accès au DSP de Alice Martin à Paul Reding" in confirm
    grant(bob_client, record, paul)
    bob_client.post(url("professional_block", record, paul.pk))

    assert CareRelationship.objects.get().granted_by == bob
    assert ProfessionalBlock.objects.get().blocked_by == bob
    capacities = set(
        AccessEntry.objects.filter(actor=bob, action__in=["grant", "block"]).values_list(
            "capacity", flat=True
        )
    )
    assert capacities == {Capacity.ASSISTANT}


def test_an_outsider_gets_404_on_every_page_and_form(
    alice: InsuredPerson, charlie_client: Client, paul: Professional
) -> None:
    logged_in(alice, "alice@example.lu")
    record = record_of(alice)
    relationship = CareRelationship.objects.create(
        record=record,
        professional=paul,
        origin="granted",
        granted_by=alice,
        ends_at="2099-01-01T00:00:00Z",
    )
    pages = [
        url("professionals", record),
        url("professional_search", record) + "?nom=Reding",
        url("professional_grant", record, paul.pk),
        url("professional_block", record, paul.pk),
        url("professional_referent", record, paul.pk),
    ]
    forms = [
        *pages[2:],
        url("professional_unblock", record, paul.pk),
        url("referent_remove", record),
        url("relationship_end", record, relationship.public_id),
        url("emergency_setting", record),
    ]

    for page in pages:
        assert charlie_client.get(page).status_code == 404, page
    for form in forms:
        assert charlie_client.post(form, {"refuser": "1"}).status_code == 404, form

    assert professional_access(record, paul) is not None
    assert not ProfessionalBlock.objects.exists()
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).exists()


def test_a_closed_record_grants_nothing(
    alice_client: Client, alice: InsuredPerson, paul: Professional
) -> None:
    record = record_of(alice)
    close_record(record, actor=alice)

    assert alice_client.get(url("professional_grant", record, paul.pk)).status_code == 404
    assert grant(alice_client, record, paul).status_code == 404
    panel = page_text(alice_client.get(url("professionals", record)))
    assert "Ce DSP est fermé : aucun professionnel n'y a accès." in panel
    assert not CareRelationship.objects.exists()


def test_an_unknown_or_inactive_professional_cannot_be_granted(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = record_of(alice)
    retired = make_professional("Jean", "Retraite", Profession.DENTIST, is_active=False)

    assert grant(alice_client, record, retired).status_code == 404
    assert alice_client.get(url("professional_grant", record, 999_999)).status_code == 404
    assert alice_client.get(url("professional_block", record, 999_999)).status_code == 404
    assert not CareRelationship.objects.exists()


def test_an_emergency_access_under_way_is_listed_with_a_block_link(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = record_of(alice)
    urgentist = make_professional("Luc", "Feltgen", specialty="Médecine d'urgence")
    open_emergency_access(
        urgentist,
        matricule=alice.matricule,
        last_name=alice.last_name,
        reason="Perte de connaissance",
        ip_address=None,
    )
    panel = alice_client.get(url("professionals", record))
    text = page_text(panel)
    assert "Accès en urgence en cours" in text and "Luc Feltgen" in text
    assert "Perte de connaissance" in text
    assert "Aucun professionnel n'a accès à ce DSP." not in text
    assert url("professional_block", record, urgentist.pk) in panel.content.decode()

    record.refuses_emergency_access = True
    record.save()
    assert "Accès en urgence en cours" not in page_text(
        alice_client.get(url("professionals", record))
    )
