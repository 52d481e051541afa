"""The Assistants panel (guide pp. 15-16): search by Numéro assuré, pick, Type, Rôle, ✓."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.records.models import AccessAction, AccessEntry, Assistant, Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import page_text
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db


def visible_text(page: str) -> str:
    """The page's text without its markup, whitespace collapsed: cells read in a row."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def search(client: Client, record: CareRecord, numero: str) -> str:
    url = reverse("records:assistant_search", args=[record.public_id])
    return page_text(client.post(url, {"numero": numero}))


def confirm(client: Client, record: CareRecord, person: InsuredPerson, role: str = "") -> str:
    url = reverse("records:assistant_add", args=[record.public_id])
    data = {"candidate": person.esante_id, "type": "assistant_dsp", "role": role}
    return page_text(client.post(url, data, follow=True))


def add_assistant(client: Client, record: CareRecord, person: InsuredPerson, role: str = "") -> str:
    search(client, record, person.matricule)
    return confirm(client, record, person, role)


def test_the_panel_is_empty_then_ajouter_opens_a_new_row(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    url = reverse("records:record", args=[record.public_id])

    page = page_text(alice_client.get(url))
    assert "Nom Type Rôle Contact" in visible_text(page)
    assert "Aucune donnée disponible dans le tableau" in page
    assert "?ajouter=1#assistants" in page

    adding = page_text(alice_client.get(url + "?ajouter=1"))
    assert "Numéro assuré" in adding and "Rechercher" in adding
    assert "Aucune donnée disponible dans le tableau" not in adding


def test_the_search_shows_one_person_minimally_and_the_tick_adds_them(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)

    found = search(alice_client, record, bob.matricule)
    assert bob.public_label in found  # "B Martin (1234567890)"
    assert "Bob" not in found.replace(bob.public_label, "")
    assert bob.birth_date.isoformat() not in found and bob.address_line1 not in found

    done = confirm(alice_client, record, bob, role="Conjoint")

    row = Assistant.objects.get(record=record)
    assert (row.person, row.role, row.added_by, row.ended_at) == (bob, "Conjoint", alice, None)
    assert f"{bob.public_label} Assistant DSP Conjoint" in visible_text(done)
    assert AccessEntry.objects.filter(
        record=record, action=AccessAction.ADD_ASSISTANT, actor=alice, capacity=Capacity.OWNER
    ).exists()
    assert AuditEvent.objects.filter(event_type=EventType.ASSISTANT_ADDED, person=alice).exists()
    recipients = set(
        OutboundMessage.objects.filter(subject="Un assistant DSP a été ajouté").values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {"alice@example.lu", "bob@example.lu"}


def test_unknown_and_not_activated_matricules_get_the_same_answer(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    not_activated = make_person("Paul", "Schmit", years_ago(50))
    unknown = make_person("Zoé", "Kieffer", years_ago(20))
    unknown_matricule = unknown.matricule
    unknown.delete()
    alice_client.get(reverse("records:record", args=[record.public_id]))  # shows the flashes

    first = search(alice_client, record, not_activated.matricule)
    second = search(alice_client, record, unknown_matricule)

    assert "La personne doit d'abord activer son compte eSanté." in first

    def comparable(page: str, matricule: str) -> str:
        page = re.sub(r'name="(csrfmiddlewaretoken|csrf_token)" value="[^"]+"', "", page)
        return page.replace(matricule, "N")

    assert comparable(first, not_activated.matricule) == comparable(second, unknown_matricule)
    assert AuditEvent.objects.filter(event_type=EventType.ASSISTANT_SEARCHED).count() == 2


def test_a_malformed_numero_gets_a_french_message(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)

    url = reverse("records:assistant_search", args=[record.public_id])
    response = alice_client.post(url, {"numero": "12<script>"})

    assert response.status_code == 400
    assert "Le matricule ne contient que des chiffres" in page_text(response)
    assert b"<script>" not in response.content


def test_not_oneself_and_not_twice(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)

    own = add_assistant(alice_client, record, alice)
    add_assistant(alice_client, record, bob)
    twice = add_assistant(alice_client, record, bob)

    assert "ne peut pas être son propre assistant" in own
    assert "déjà assistant DSP de ce dossier" in twice
    assert Assistant.objects.filter(record=record).count() == 1


def test_nobody_is_added_without_a_search(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)

    page = confirm(alice_client, record, bob)

    assert "Recherchez d'abord la personne" in page
    assert not Assistant.objects.exists()


def test_the_type_must_be_chosen_and_the_name_picked(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    search(alice_client, record, bob.matricule)
    url = reverse("records:assistant_add", args=[record.public_id])

    response = alice_client.post(url, {"role": "Père"})

    assert response.status_code == 400
    page = page_text(response)
    assert "Cliquez sur le nom trouvé pour le choisir." in page
    assert "Choisissez le type Assistant DSP." in page
    assert 'value="Père"' in page  # nothing typed is lost
    assert not Assistant.objects.exists()


def test_the_search_is_rate_limited_per_account(
    alice_client: Client, alice: InsuredPerson, settings: object
) -> None:
    record = CareRecord.objects.get(person=alice)
    other = make_person("Paul", "Schmit", years_ago(50))
    url = reverse("records:assistant_search", args=[record.public_id])

    statuses = [alice_client.post(url, {"numero": other.matricule}).status_code for _ in range(21)]

    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429


def test_removal_takes_effect_at_the_next_request_and_is_notified(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    add_assistant(alice_client, record, bob)
    url = reverse("records:record", args=[record.public_id])
    assert bob_client.get(url).status_code == 200
    row = Assistant.objects.get()

    alice_client.post(reverse("records:assistant_remove", args=[record.public_id, row.pk]))

    assert bob_client.get(url).status_code == 404
    row.refresh_from_db()
    assert (row.ended_by, row.ended_at is not None) == (alice, True)
    assert AccessEntry.objects.filter(action=AccessAction.REMOVE_ASSISTANT).exists()
    assert OutboundMessage.objects.filter(
        subject="Un assistant DSP a été retiré", recipient="bob@example.lu"
    ).exists()
    page = page_text(alice_client.get(url))
    assert "Aucune donnée disponible dans le tableau" in page


def test_an_assistant_can_manage_the_assistants_and_leave(
    alice_client: Client,
    bob_client: Client,
    charlie_client: Client,
    alice: InsuredPerson,
    bob: InsuredPerson,
    charlie: InsuredPerson,
) -> None:
    record = CareRecord.objects.get(person=alice)
    add_assistant(alice_client, record, bob)

    add_assistant(bob_client, record, charlie, role="Médecin de famille")
    bob_row = Assistant.objects.get(person=bob)
    left = bob_client.post(reverse("records:assistant_remove", args=[record.public_id, bob_row.pk]))

    assert Assistant.objects.get(person=charlie).added_by == bob
    assert AccessEntry.objects.filter(
        action=AccessAction.ADD_ASSISTANT, actor=bob, capacity=Capacity.ASSISTANT
    ).exists()
    assert left["Location"] == reverse("records:mine")
    assert Assistant.objects.filter(record=record, ended_at__isnull=True).get().person == charlie


def test_the_other_records_list_and_the_assistant_banner(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    empty = page_text(bob_client.get(reverse("records:others")))
    assert "Vous n'êtes assistant DSP d'aucun dossier." in empty
    add_assistant(alice_client, record, bob)

    others = page_text(bob_client.get(reverse("records:others")))
    assert f"Alice Martin ({alice.age()} ans)" in others
    assert reverse("records:record", args=[record.public_id]) in others

    page = page_text(bob_client.get(reverse("records:record", args=[record.public_id])))
    assert "Vous consultez le dossier d'Alice Martin en tant qu'assistant DSP" in page
    assert reverse("records:mine") in page
    own = page_text(bob_client.get(reverse("records:mine"), follow=True))
    assert "en tant qu'assistant DSP" not in own


def test_a_refused_search_keeps_the_number_and_lists_the_error_at_the_top(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    not_activated = make_person("Paul", "Schmit", years_ago(50))

    page = search(alice_client, record, not_activated.matricule)

    assert f'name="numero" value="{not_activated.matricule}"' in page
    assert 'aria-invalid="true"' in page
    summary = page.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#id_numero">Numéro assuré</a>' in summary
    assert "La personne doit d'abord activer son compte eSanté." in summary


def test_a_refused_addition_keeps_the_number_searched_with_the_summary(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    search(alice_client, record, alice.matricule)
    url = reverse("records:assistant_add", args=[record.public_id])
    data = {"candidate": alice.esante_id, "type": "assistant_dsp"}

    response = alice_client.post(url, data)

    assert response.status_code == 400
    page = page_text(response)
    assert f'name="numero" value="{alice.matricule}"' in page
    summary = page.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#id_numero">Numéro assuré</a>' in summary
    assert "ne peut pas être son propre assistant" in summary


def test_an_incomplete_addition_keeps_the_number_and_marks_the_fields(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    search(alice_client, record, bob.matricule)
    url = reverse("records:assistant_add", args=[record.public_id])

    page = page_text(alice_client.post(url, {"candidate": bob.esante_id, "role": "x" * 51}))

    assert f'name="numero" value="{bob.matricule}"' in page
    assert '<a href="#id_type">Type</a>' in page
    assert 'id="id_type" form="assistant-add" aria-invalid="true"' in page
    assert 'aria-invalid="true" aria-describedby="role_error"' in page


def test_after_adding_the_page_opens_at_the_message_which_takes_the_focus(
    alice_client: Client, bob_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
    search(alice_client, record, bob.matricule)
    url = reverse("records:assistant_add", args=[record.public_id])
    data = {"candidate": bob.esante_id, "type": "assistant_dsp"}

    response = alice_client.post(url, data)

    assert response["Location"].endswith("#messages")
    page = page_text(alice_client.get(response["Location"]))
    assert '<div role="status" id="messages" tabindex="-1" data-autofocus>' in page
    assert '<li class="message message-success">' in page
    assert f"{bob.public_label} est maintenant assistant DSP de ce dossier." in page
