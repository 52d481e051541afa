"""Issue 17's journeys in a real browser: a physician logs in through the provider (a real
oidc-provider-mock process), declares a care relationship with a patient in front of him,
reads a *Normal* document, does not see a *Restreint* one, adds a report; the patient sees
the report and the access in *Historique des accès*, and blocks the physician, who then
finds nothing. An emergency access notifies the holder and appears in the superviseur's
report, who reviews it. Every page of ours is checked with axe-core."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.professionals.models import Professional
from esante.records.models import (
    AccessEntry,
    Capacity,
    CareRecord,
    Confidentiality,
    Document,
    EmergencyAccess,
)
from tests.accounts.conftest import activation_settings
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_helpdesk import log_in_as
from tests.e2e.test_narrow_tables import PHONE, assert_no_sideways_scrolling, phone_page_of
from tests.e2e.test_professional_login import professional_journey
from tests.factories import make_person
from tests.helpdesk.conftest import make_staff
from tests.practice.conftest import STRONG, paul, pro_provider, stored_document
from tests.records.conftest import logged_in
from tests.records.test_documents import PDF
from tests.servers import OidcProvider

__all__ = ["activation_settings", "paul", "pro_provider"]

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_physician_declares_reads_writes_and_is_blocked(
    page: Page,
    new_page: NewPage,
    live_server: LiveServer,
    assert_accessible: AssertAccessible,
    pro_provider: OidcProvider,
    paul: Professional,
    tmp_path: Path,
) -> None:
    alice = make_person("Alice", "Martin", datetime.date(1985, 4, 12))
    patient = logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    # Opened with her letter more than 30 days ago: professionals may write into it.
    record.objection_until = timezone.now() - datetime.timedelta(days=1)
    record.save()
    stored_document(record, title="Bilan sanguin")
    stored_document(
        record, title="Consultation psychiatrique", confidentiality=Confidentiality.RESTRICTED
    )
    pro_provider.add_user("paul-care", professional_code=paul.national_code, **STRONG)

    # The physician, at his desk: logs in, declares the relationship.
    professional_journey(page, pro_provider, "paul-care", assert_accessible)
    page.get_by_role("link", name="Déclarer une relation de soins").click()
    assert_accessible(page)
    page.get_by_label("Numéro d'identification").fill(alice.matricule)
    page.get_by_label("Nom du patient").fill("martin")  # the case does not matter
    page.get_by_label("Motif").fill("Consultation de suivi")
    page.get_by_role("button", name="Déclarer la relation de soins").click()

    expect(page).to_have_url(re.compile(rf"/professionnel/dsp/{record.public_id}/$"))
    documents = page.locator("#documents")
    expect(documents.get_by_role("link", name="Bilan sanguin")).to_be_visible()
    expect(documents).not_to_contain_text("Consultation psychiatrique")
    assert_accessible(page)

    documents.get_by_role("link", name="Bilan sanguin").click()
    expect(page.get_by_role("heading", name="Bilan sanguin")).to_be_visible()
    assert_accessible(page)
    page.go_back()

    report = tmp_path / "compte-rendu.pdf"
    report.write_bytes(PDF)
    adding = page.locator("#ajouter")
    adding.get_by_label("Fichier PDF").set_input_files(str(report))
    adding.get_by_label("Catégorie").select_option(label="Rapports hospitaliers")
    adding.get_by_label("Titre").fill("Compte rendu de consultation")
    adding.get_by_label("Date du document").fill(timezone.localdate().isoformat())
    adding.get_by_role("button", name="Ajouter le document").click()
    added = page.locator("#documents").get_by_role("link", name="Compte rendu de consultation")
    expect(added).to_be_visible()
    assert Document.objects.get(title="Compte rendu de consultation").professional == paul

    # The patient, on her phone: the report, the access in the journal, and the block.
    phone = phone_page_of(patient, new_page, live_server)
    phone.goto(reverse("records:record", args=[record.public_id]))
    row = phone.get_by_role("row", name=re.compile("Compte rendu de consultation"))
    expect(row).to_contain_text("Paul Reding")
    assert_no_sideways_scrolling(phone)
    assert_accessible(phone)

    phone.goto(reverse("records:journal", args=[record.public_id]))
    journal = phone.get_by_role("main")
    expect(journal).to_contain_text("Paul Reding")
    expect(journal).to_contain_text("Relation de soins")
    assert_no_sideways_scrolling(phone)
    assert_accessible(phone)

    phone.goto(reverse("records:professionals", args=[record.public_id]))
    access = phone.locator("#acces")
    expect(access).to_contain_text("Paul Reding")
    assert_accessible(phone)
    access.get_by_role("link", name=re.compile("Bloquer")).click()
    assert_accessible(phone)
    phone.get_by_role("main").get_by_role("button", name="Bloquer").click()
    expect(phone.locator("#bloques")).to_contain_text("Paul Reding")
    assert_no_sideways_scrolling(phone)

    # The physician finds nothing any more: the record answers as one that does not exist.
    page.reload()
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    page.goto(reverse("practice:home"))
    expect(page.get_by_role("main")).not_to_contain_text("Alice")
    assert_accessible(page)

    professional_lines = AccessEntry.objects.filter(record=record, professional=paul)
    assert {line.capacity for line in professional_lines} == {Capacity.CARE}
    assert professional_lines.count() >= 4  # declared, read, document read, added


def test_the_physicians_pages_fit_a_phone(
    new_page: NewPage,
    assert_accessible: AssertAccessible,
    pro_provider: OidcProvider,
    paul: Professional,
) -> None:
    pro_provider.add_user("paul-phone", professional_code=paul.national_code, **STRONG)
    phone = new_page(viewport=PHONE)
    professional_journey(phone, pro_provider, "paul-phone", assert_accessible)
    for name in ("Déclarer une relation de soins", "Accès en urgence (bris de glace)"):
        phone.goto(reverse("practice:home"))
        phone.get_by_role("link", name=name).click()
        assert_accessible(phone)
        for width in (390, 320):
            phone.set_viewport_size({"width": width, "height": 740})
            assert_no_sideways_scrolling(phone)
        phone.set_viewport_size({"width": 390, "height": 844})


def test_an_emergency_access_is_notified_and_reviewed_by_the_superviseur(
    page: Page,
    new_page: NewPage,
    assert_accessible: AssertAccessible,
    pro_provider: OidcProvider,
    paul: Professional,
) -> None:
    alice = make_person("Alice", "Martin", datetime.date(1985, 4, 12))
    logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    stored_document(record, title="Groupe sanguin")
    stored_document(
        record, title="Consultation psychiatrique", confidentiality=Confidentiality.RESTRICTED
    )
    pro_provider.add_user("paul-urgence", professional_code=paul.national_code, **STRONG)

    professional_journey(page, pro_provider, "paul-urgence", assert_accessible)
    page.get_by_role("link", name="Accès en urgence (bris de glace)").click()
    assert_accessible(page)
    page.get_by_label("Numéro d'identification").fill(alice.matricule)
    page.get_by_label("Nom du patient").fill("Martin")
    page.get_by_label("Motif de l'urgence").fill("Patiente inconsciente aux urgences")
    page.locator("input[type=checkbox]").check()
    page.get_by_role("button", name="Ouvrir le dossier en urgence").click()

    expect(page).to_have_url(re.compile(rf"/professionnel/dsp/{record.public_id}/$"))
    expect(page.get_by_role("main")).to_contain_text("vérifié par l'Agence eSanté")
    documents = page.locator("#documents")
    expect(documents.get_by_role("link", name="Groupe sanguin")).to_be_visible()
    expect(documents).not_to_contain_text("Consultation psychiatrique")
    assert_accessible(page)
    notice = OutboundMessage.objects.filter(recipient="alice@example.lu").latest("pk")
    assert "urgence" in notice.body and "Paul Reding" in notice.body

    superviseur = make_staff("superviseur.dupont", "superviseur")
    desk = new_page()
    log_in_as(desk, superviseur)
    desk.get_by_role("link", name="Accès en urgence").click()
    row = desk.get_by_role("row", name=re.compile("Paul Reding"))
    expect(row).to_contain_text(alice.esante_id)
    expect(row).to_contain_text("Patiente inconsciente aux urgences")
    expect(desk.get_by_role("main")).not_to_contain_text("Groupe sanguin")
    assert_accessible(desk)
    row.get_by_text("Justifié", exact=True).click()
    row.get_by_role("button", name="Enregistrer l'examen").click()
    expect(desk.get_by_role("row", name=re.compile("Paul Reding"))).to_contain_text(
        "par superviseur.dupont"
    )
    assert_accessible(desk)
    assert EmergencyAccess.objects.get(record=record).justified is True
    assert AuditEvent.objects.filter(
        event_type=EventType.EMERGENCY_ACCESS_REVIEWED, actor=f"staff:{superviseur.pk}"
    ).exists()
