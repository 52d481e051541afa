"""Errors in a real browser (issue 14, point 12): every invalid field is marked for the
eye and for assistive technology, and listed at the top of the form with a link to it;
PATIENT on *Connexion* visibly leads to the patient's means."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from captcha.conf import settings as captcha_settings
from playwright.sync_api import Page, expect

from tests.e2e.harness import AssertAccessible, NewPage

pytestmark = pytest.mark.django_db(transaction=True)

ACCENT = "rgb(200, 16, 46)"  # portal.css --accent


@pytest.fixture(autouse=True)
def demo(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ESANTE_DEMO = True
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


def step_1(page: Page) -> None:
    page.goto("/activation/")
    page.get_by_label("En cochant cette case, j'accepte les Conditions Générales").check()
    page.get_by_role("button", name="Activer mon compte").click()


def test_every_invalid_field_of_step_1_is_marked_described_and_listed(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    step_1(page)
    page.get_by_role("textbox", name="Matricule").fill("19850412")
    page.get_by_role("textbox", name="Code d'activation").fill("K7QO-4XPI-9TRE")
    page.get_by_role("button", name="Etape suivante").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    fields = [  # the field, its link in the summary, its error
        ("Matricule", "Matricule", "Le matricule compte 11 ou 13 chiffres ; vous en avez saisi 8."),
        (
            "Code d'activation",
            "Code d'activation",
            "Le code ne contient jamais les caractères O, I : vérifiez votre courrier.",
        ),
        ("Chiffres du captcha", "Captcha", "Recopiez les chiffres du captcha."),
    ]
    for name, link_name, error in fields:
        field = page.get_by_role("textbox", name=name)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile(re.escape(error)))
        # Not by colour alone: the field's block has a bar, the input a thicker border.
        expect(field).to_have_css("border-top-color", ACCENT)
        block = field.locator("xpath=ancestor::div[contains(@class, 'field-invalid')][1]")
        expect(block).to_have_css("border-left-width", "5px")
        expect(block).to_have_css("border-left-color", ACCENT)
        summary.get_by_role("link", name=link_name, exact=True).click()
        expect(field).to_be_focused()
    assert_accessible(page)


def test_the_helpdesk_marks_its_invalid_fields_too(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    page.goto("/helpdesk/")
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("alert")).to_be_focused()
    for name in ("Identifiant", "Mot de passe"):
        field = page.get_by_role("textbox", name=name, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_css("border-top-color", ACCENT)
        expect(page.get_by_role("alert").get_by_role("link", name=name)).to_be_visible()
    assert_accessible(page)


def test_patient_on_connexion_frames_and_focuses_the_patients_means(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    page.goto("/connexion/")
    means = page.locator("#patient")
    expect(means).to_have_css("border-top-width", "0px")

    page.get_by_role("link", name="PATIENT", exact=True).click()

    expect(means).to_be_focused()
    expect(means).to_have_css("border-top-width", "3px")
    expect(means).to_be_in_viewport()
    assert_accessible(page)
    expect(page.get_by_role("heading", name="Pas encore de compte ?")).to_be_visible()


def test_without_javascript_a_fragment_still_brings_the_focus(new_page: NewPage) -> None:
    """What the assistant's success message (#messages) relies on too: the browser
    focuses the element a link's fragment names when it has tabindex="-1"."""
    page = new_page(java_script_enabled=False)
    page.goto("/connexion/")

    page.get_by_role("link", name="PATIENT", exact=True).click()

    expect(page.locator("#patient")).to_be_focused()
    expect(page.locator("#patient")).to_have_css("border-top-width", "3px")
