"""The agent's work: find a person by exact number, see what the helpdesk may see (never
the DSP), and act — each action with a reason, audited with the agent's identity."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account, PatientSession
from esante.audit.models import AuditEvent, EventType
from esante.helpdesk.models import CallNote, StaffDevice
from esante.records import documents
from esante.records.models import CareRecord, Category, Document
from esante.registry.models import ActivationLetter, InsuredPerson, LetterBatch, LetterRequest
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import PASSWORD, activate, issue_letter, page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


def person_url(person: InsuredPerson) -> str:
    return reverse("helpdesk:person", args=[person.esante_id])


def act(client: Client, person: InsuredPerson, action: str, reason: str = "Appel du jour") -> Any:
    url = reverse("helpdesk:person_action", args=[person.esante_id, action])
    return client.post(url, {"reason": reason}, follow=True)


def test_lookup_by_exact_matricule_or_esante_id(agent_client: Client, alice: InsuredPerson) -> None:
    by_matricule = agent_client.get(reverse("helpdesk:home"), {"q": alice.matricule})
    by_id = agent_client.get(reverse("helpdesk:home"), {"q": f" {alice.esante_id} "})
    unknown = agent_client.get(reverse("helpdesk:home"), {"q": "19700101123"})
    malformed = agent_client.get(reverse("helpdesk:home"), {"q": "Martin"})

    assert by_matricule["Location"] == by_id["Location"] == person_url(alice)
    assert unknown.status_code == 400
    assert "Aucune personne du registre ne porte ce numéro." in page_text(unknown)
    assert "11 ou 13 chiffres" in page_text(malformed)


def test_the_person_page_shows_the_state_masked_and_no_dsp(
    agent_client: Client, agent: Any, account: Account, alice: InsuredPerson
) -> None:
    record = CareRecord.objects.get(person=alice)
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

    page = page_text(agent_client.get(person_url(alice)))

    assert alice.matricule in page and alice.address_line1 in page
    assert "Actif" in page and "*****@example.lu" in page
    assert EMAIL not in page
    assert "Sérologie confidentielle" not in page and "Historique des accès" not in page
    assert AuditEvent.objects.filter(
        event_type=EventType.HELPDESK_LOOKUP, actor=f"staff:{agent.pk}", person=alice
    ).exists()


def test_reissuing_a_letter_voids_the_old_one_and_joins_the_next_batch(
    agent_client: Client, agent: Any, printer_client: Client, alice: InsuredPerson
) -> None:
    issue_letter(alice)
    old = ActivationLetter.objects.get()

    refused = act(agent_client, alice, "courrier", reason="")
    assert "Indiquez le motif de l'action." in page_text(refused)
    assert ActivationLetter.objects.get().voided_at is None

    done = act(agent_client, alice, "courrier", reason="Courrier perdu, appel du 26/11")

    old.refresh_from_db()
    assert old.voided_at is not None
    assert LetterRequest.objects.filter(person=alice, fulfilled_at__isnull=True).exists()
    assert "part avec le prochain lot" in page_text(done) or "prochain lot" in page_text(done)
    event = AuditEvent.objects.get(event_type=EventType.HELPDESK_ACTION, person=alice)
    assert event.actor == f"staff:{agent.pk}"
    assert event.details["action"] == "reissue_letter"
    assert event.details["reason"] == "Courrier perdu, appel du 26/11"

    # The next batch is the print side's (tests/security/test_item01_…).
    batches = printer_client.get(reverse("helpdesk:batches"))
    assert "1 demande de nouveau courrier" in page_text(batches)
    printer_client.post(reverse("helpdesk:batch_generate"))
    batch = LetterBatch.objects.latest("pk")
    new = ActivationLetter.objects.exclude(pk=old.pk).get()
    assert new.batch == batch
    assert not LetterRequest.objects.filter(fulfilled_at__isnull=True).exists()

    pdf = printer_client.get(reverse("helpdesk:batch_pdf", args=[batch.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    printer_client.post(reverse("helpdesk:batch_posted", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.posted_at is not None
    page = page_text(agent_client.get(person_url(alice)))
    assert "Annulé" in page and "Valable" in page and "posté le" in page
    actions = set(
        AuditEvent.objects.filter(event_type=EventType.HELPDESK_ACTION).values_list(
            "details__action", flat=True
        )
    )
    assert {"generate_batch", "batch_downloaded", "batch_posted"} <= actions


def test_unlocking_and_ending_sessions(
    agent_client: Client, account: Account, alice: InsuredPerson
) -> None:
    patient = Client()
    log_in(patient, account)
    Account.objects.filter(pk=account.pk).update(
        locked_until=timezone.now() + datetime.timedelta(minutes=10), failed_logins=7
    )
    assert "Bloqué" in page_text(agent_client.get(person_url(alice)))

    act(agent_client, alice, "debloquer")
    act(agent_client, alice, "sessions")

    account.refresh_from_db()
    assert (account.locked_until, account.failed_logins) == (None, 0)
    assert not PatientSession.objects.filter(account=account, ended_at__isnull=True).exists()
    assert patient.get(reverse("patient:services")).status_code == 302


def test_resetting_the_channel_leads_to_a_new_letter(
    agent_client: Client, account: Account, alice: InsuredPerson
) -> None:
    act(agent_client, alice, "canal", reason="Téléphone perdu")

    account.refresh_from_db()
    assert (account.code_channel, account.email, account.phone) == ("", "", "")
    assert LetterRequest.objects.filter(person=alice, fulfilled_at__isnull=True).exists()
    login = Client().post(
        reverse("patient:login"), {"matricule": alice.matricule, "password": PASSWORD}
    )
    assert login.status_code == 400
    assert "réinitialisé par le helpdesk" in page_text(login)


def test_a_note_of_a_call(agent_client: Client, agent: Any, alice: InsuredPerson) -> None:
    agent_client.post(
        reverse("helpdesk:person_note", args=[alice.esante_id]),
        {"text": "Appelle pour sa fille, rappeler demain."},
    )

    note = CallNote.objects.get()
    assert (note.person, note.staff) == (alice, agent)
    assert "rappeler demain" in page_text(agent_client.get(person_url(alice)))


def test_a_note_too_long_is_said_on_its_field_and_kept(
    agent_client: Client, alice: InsuredPerson
) -> None:
    typed = "Appelle pour sa fille. " * 100  # 2,300 characters

    refused = agent_client.post(
        reverse("helpdesk:person_note", args=[alice.esante_id]), {"text": typed}
    )

    assert refused.status_code == 400
    page = page_text(refused)
    assert "au plus 2000 caractères" in page
    assert typed.strip() in page  # nothing typed is lost
    assert not CallNote.objects.exists()


def test_create_staff_makes_a_user_with_a_second_factor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESANTE_STAFF_PASSWORD", "Un mot de passe du personnel 2026")
    out = io.StringIO()

    call_command("create_staff", "marie.agent", "--role", "agent", "--no-qr", stdout=out)

    device = StaffDevice.objects.get(user__username="marie.agent")
    assert device.user.groups.get().name == "agent"
    assert "otpauth://totp/" in out.getvalue()
    assert not device.user.is_staff  # Django's admin stays closed to agents


def test_every_action_is_audited_with_the_agent_and_the_reason(
    agent_client: Client, agent: Any, account: Account, alice: InsuredPerson
) -> None:
    for slug in ("courrier", "debloquer", "sessions", "canal"):
        act(agent_client, alice, slug, reason=f"Motif pour {slug}")
    agent_client.post(reverse("helpdesk:person_note", args=[alice.esante_id]), {"text": "Appel"})

    events = AuditEvent.objects.filter(
        event_type=EventType.HELPDESK_ACTION, actor=f"staff:{agent.pk}", person=alice
    )
    by_action = {event.details["action"]: event.details for event in events}
    assert set(by_action) == {"reissue_letter", "unlock", "end_sessions", "reset_channel", "note"}
    for slug, action in (
        ("courrier", "reissue_letter"),
        ("debloquer", "unlock"),
        ("sessions", "end_sessions"),
        ("canal", "reset_channel"),
    ):
        assert by_action[action]["reason"] == f"Motif pour {slug}"
        assert by_action[action]["staff"] == agent.username


def test_an_unknown_action_or_person_is_not_found(
    agent_client: Client, alice: InsuredPerson
) -> None:
    assert (
        agent_client.post(
            reverse("helpdesk:person_action", args=[alice.esante_id, "supprimer"]),
            {"reason": "Essai d'une action inconnue"},
        ).status_code
        == 404
    )
    assert agent_client.get(reverse("helpdesk:person", args=["0000000000"])).status_code == 404


def test_no_letter_for_a_deceased_person(agent_client: Client, alice: InsuredPerson) -> None:
    """A request no run would ever serve (runs skip the deceased) is not made."""
    InsuredPerson.objects.filter(pk=alice.pk).update(date_of_death=datetime.date(2026, 1, 5))

    page = page_text(agent_client.get(person_url(alice)))
    refused = act(agent_client, alice, "courrier")

    assert "Renvoyer un courrier d'activation" not in page
    assert "Cette personne est décédée : aucun courrier ne lui est envoyé." in page_text(refused)
    assert not LetterRequest.objects.filter(person=alice).exists()
    assert not AuditEvent.objects.filter(event_type=EventType.HELPDESK_ACTION).exists()
