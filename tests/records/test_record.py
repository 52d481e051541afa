"""*Mon DSP* and its *Historique des accès*: who may open a record, and the journal."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from esante.accounts.models import Account
from esante.audit.models import AppendOnlyError
from esante.records.models import AccessAction, AccessEntry, Assistant, Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import log_in
from tests.accounts.wizard import activate, last_one_time_code, page_text

pytestmark = pytest.mark.django_db


def test_mon_dsp_opens_the_holders_record_with_name_and_age(
    alice_client: Client, alice: InsuredPerson
) -> None:
    response = alice_client.get(reverse("records:mine"), follow=True)

    record = CareRecord.objects.get(person=alice)
    assert response.redirect_chain[-1][0] == reverse("records:record", args=[record.public_id])
    assert f"Martin Alice ({alice.age()} ans)" in page_text(response)
    entry = AccessEntry.objects.filter(action=AccessAction.READ_RECORD).get()
    assert (entry.actor, entry.capacity, entry.action) == (
        alice,
        Capacity.OWNER,
        AccessAction.READ_RECORD,
    )


def test_an_outsider_gets_404_for_a_record_and_its_journal(
    alice_client: Client, charlie_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)

    for name in ("records:record", "records:journal"):
        assert charlie_client.get(reverse(name, args=[record.public_id])).status_code == 404
        assert charlie_client.get(reverse(name, args=[uuid.uuid4()])).status_code == 404
    assert not AccessEntry.objects.filter(record=record, actor__last_name="Weber").exists()


def test_a_visitor_without_a_login_is_sent_to_the_login(alice: InsuredPerson) -> None:
    activate(Client(), alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)

    response = Client().get(reverse("records:record", args=[record.public_id]))

    assert response["Location"].startswith(reverse("patient:login"))


def test_the_journal_lists_every_access_page_by_page(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    for _visit in range(30):
        alice_client.get(reverse("records:record", args=[record.public_id]))

    first = page_text(alice_client.get(reverse("records:journal", args=[record.public_id])))
    second = page_text(
        alice_client.get(reverse("records:journal", args=[record.public_id]) + "?page=2")
    )

    assert "Page 1 sur 2" in first
    assert first.count("Consultation du dossier") == 24  # the newest line is this reading
    assert "Consultation de l'historique des accès" in first
    assert "Page 2 sur 2" in second
    assert AccessEntry.objects.filter(record=record).count() == 33  # and the declaration


def test_the_journal_is_append_only(alice_client: Client, alice: InsuredPerson) -> None:
    entry = AccessEntry.objects.get()  # the organ-donation declaration

    entry.target = "changed"
    with pytest.raises(AppendOnlyError, match="append-only"):
        entry.save()


def test_the_holder_closes_the_dsp_after_confirming_then_reopens_it(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    url = reverse("records:record", args=[record.public_id])
    assert "Fermer mon DSP" in page_text(alice_client.get(url))

    unconfirmed = alice_client.post(reverse("records:close", args=[record.public_id]), follow=True)
    record.refresh_from_db()
    assert record.closed_at is None
    assert "Cochez la case pour confirmer la fermeture." in page_text(unconfirmed)

    alice_client.post(reverse("records:close", args=[record.public_id]), {"confirm": "on"})
    record.refresh_from_db()
    closed = page_text(alice_client.get(url))
    assert record.closed_at is not None
    assert "Votre DSP est fermé" in closed
    assert "Documents" not in closed

    alice_client.post(reverse("records:reopen", args=[record.public_id]))
    record.refresh_from_db()
    assert record.closed_at is None
    actions = list(
        AccessEntry.objects.filter(record=record).order_by("pk").values_list("action", flat=True)
    )
    assert AccessAction.CLOSE in actions and AccessAction.REOPEN in actions


def test_an_outsider_cannot_close_a_record(
    alice_client: Client, charlie_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)

    response = charlie_client.post(
        reverse("records:close", args=[record.public_id]), {"confirm": "on"}
    )

    assert response.status_code == 404
    record.refresh_from_db()
    assert record.closed_at is None


def test_an_adult_holder_is_asked_about_organ_donation_plainly_at_the_first_access(
    alice: InsuredPerson,
) -> None:
    activate(Client(), alice, "alice@example.lu")
    client = Client()
    log_in(client, Account.objects.get(person=alice))
    record = CareRecord.objects.get(person=alice)

    first = client.get(reverse("records:mine"), follow=True)
    assert first.redirect_chain[-1][0] == reverse("records:organ_donation", args=[record.public_id])
    asked = page_text(first)
    assert "Souhaitez-vous faire don de vos organes après votre décès" in asked
    assert "Oui, j'accepte" in asked and "Non, je refuse" in asked
    assert "Je déciderai plus tard" in asked
    assert "sauf si elle l'a refusé de son vivant" in asked  # presumed consent, explained
    assert "seuls les médecins qui ont accès à votre DSP" in asked  # who reads it
    assert "Refusez-vous" not in asked  # no double negative
    refused = client.post(reverse("records:organ_donation", args=[record.public_id]), {})
    assert "Choisissez l'une des réponses." in page_text(refused)

    client.post(
        reverse("records:organ_donation", args=[record.public_id]), {"refuses_removal": "1"}
    )
    page = page_text(client.get(reverse("records:record", args=[record.public_id])))
    assert "vous avez déclaré refuser le don de vos organes" in page

    changing = page_text(client.get(reverse("records:organ_donation", args=[record.public_id])))
    assert "Je déciderai plus tard" not in changing  # an answer given is changed, not put off
    client.post(
        reverse("records:organ_donation", args=[record.public_id]), {"refuses_removal": "0"}
    )
    declarations = list(record.organ_declarations.values_list("refuses_removal", flat=True))
    assert declarations == [False, True]  # the newest first, each kept with its date
    page = page_text(client.get(reverse("records:record", args=[record.public_id])))
    assert "vous avez déclaré accepter le don de vos organes" in page


def test_organ_donation_later_lets_the_holder_in_and_asks_again_at_the_next_login(
    alice: InsuredPerson,
) -> None:
    activate(Client(), alice, "alice@example.lu")
    client = Client()
    log_in(client, Account.objects.get(person=alice))
    record = CareRecord.objects.get(person=alice)
    record_url = reverse("records:record", args=[record.public_id])
    question_url = reverse("records:organ_donation", args=[record.public_id])

    later = client.post(question_url, {"refuses_removal": "later"})

    assert later.status_code == 302 and later["Location"] == record_url
    assert not record.organ_declarations.exists()  # nothing permanent
    assert not AccessEntry.objects.filter(action=AccessAction.ORGAN_DECLARATION).exists()
    again = client.get(record_url)  # the record and a direct URL: never held hostage
    assert again.status_code == 200
    assert "Dossier de Soins Partagé de" in page_text(again)
    assert "Vous n'avez pas encore répondu" in page_text(again)  # still changeable there
    assert client.get(reverse("records:mine"), follow=True).redirect_chain[-1][0] == record_url

    client.post(reverse("patient:logout"))
    next_time = Client()
    log_in(next_time, Account.objects.get(person=alice))
    asked = next_time.get(record_url)
    assert asked.status_code == 302 and asked["Location"] == question_url


def test_an_assistant_neither_sees_nor_reads_the_holders_organ_donation_declaration(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    Assistant.objects.create(record=record, person=bob, added_by=alice)
    url = reverse("records:record", args=[record.public_id])

    with CaptureQueriesContext(connection) as queries:
        page = page_text(bob_client.get(url))

    assert "Dossier de Soins Partagé de" in page and "vous avez déclaré" not in page
    assert "vous avez déclaré accepter le don" in page_text(alice_client.get(url))
    read = [
        q["sql"] for q in queries.captured_queries if "records_organdonationdeclaration" in q["sql"]
    ]
    assert read == []


def test_a_minor_holder_is_not_asked(lea: InsuredPerson) -> None:
    activate(Client(), lea, "parents@example.lu")
    client = Client()
    client.post(
        reverse("patient:login"), {"matricule": lea.matricule, "password": "Soleil d'hiver 2024"}
    )
    client.post(reverse("patient:login_code"), {"code": last_one_time_code("parents@example.lu")})
    record = CareRecord.objects.get(person=lea)

    response = client.get(reverse("records:record", args=[record.public_id]))
    asked = client.get(reverse("records:organ_donation", args=[record.public_id]))

    assert response.status_code == 200
    assert asked.status_code == 404
