"""The tables on a phone (390 × 844): the DSP's documents, the Assistants panel's add row
and *Mon compte*'s sessions become stacked rows, each value labelled by its column; no
sideways scrolling, and every action (Afficher, Télécharger, ✓, ✗, Déconnecter) in view."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from esante.demo.documents import load_demo_documents
from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings
from tests.accounts.test_my_account import CHROME_ON_ANDROID
from tests.accounts.wizard import PASSWORD, activate, last_one_time_code
from tests.e2e.harness import AssertAccessible, NewPage
from tests.factories import make_person
from tests.records.conftest import logged_in

__all__ = ["activation_settings"]

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def phone_page_of(
    client: Client, new_page: NewPage, live_server: LiveServer, **options: Any
) -> Page:
    """A phone-sized browser holding the session of `client` (logged in by the test)."""
    page = new_page(**({"viewport": PHONE, "user_agent": CHROME_ON_ANDROID} | options))
    page.context.add_cookies(
        [
            {"name": name, "value": morsel.value, "url": live_server.url}
            for name, morsel in client.cookies.items()
        ]
    )
    return page


def assert_no_sideways_scrolling(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth, location.href]"
    )
    assert widths[0] <= widths[1], f"{widths[2]} is {widths[0]} px wide at {widths[1]} px"


def assert_in_view(target: Locator) -> None:
    """Visible and wholly within the page's width (not cut off inside a scrolled table)."""
    expect(target).to_be_visible()
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    width = target.page.evaluate("() => window.innerWidth")
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{target} at {box}"


def documents_holder() -> InsuredPerson:
    """Marc Schmit, with the demo's documents (long titles, long authors) in his DSP."""
    marc = make_person("Marc", "Schmit", datetime.date(1980, 6, 14), sex="M")
    load_demo_documents([marc])
    return marc


def test_the_dsp_documents_and_the_assistants_add_row_fit_a_phone(
    new_page: NewPage, live_server: LiveServer, assert_accessible: AssertAccessible
) -> None:
    marc = documents_holder()
    claire = make_person("Claire", "Schmit-Hoffmann", datetime.date(1982, 2, 3), sex="F")
    activate(Client(), claire, "claire@example.lu")
    page = phone_page_of(logged_in(marc, "marc@example.lu"), new_page, live_server)
    record = CareRecord.objects.get(person=marc)

    page.goto(reverse("records:record", args=[record.public_id]))
    documents = page.locator("#documents tbody tr")
    expect(documents.first).to_be_visible()
    assert_no_sideways_scrolling(page)
    first = documents.first
    assert_in_view(first.get_by_role("link", name="Afficher"))
    assert_in_view(first.get_by_role("link", name="Télécharger"))
    # Each value keeps its column's name on screen, as the header row is out of sight.
    expect(first.locator("td").nth(3)).to_have_attribute("data-label", "Auteur ou source")
    assert_accessible(page)

    page.get_by_role("link", name="Ajouter", exact=True).click()
    page.get_by_role("textbox", name="Numéro assuré").fill(claire.matricule)
    page.get_by_role("button", name="Rechercher").click()
    add_row = page.locator("tr.assistant-new")
    expect(add_row.get_by_label(claire.public_label)).to_be_visible()
    assert_no_sideways_scrolling(page)
    assert_in_view(add_row.get_by_label("Type"))
    assert_in_view(add_row.get_by_label("Rôle"))
    assert_in_view(add_row.get_by_role("button", name="Confirmer l'ajout"))
    assert_in_view(add_row.get_by_role("link", name="Annuler l'ajout"))
    assert_accessible(page)


@pytest.mark.parametrize(
    ("locale", "author", "show", "download"),
    [
        ("de-DE", "Autor oder Quelle", "Anzeigen", "Herunterladen"),
        ("en-GB", "Author or source", "Show", "Download"),
    ],
)
def test_the_stacked_documents_read_in_german_and_english_down_to_320_px(
    new_page: NewPage,
    live_server: LiveServer,
    assert_accessible: AssertAccessible,
    locale: str,
    author: str,
    show: str,
    download: str,
) -> None:
    marc = documents_holder()
    client = logged_in(marc, "marc@example.lu", language=locale[:2])
    record = CareRecord.objects.get(person=marc)

    for width in (390, 320):
        page = phone_page_of(
            client, new_page, live_server, locale=locale, viewport={"width": width, "height": 700}
        )
        page.goto(reverse("records:record", args=[record.public_id]))
        first = page.locator("#documents tbody tr").first
        expect(first.locator("td").nth(3)).to_have_attribute("data-label", author)
        assert_no_sideways_scrolling(page)
        assert_in_view(first.get_by_role("link", name=show))
        assert_in_view(first.get_by_role("link", name=download))
        assert_accessible(page)


def test_mon_compte_sessions_fit_a_phone(
    new_page: NewPage, live_server: LiveServer, assert_accessible: AssertAccessible
) -> None:
    marc = make_person("Marc", "Schmit", datetime.date(1980, 6, 14), sex="M")
    page = phone_page_of(logged_in(marc, "marc@example.lu"), new_page, live_server)
    # A second session, from a phone: both are listed, each with its Déconnecter.
    other = Client(headers={"User-Agent": CHROME_ON_ANDROID})
    other.post(reverse("patient:login"), {"matricule": marc.matricule, "password": PASSWORD})
    other.post(reverse("patient:login_code"), {"code": last_one_time_code("marc@example.lu")})

    page.goto(reverse("patient:account"))
    sessions = page.get_by_role("table", name="Appareils connectés à votre compte")
    expect(sessions.get_by_text("Chrome sur Android")).to_be_visible()
    assert_no_sideways_scrolling(page)
    buttons = sessions.get_by_role("button", name="Déconnecter")
    expect(buttons).to_have_count(2)
    for button in buttons.all():
        assert_in_view(button)
    expect(sessions.locator("td").first).to_have_attribute("data-label", "Appareil")
    assert_accessible(page)
