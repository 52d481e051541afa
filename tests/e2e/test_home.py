"""The portal frame and public pages in a real browser: languages, menu, keyboard, axe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import RequestFactory
from playwright.sync_api import Locator, Page, expect

from esante import ratelimit
from tests.e2e.harness import AssertAccessible, NewPage


def main_menu(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Menu principal")


BANNER_TITLES = {"fr-FR": "PORTAIL E-SANTÉ", "de-DE": "E-HEALTH-PORTAL", "en-GB": "E-HEALTH PORTAL"}


@pytest.mark.parametrize("browser_locale", list(BANNER_TITLES))
def test_home_page_is_accessible_in_each_language(
    page: Page, browser_locale: str, assert_accessible: AssertAccessible
) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", browser_locale[:2])
    expect(page.get_by_role("heading", level=1)).to_have_text(BANNER_TITLES[browser_locale])
    assert_accessible(page)


@pytest.mark.parametrize("url", ["/activation/", "/services/", "/teleconsultation/", "/connexion/"])
def test_public_pages_are_accessible(
    page: Page, url: str, assert_accessible: AssertAccessible
) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert_accessible(page)


def test_the_404_page_is_accessible(page: Page, assert_accessible: AssertAccessible) -> None:
    response = page.goto("/cette-page-n-existe-pas/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert_accessible(page)


def test_the_menu_opened_is_accessible(page: Page, assert_accessible: AssertAccessible) -> None:
    page.goto("/")
    main_menu(page).get_by_text("PATIENTS", exact=True).click()
    expect(main_menu(page).get_by_role("link", name="ACTIVATION COMPTE ESANTE")).to_be_visible()
    assert_accessible(page)


def test_choosing_deutsch_switches_the_site_to_german_and_it_sticks(page: Page) -> None:
    page.goto("/services/")
    page.get_by_role("button", name="Deutsch").click()
    expect(page).to_have_url(re.compile(r"/services/$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Zugang zu den eSanté-Diensten")
    expect(page.get_by_role("button", name="Deutsch")).to_have_attribute("aria-current", "true")
    # The language cookie is Secure (DEBUG is off) and chromium keeps it on http://localhost,
    # a secure context: the test settings need no cookie override for the live server.
    language_cookie = {c["name"]: c for c in page.context.cookies()}["django_language"]
    assert language_cookie["value"] == "de"
    assert language_cookie["secure"] is True
    # The choice is remembered on the next page, over the fr-FR browser's Accept-Language.
    page.get_by_role("link", name="Anmelden", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    # And back to French.
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


def test_the_patients_menu_works_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/")
    summary = main_menu(page).locator("summary")
    first_entry = main_menu(page).get_by_role("link", name="ACTIVATION COMPTE ESANTE")
    expect(first_entry).to_be_hidden()
    # Tab from the top of the page until the PATIENTS toggle has the focus.
    for _ in range(15):
        page.keyboard.press("Tab")
        if summary.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("PATIENTS cannot be reached with Tab")
    page.keyboard.press("Space")
    expect(first_entry).to_be_visible()
    page.keyboard.press("Space")
    expect(first_entry).to_be_hidden()
    page.keyboard.press("Enter")
    expect(first_entry).to_be_visible()
    page.keyboard.press("Tab")
    expect(first_entry).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/activation/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("ACTIVATION DE MON COMPTE ESANTÉ")


def test_escape_closes_the_menu_and_returns_to_its_toggle(page: Page) -> None:
    """The progressive enhancement (portal.js); without it the toggle closes the menu."""
    page.goto("/")
    summary = main_menu(page).locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(main_menu(page).get_by_role("link", name="ACTIVATION COMPTE ESANTE")).to_be_hidden()
    expect(summary).to_be_focused()


def test_the_skip_link_moves_to_the_main_content(page: Page) -> None:
    page.goto("/activation/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu principal")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


@pytest.mark.parametrize(
    "url", ["/", "/activation/", "/services/", "/teleconsultation/", "/connexion/"]
)
def test_a_narrow_screen_has_no_horizontal_scroll(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(url)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0


def test_the_smallest_supported_screen_still_fits(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/")
    main_menu(page).get_by_text("PATIENTS", exact=True).click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
    assert_accessible(page)


def test_the_site_works_without_javascript(new_page: NewPage) -> None:
    page = new_page(java_script_enabled=False)
    page.goto("/")
    main_menu(page).get_by_text("PATIENTS", exact=True).click()
    main_menu(page).get_by_role("link", name="ACCÈS TÉLÉCONSULTATION").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Téléconsultation")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Teleconsultation")


def test_the_demo_banner_is_accessible(
    page: Page, settings: Any, assert_accessible: AssertAccessible
) -> None:
    settings.ESANTE_DEMO = True
    page.goto("/")
    expect(page.get_by_role("link", name="boîte d’envoi de démonstration")).to_be_visible()
    assert_accessible(page)


def test_a_rate_limits_page_is_accessible_and_fits_the_smallest_screen(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    """The "try later" page of one limit (here the audio captcha's, per IP): which limit,
    until when, what to do."""
    rule = next(iter(ratelimit.RATE_LIMITS["captcha.audio"]))
    for address in ("127.0.0.1", "::1"):  # however the browser reaches localhost
        request = RequestFactory().get("/", REMOTE_ADDR=address)
        for _hit in range(rule.limit):
            ratelimit.hit("captcha.audio", request)
    page.set_viewport_size({"width": 320, "height": 640})

    response = page.goto("/captcha/audio/" + "0" * 40 + ".wav")

    assert response is not None and response.status == 429
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Trop d'écoutes de la vérification audio"
    )
    expect(page.get_by_role("heading", name="Que faire ?")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
