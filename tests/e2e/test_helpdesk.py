"""An agent handles "I lost my letter" in the back-office: staff login with password and
app code, lookup by matricule, re-issue with a reason — with the keyboard for the lookup,
and axe on every page. The batch is the print side's: a print operator generates it,
downloads its PDF and marks it posted, and the PDF is gone (axe on every page too)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from esante.audit.models import AuditEvent, EventType
from esante.helpdesk.actions import reissue_letter
from esante.registry.letters import issue_letters
from esante.registry.models import ActivationLetter, LetterBatch
from tests.e2e.harness import AssertAccessible
from tests.e2e.test_activation import press_button, type_into
from tests.factories import make_person, years_ago
from tests.helpdesk.conftest import SECRETS, STAFF_PASSWORD, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def letters_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "letters": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "letters")},
        },
    }


def test_an_agent_reissues_a_lost_letter(page: Page, assert_accessible: AssertAccessible) -> None:
    agent = make_staff("agent.dupont", "agent")
    caller = make_person("Jeanne", "Kieffer", years_ago(52), sex="F")
    issue_letters([caller], actor="test")
    lost = ActivationLetter.objects.get()

    page.goto("/helpdesk/")
    expect(page.get_by_role("heading", name="Connexion du personnel")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Identifiant").fill(agent.username)
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    code_field = page.get_by_role("textbox", name="Code de votre application d'authentification")
    expect(code_field).to_be_visible()
    assert_accessible(page)
    code_field.fill(pyotp.TOTP(SECRETS[agent.username]).now())
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", name="Rechercher une personne", level=1)).to_be_visible()
    assert_accessible(page)
    type_into(page, page.get_by_label("Matricule ou identifiant eSanté"), caller.matricule)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Jeanne Kieffer", level=1)).to_be_visible()
    expect(page.get_by_text("Non activé")).to_be_visible()
    expect(page.get_by_role("cell", name="Valable")).to_be_visible()
    assert_accessible(page)
    action = page.locator("form", has=page.get_by_role("heading", name="Renvoyer un courrier"))
    type_into(page, action.get_by_label("Motif"), "Appel : courrier perdu")
    press_button(page, action.get_by_role("button", name="Confirmer"))

    expect(page.get_by_text("un nouveau partira avec le prochain lot")).to_be_visible()
    expect(page.get_by_role("cell", name="Annulé")).to_be_visible()
    expect(page.get_by_text("en attente du prochain lot")).to_be_visible()
    assert_accessible(page)
    lost.refresh_from_db()
    assert lost.voided_at is not None
    expect(page.get_by_role("link", name="Lots de courriers")).to_have_count(0)

    page.get_by_role("link", name="Mon mot de passe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon mot de passe")
    assert_accessible(page)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion du personnel")).to_be_visible()
    reasons = AuditEvent.objects.filter(
        event_type=EventType.HELPDESK_ACTION, actor=f"staff:{agent.pk}"
    ).values_list("details__action", flat=True)
    assert set(reasons) == {"reissue_letter"}


def log_in_as(page: Page, user: Any) -> None:
    page.goto("/helpdesk/")
    page.get_by_label("Identifiant").fill(user.username)
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    code_field = page.get_by_role("textbox", name="Code de votre application d'authentification")
    code_field.fill(pyotp.TOTP(SECRETS[user.username]).now())
    page.get_by_role("button", name="Se connecter").click()


def test_a_print_operator_prints_the_batch_and_its_pdf_goes_once_posted(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    agent = make_staff("agent.dupont", "agent")
    printer = make_staff("impression.muller", "impression")
    caller = make_person("Jeanne", "Kieffer", years_ago(52), sex="F")
    reissue_letter(caller, staff=agent, reason="Appel : courrier perdu")

    log_in_as(page, printer)

    expect(page.get_by_role("heading", name="Lots de courriers", level=1)).to_be_visible()
    expect(page.get_by_text("1 demande de nouveau courrier")).to_be_visible()
    expect(page.get_by_text("Jeanne Kieffer")).to_have_count(0)
    expect(page.get_by_role("link", name="Rechercher une personne")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Générer le lot PDF").click()
    expect(page.get_by_text(re.compile(r"Lot \d+ généré : 1 courrier"))).to_be_visible()
    assert_accessible(page)
    batch = LetterBatch.objects.get()
    assert ActivationLetter.objects.get().batch == batch

    with page.expect_download() as download:
        page.get_by_role("link", name=f"PDF du lot {batch.pk}").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    page.get_by_role("button", name=f"Marquer le lot {batch.pk} comme posté").click()
    expect(
        page.get_by_text(f"Lot {batch.pk} marqué comme posté ; son PDF est supprimé.")
    ).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("^Supprimé le"))).to_be_visible()
    expect(page.get_by_role("link", name=f"PDF du lot {batch.pk}")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion du personnel")).to_be_visible()
    done = AuditEvent.objects.filter(
        event_type=EventType.HELPDESK_ACTION, actor=f"staff:{printer.pk}"
    ).values_list("details__action", flat=True)
    assert set(done) == {"generate_batch", "batch_downloaded", "batch_posted"}
    assert AuditEvent.objects.filter(event_type=EventType.LETTER_BATCH_FILE_DELETED).exists()
