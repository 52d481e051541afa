"""A health professional in a real browser: *Connexion* → *PROFESSIONNEL* → the
provider (a real oidc-provider-mock process that vouches for their national code) →
*Espace professionnel* → logout, at desktop size and on a phone (390 × 844, reflow at
320 px), every page of ours checked with axe-core. The provider's page is not ours."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from esante.audit.models import AuditEvent, EventType
from esante.practice.models import ProfessionalPasskey, ProfessionalSession
from esante.professionals.models import Professional
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_luxtrust import at_provider, offline_provider_page
from tests.e2e.test_narrow_tables import PHONE, assert_no_sideways_scrolling
from tests.e2e.test_passkeys import Authenticator
from tests.practice.conftest import STRONG, paul, pro_provider
from tests.servers import OidcProvider

__all__ = ["offline_provider_page", "paul", "pro_provider"]

pytestmark = pytest.mark.django_db(transaction=True)


def professional_journey(
    page: Page, provider: OidcProvider, subject: str, assert_accessible: AssertAccessible
) -> None:
    page.goto("/")
    page.get_by_role("link", name="Connexion").first.click()
    page.get_by_role("link", name="PROFESSIONNEL", exact=True).click()
    expect(page).to_have_url(re.compile(r"/connexion/#professionnel$"))
    expect(page.get_by_role("heading", name="Connexion professionnelle")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Connexion professionnelle LuxTrust").click()

    at_provider(page, provider, subject)

    expect(page).to_have_url(re.compile(r"/professionnel/$"))
    expect(page.get_by_role("heading", name="Espace professionnel", level=1)).to_be_visible()
    facts = page.get_by_role("main")
    for fact in ("Paul Reding", "Médecin", "Médecine générale", "10381524"):
        expect(facts).to_contain_text(fact)
    expect(facts).to_contain_text("relation de soins")
    assert_accessible(page)


def log_out(page: Page, assert_accessible: AssertAccessible) -> None:
    page.get_by_role("main").get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté. À bientôt !")).to_be_visible()
    expect(page.get_by_role("link", name="Connexion").first).to_be_visible()
    assert_accessible(page)


def test_a_professional_logs_in_through_the_provider_and_out(
    page: Page,
    new_page: NewPage,
    assert_accessible: AssertAccessible,
    pro_provider: OidcProvider,
    paul: Professional,
) -> None:
    pro_provider.add_user("paul-reding-e2e", professional_code=paul.national_code, **STRONG)

    professional_journey(page, pro_provider, "paul-reding-e2e", assert_accessible)
    log_out(page, assert_accessible)

    phone = new_page(viewport=PHONE)
    professional_journey(phone, pro_provider, "paul-reding-e2e", assert_accessible)
    assert_no_sideways_scrolling(phone)
    phone.set_viewport_size({"width": 320, "height": 700})
    assert_no_sideways_scrolling(phone)
    phone.set_viewport_size({"width": 390, "height": 844})
    log_out(phone, assert_accessible)

    assert AuditEvent.objects.filter(event_type=EventType.PROFESSIONAL_LOGIN_SUCCEEDED).count() == 2
    assert not ProfessionalSession.objects.filter(ended_at__isnull=True).exists()


def test_a_passkey_made_in_espace_professionnel_logs_the_professional_in(
    page: Page,
    assert_accessible: AssertAccessible,
    pro_provider: OidcProvider,
    paul: Professional,
) -> None:
    pro_provider.add_user("paul-reding-key", professional_code=paul.national_code, **STRONG)
    professional_journey(page, pro_provider, "paul-reding-key", assert_accessible)
    passkeys = page.locator("#passkeys")
    expect(passkeys.get_by_role("cell", name="Aucune clé d'accès.")).to_be_visible()

    Authenticator(page)
    passkeys.get_by_role("textbox", name="Nom de la clé d'accès (facultatif)").fill("Cabinet")
    passkeys.get_by_role("button", name="Créer une clé d'accès").click()

    expect(page.get_by_text("La clé d'accès « Cabinet » est enregistrée.")).to_be_visible()
    expect(passkeys.get_by_role("row", name=re.compile("Cabinet"))).to_be_visible()
    assert_accessible(page)
    log_out(page, assert_accessible)

    page.get_by_role("link", name="Connexion").first.click()
    page.get_by_role("link", name="PROFESSIONNEL", exact=True).click()
    page.get_by_role("button", name="Connexion professionnelle avec une clé d'accès").click()

    expect(page.get_by_role("heading", name="Espace professionnel", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("10381524")
    assert_accessible(page)
    assert ProfessionalPasskey.objects.get().last_used_at is not None
    assert ProfessionalSession.objects.filter(method="passkey").count() == 1
