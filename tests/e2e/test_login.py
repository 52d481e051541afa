"""Logging in as the guide's page 11 shows, in a real browser: Connexion → PATIENT →
matricule, password, the code from the dev outbox → Mes services eSanté → logout."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from captcha.conf import settings as captcha_settings
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests.accounts.wizard import PASSWORD, activate
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_activation import one_time_code
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def demo(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ESANTE_DEMO = True
    settings.STORAGES = {
        **settings.STORAGES,
        "letters": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "letters")},
        },
    }
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


def test_an_activated_patient_logs_in_sees_her_services_and_logs_out(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    activate(Client(), alice, "alice@example.lu")

    page.goto("/")
    page.get_by_role("link", name="Connexion").first.click()
    page.get_by_role("link", name="PATIENT", exact=True).click()
    expect(page).to_have_url(re.compile(r"/connexion/#patient$"))
    expect(page.get_by_role("heading", name="Connexion au DSP")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Matricule, mot de passe et code").click()
    assert_accessible(page)

    page.get_by_role("textbox", name="Matricule").fill(alice.matricule)
    page.get_by_role("textbox", name="Mot de passe", exact=True).fill("not the password 1")
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Le matricule ou le mot de passe est incorrect"
    )
    assert_accessible(page)

    page.get_by_role("textbox", name="Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("status")).to_contain_text("*****@example.lu")
    assert_accessible(page)
    page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail").fill(
        one_time_code(new_page, "alice@example.lu")
    )
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Mes services eSanté")
    expect(page.get_by_text("Bienvenue, Alice Martin.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Mon DSP").click()
    # The first access asks the organ-donation question; « plus tard » opens the record.
    expect(page.get_by_role("heading", name="Déclaration de don d'organes")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Je déciderai plus tard").check()
    page.get_by_role("button", name="Enregistrer ma réponse").click()
    expect(page.get_by_text(re.compile("Dossier de Soins Partagé de A Martin"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Répondre maintenant").click()
    page.get_by_label("Oui, j'accepte").check()
    page.get_by_role("button", name="Enregistrer ma réponse").click()
    expect(page.get_by_text(re.compile("vous avez déclaré accepter le don"))).to_be_visible()
    page.get_by_label("Je confirme vouloir fermer mon DSP.").check()
    page.get_by_role("button", name="Fermer mon DSP").click()
    expect(page.get_by_role("heading", name="Ce DSP est fermé")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Rouvrir mon DSP").click()
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    page.get_by_role("link", name="Voir l'historique des accès").click()
    expect(page.get_by_role("cell", name="Fermeture du DSP")).to_be_visible()
    assert_accessible(page)

    page.goto("/mes-services/")
    page.get_by_role("link", name="Mon compte", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(page.get_by_text("(cette session)")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Changer mon mot de passe").click()
    assert_accessible(page)
    page.goto("/mon-compte/contact/")
    assert_accessible(page)

    page.get_by_role("button", name="Déconnexion").click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    page.goto("/mes-services/")
    expect(page).to_have_url(re.compile(r"/connexion/patient/\?suivant="))


def test_mot_de_passe_oublie_pages_are_accessible(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    page.goto("/connexion/patient/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    assert_accessible(page)
    page.get_by_role("textbox", name="Matricule").fill("1918090138700")
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("status")).to_contain_text("Si ce matricule correspond")
    assert_accessible(page)


def test_the_wait_before_resending_is_counted_down_then_said_once(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    """The countdown is not a live region (a screen reader would read it every second);
    the live region beside it speaks once, when the code can be sent again."""
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    activate(Client(), alice, "alice@example.lu")
    page.clock.install()

    page.goto("/connexion/patient/")
    page.get_by_role("textbox", name="Matricule").fill(alice.matricule)
    page.get_by_role("textbox", name="Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    expect(page).to_have_url(re.compile(r"/connexion/patient/code/$"))

    resend = page.get_by_role("button", name="Renvoyer le code")
    countdown = page.locator("[data-resend-countdown]")
    ready = page.locator("[data-resend-ready]")
    expect(resend).to_be_disabled()
    expect(countdown).to_have_text(re.compile(r"^\(possible dans \d+ secondes\)$"))
    assert countdown.evaluate("element => element.closest('[aria-live]')") is None
    expect(ready).to_have_attribute("aria-live", "polite")
    expect(ready).to_have_text("")
    assert_accessible(page)

    # Time stands still from here and moves only by run_for: on a loaded machine the
    # countdown ticks on its own meanwhile, so the seconds left are read once it stands.
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 0.05)
    left = int(re.findall(r"\d+", countdown.inner_text())[0])
    assert left > 2
    page.clock.run_for((left - 2) * 1000)
    expect(countdown).to_have_text("(possible dans 2 secondes)")
    page.clock.run_for(1000)
    expect(countdown).to_have_text("(possible dans 1 seconde)")
    expect(ready).to_have_text("")
    expect(resend).to_be_disabled()

    page.clock.run_for(1000)
    expect(resend).to_be_enabled()
    expect(countdown).to_be_hidden()
    expect(ready).to_have_text("Vous pouvez maintenant renvoyer le code.")
    page.clock.resume()  # axe-core waits on timers of its own
    assert_accessible(page)


def test_a_fresh_browser_shows_the_account_s_language_once_logged_in(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    """Alice activated her account in German; a browser that never chose a language (its
    own is French) shows her German pages from the login on."""
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    activating = Client()
    activating.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    activate(activating, alice, "alice@example.lu")

    page.goto("/connexion/patient/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("textbox", name="Matricule").fill(alice.matricule)
    page.get_by_role("textbox", name="Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail").fill(
        one_time_code(new_page, "alice@example.lu")
    )
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Meine eSanté-Dienste")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert_accessible(page)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
