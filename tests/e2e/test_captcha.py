"""The captcha in a real browser, on the test-only form: axe, refresh with and without JS."""

from __future__ import annotations

import re

import pytest
from captcha.models import CaptchaStore
from playwright.sync_api import Page, expect

from tests.e2e.harness import AssertAccessible, NewPage
from tests.portal.captcha_urls import URL

pytestmark = pytest.mark.urls("tests.portal.captcha_urls")

MATRICULE = "1985061512345"


def answer_shown(page: Page) -> str:
    key = page.locator('input[name="captcha_0"]').input_value()
    return str(CaptchaStore.objects.get(hashkey=key).response)


def test_the_captcha_is_accessible_and_refreshes_in_place(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    page.goto(URL)
    assert_accessible(page)
    image = page.get_by_role("img", name="Image du captcha : des chiffres à recopier")
    old_src = image.get_attribute("src")
    old_key = page.locator('input[name="captcha_0"]').input_value()
    page.get_by_label("Matricule").fill(MATRICULE)
    page.get_by_label("Chiffres du captcha").fill("999")
    # With the keyboard: from the matricule, Tab reaches the refresh button.
    page.get_by_label("Matricule").focus()
    page.keyboard.press("Tab")
    refresh = page.get_by_role("button", name="Nouveau captcha")
    expect(refresh).to_be_focused()
    page.keyboard.press("Enter")

    expect(image).not_to_have_attribute("src", old_src or "")
    new_key = page.locator('input[name="captcha_0"]').input_value()
    assert new_key != old_key
    expect(image).to_have_attribute("src", f"/captcha/image/{new_key}/")
    audio_url = f"/captcha/audio/{new_key}.wav"
    expect(page.locator("audio")).to_have_attribute("src", audio_url)
    expect(page.get_by_role("link", name="Télécharger la version audio (WAV)")).to_have_attribute(
        "href", audio_url
    )
    answer = page.get_by_label("Chiffres du captcha")
    expect(answer).to_be_focused()
    expect(answer).to_have_value("")
    expect(page.get_by_role("status")).to_have_text(
        "Nouveau captcha affiché : nouvelle image et nouvelle version audio."
    )
    # No page load: what was typed is still there, and the new image did load.
    expect(page.get_by_label("Matricule")).to_have_value(MATRICULE)
    loaded_width = image.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(
            resolve => img.addEventListener("load", () => resolve(img.naturalWidth))
        )"""
    )
    assert loaded_width == 200
    audio = page.request.get(audio_url)
    assert audio.ok and audio.headers["content-type"] == "audio/wav"
    assert_accessible(page)

    answer.fill(answer_shown(page))
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text(f"Formulaire accepté pour {MATRICULE}.")).to_be_visible()


def test_a_wrong_answer_is_shown_accessibly(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    page.goto(URL)
    page.get_by_label("Matricule").fill(MATRICULE)
    page.get_by_label("Chiffres du captcha").fill("x")
    page.get_by_role("button", name="Envoyer").click()
    message = "Le captcha ne correspond pas. Recopiez les chiffres de la nouvelle image."
    expect(page.get_by_text(message)).to_be_visible()
    expect(page.get_by_label("Chiffres du captcha")).to_have_accessible_description(
        re.compile(re.escape(message))
    )
    assert_accessible(page)


def test_the_captcha_works_without_javascript(new_page: NewPage) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(URL)
    image = page.get_by_role("img", name="Image du captcha : des chiffres à recopier")
    old_src = image.get_attribute("src")
    page.get_by_label("Matricule").fill(MATRICULE)
    # The refresh button submits the form (formnovalidate: the answer may stay empty).
    with page.expect_navigation():
        page.get_by_role("button", name="Nouveau captcha").click()
    expect(image).not_to_have_attribute("src", old_src or "")
    expect(page.get_by_label("Matricule")).to_have_value(MATRICULE)
    expect(page.locator(".errorlist")).to_have_count(0)
    # Enter in a field submits the form, not the refresh button that comes first.
    page.get_by_label("Chiffres du captcha").fill(answer_shown(page))
    page.get_by_label("Matricule").press("Enter")
    expect(page.get_by_text(f"Formulaire accepté pour {MATRICULE}.")).to_be_visible()


def test_the_captcha_fits_the_smallest_screen(page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(URL)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320


def test_when_the_refresh_request_fails_the_button_submits_the_form(page: Page) -> None:
    page.route("**/captcha/refresh/", lambda route: route.abort())
    page.goto(URL)
    old_key = page.locator('input[name="captcha_0"]').input_value()
    page.get_by_label("Matricule").fill(MATRICULE)
    with page.expect_navigation():
        page.get_by_role("button", name="Nouveau captcha").click()
    expect(page.locator('input[name="captcha_0"]')).not_to_have_value(old_key)
    expect(page.get_by_label("Matricule")).to_have_value(MATRICULE)


def test_the_browser_can_play_the_audio(page: Page) -> None:
    page.goto(URL)
    duration = page.locator("audio").evaluate(
        """audio => new Promise((resolve, reject) => {
            audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
            audio.addEventListener("error", () => reject(new Error("cannot decode")));
            audio.preload = "metadata";
            audio.load();
        })"""
    )
    # Five digits of about half a second each, with pauses between them.
    assert 3 < duration < 10
