"""The frame's parts kept per process (portal/base.html, the "frame" cache): the same for
every visitor of a language, never one person's, and rendered again when a setting
changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings
from tests.records.conftest import logged_in

__all__ = ["activation_settings"]  # the activation's settings for logged_in()

pytestmark = pytest.mark.django_db

ACTIVATE_IN_FOOTER = ">Activer mon compte eSanté</a>"


def footer(html: str) -> str:
    return html[html.index('<footer class="site-footer">') :]


def test_the_footer_follows_the_visitor_and_the_patient(alice: InsuredPerson) -> None:
    visitor = Client()
    assert ACTIVATE_IN_FOOTER in footer(visitor.get("/").content.decode())
    patient = logged_in(alice, "alice@example.lu")
    assert ACTIVATE_IN_FOOTER not in footer(patient.get("/").content.decode())
    assert ACTIVATE_IN_FOOTER in footer(visitor.get("/").content.decode())


def test_each_language_its_own_parts() -> None:
    pages = {}
    for language in ("fr", "de", "en"):
        client = Client()
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        pages[language] = client.get("/activation/").content.decode()
    assert "Contactez notre helpdesk" in pages["fr"]
    assert "Contactez" not in pages["de"] and "Contactez" not in pages["en"]
    for language, html in pages.items():
        # The menu's buttons: the page's language is the current one.
        assert f'value="{language}" lang="{language}" aria-current="true"' in html
        # The PATIENTS menu marks the page shown.
        assert 'href="/activation/" aria-current="page"' in html


def test_the_menu_marks_the_page_shown() -> None:
    client = Client()
    client.get("/activation/")
    html = client.get("/teleconsultation/").content.decode()
    assert 'href="/teleconsultation/" aria-current="page"' in html
    assert 'href="/activation/" aria-current="page"' not in html


def test_a_changed_setting_is_printed(settings: Any) -> None:
    Client().get("/")  # the parts kept with the number of the settings
    settings.ESANTE_HELPDESK_PHONE = "(+352) 27 12 50 18 99"
    html = Client().get("/").content.decode()
    assert html.count("(+352) 27 12 50 18 99") >= 2  # the top bar's and the footer's
