"""The guide's pages on a phone in German and English: German words are the longest, so the
reflow at 320 and 390 CSS px and the first screen at 390×844 are checked in both languages,
with axe-core at 390 (test_phone_layout.py walks the same pages in French)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from esante.records.models import CareRecord
from tests.accounts.conftest import activation_settings
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_narrow_tables import documents_holder, phone_page_of
from tests.practice.conftest import pro_provider
from tests.records.conftest import logged_in
from tests.servers import OidcProvider

__all__ = ["activation_settings", "pro_provider"]

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_HEIGHT = 844
WIDTHS = (320, 390)


def sideways(page: Page) -> list[str]:
    """The widths at which the page scrolls sideways, with the page's address."""
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
        scroll_width, inner_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        if scroll_width > inner_width:
            found.append(f"{page.url} is {scroll_width} px wide at {inner_width} px")
    return found


@pytest.mark.parametrize("locale", ["de-DE", "en-GB"])
def test_the_guides_pages_fit_a_phone_in_german_and_english(
    new_page: NewPage,
    live_server: LiveServer,
    assert_accessible: AssertAccessible,
    locale: str,
    pro_provider: OidcProvider,  # Connexion then names a provider in PROFESSIONNEL's button
) -> None:
    marc = documents_holder()
    record = CareRecord.objects.get(person=marc)
    anonymous = new_page(locale=locale, viewport={"width": 390, "height": PHONE_HEIGHT})
    patient = phone_page_of(
        logged_in(marc, "marc@example.lu", language=locale[:2]),
        new_page,
        live_server,
        locale=locale,
    )
    problems: list[str] = []

    def visit(page: Page, url: str | None = None) -> None:
        if url is not None:
            page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", locale[:2])
        problems.extend(sideways(page))
        page.set_viewport_size({"width": 390, "height": PHONE_HEIGHT})
        assert_accessible(page)

    for url in (
        "/",
        "/connexion/",
        "/connexion/#professionnel",
        "/activation/",
        "/connexion/patient/",
    ):
        visit(anonymous, url)
    visit(anonymous, reverse("patient:recovery"))
    visit(anonymous, "/cette-page-n-existe-pas/")

    # Step 1, past the CGU: its first field on the first screen, in the longer language too.
    anonymous.goto("/activation/")
    anonymous.locator("input[type=checkbox]").check()
    anonymous.locator("main button[type=submit]").first.click()
    first_field = anonymous.locator(".wizard-panel input[type=radio]").first
    expect(first_field).to_be_visible()
    visit(anonymous)
    anonymous.evaluate("window.scrollTo(0, 0)")
    box = first_field.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= PHONE_HEIGHT, f"step 1's first field at y = {box['y']}"

    for url in (
        reverse("patient:services"),
        reverse("records:record", args=[record.public_id]),
        reverse("fhir:export", args=[record.public_id]),  # « Télécharger mon dossier »
        reverse("patient:account"),
    ):
        visit(patient, url)
    # The Assistants panel with its add row open.
    visit(patient, reverse("records:record", args=[record.public_id]) + "?ajouter=1#assistants")

    assert not problems, "\n".join(problems)
