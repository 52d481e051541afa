"""The guide's activation journey (pages 3 to 10) in a real browser, in French.

From the home page, reading the letter's code and the one-time code from the dev outbox
as someone trying the demo would; axe-core on every page reached. The adult's journey
uses the mouse; the minor's uses the keyboard alone (Tab to move, typing, Space and
Enter to act).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from captcha.conf import settings as captcha_settings
from playwright.sync_api import Locator, Page, expect

from esante.accounts.models import Account
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson
from tests.e2e.harness import AssertAccessible, NewPage
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Printemps à Clervaux 2025"


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
    # ESANTE_CAPTCHA_TEST_MODE=1 for this run: django-simple-captcha reads it at import.
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


def outbox(new_page: NewPage) -> list[dict[str, Any]]:
    """The dev outbox, read in another tab as a person trying the demo would."""
    reader = new_page()
    reader.goto("/dev/outbox.json")
    messages: list[dict[str, Any]] = json.loads(reader.locator("body").inner_text())
    reader.close()
    return messages


def letter_code(new_page: NewPage, matricule: str) -> str:
    letter = next(
        message
        for message in outbox(new_page)
        if message["channel"] == "letter" and matricule in message["body"]
    )
    found = re.search(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b", letter["body"])
    assert found
    return found.group()


def one_time_code(new_page: NewPage, recipient: str) -> str:
    message = next(message for message in outbox(new_page) if message["recipient"] == recipient)
    found = re.search(r"\b\d{6}\b", message["body"])
    assert found
    return found.group()


def current_step(page: Page) -> Locator:
    return page.locator('[aria-current="step"]')


def test_an_adult_activates_her_account_from_the_home_page(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    issue_letters([alice], actor="test")

    page.goto("/")
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_text("PATIENTS").click()
    menu.get_by_role("link", name="ACTIVATION COMPTE ESANTE").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ACTIVATION DE MON COMPTE ESANTÉ")
    assert_accessible(page)

    # The CGU must be accepted first.
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page.get_by_role("alert")).to_contain_text("cochez la case")
    expect(page.get_by_label("En cochant cette case")).to_have_accessible_description(
        re.compile("^Pour activer votre compte, cochez la case")
    )
    assert_accessible(page)
    page.get_by_label("En cochant cette case, j'accepte les Conditions Générales").check()
    page.get_by_role("button", name="Activer mon compte").click()

    # Step 1.
    expect(current_step(page)).to_contain_text("Code d'activation")
    expect(page.get_by_role("radio", name="Oui")).to_be_checked()
    assert_accessible(page)
    page.get_by_role("textbox", name="Matricule").fill(alice.matricule)
    page.get_by_role("textbox", name="Code d'activation").fill("AAAA-AAAA-AAAA")
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Le matricule ou le code d'activation est incorrect."
    )
    assert_accessible(page)
    page.get_by_role("textbox", name="Code d'activation").fill(
        letter_code(new_page, alice.matricule).lower()
    )
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()

    # Step 2.
    expect(current_step(page)).to_contain_text("Mot de passe")
    expect(page.get_by_text("Le mot de passe doit faire au minimum 8 caractères")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("textbox", name="Votre mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("textbox", name="Confirmation de votre mot de passe").fill(PASSWORD)
    expect(
        page.get_by_role("textbox", name="Votre mot de passe", exact=True)
    ).to_have_accessible_description(re.compile("^Le mot de passe doit faire au minimum"))
    # A toggle button: its label stays, aria-pressed says the passwords are shown.
    toggle = page.get_by_role("button", name="Afficher le mot de passe")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(page.get_by_role("textbox", name="Votre mot de passe", exact=True)).to_have_attribute(
        "type", "text"
    )
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_have_text("Afficher le mot de passe")
    page.get_by_role("button", name="Etape suivante").click()

    # Step 3: the channel, then the code.
    expect(current_step(page)).to_contain_text("Sécurisation de votre compte")
    assert_accessible(page)
    expect(page.get_by_text("Mobile *", exact=True)).to_be_visible()
    page.get_by_role("radio", name="E-mail").check()
    expect(page.get_by_role("textbox", name="Mobile")).to_be_hidden()
    expect(page.get_by_role("textbox", name="E-mail")).to_have_attribute("aria-required", "true")
    page.get_by_role("textbox", name="E-mail").fill("alice.martin@example.lu")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Le code a été envoyé à l'adresse *****@example.lu, il est valable pendant 15min."
    )
    assert_accessible(page)
    page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail").fill(
        one_time_code(new_page, "alice.martin@example.lu")
    )
    page.get_by_role("button", name="Valider").click()

    # Step 4, then 5.
    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    expect(
        page.get_by_role("heading", name=re.compile("Associer un produit LuxTrust"))
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Confirmation")
    expect(page.get_by_text("Votre activation est terminée !")).to_be_visible()
    expect(page.get_by_text("Vous pouvez vous connecter à votre DSP.")).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_role("main").get_by_role("link", name="Connexion")).to_be_visible()

    account = Account.objects.get(person=alice)
    assert account.email == "alice.martin@example.lu"


def tab_to(page: Page, target: Locator, *, limit: int = 80) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _press in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} cannot be reached with the Tab key")


def type_into(page: Page, target: Locator, text: str) -> None:
    tab_to(page, target)
    page.keyboard.type(text)


def press_button(page: Page, target: Locator, key: str = "Enter") -> None:
    tab_to(page, target)
    page.keyboard.press(key)


def test_a_parent_activates_a_minors_account_with_the_keyboard_alone(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    make_person("Bob", "Martin", years_ago(44), sex="M")
    lea: InsuredPerson = make_person("Léa", "Martin", years_ago(9), sex="F")
    issue_letters([lea], actor="test")
    code = letter_code(new_page, lea.matricule)

    page.goto("/activation/")
    assert_accessible(page)
    press_button(page, page.get_by_label("En cochant cette case"), key="Space")
    expect(page.get_by_label("En cochant cette case")).to_be_checked()
    press_button(page, page.get_by_role("button", name="Activer mon compte"))

    expect(current_step(page)).to_contain_text("Code d'activation")
    assert_accessible(page)
    type_into(page, page.get_by_role("textbox", name="Matricule"), lea.matricule)
    type_into(page, page.get_by_role("textbox", name="Code d'activation"), code)
    type_into(page, page.get_by_role("textbox", name="Chiffres du captcha"), "PASSED")
    page.keyboard.press("Enter")

    expect(current_step(page)).to_contain_text("Mot de passe")
    expect(
        page.get_by_role("heading", name="Vous activez le compte d'un enfant mineur")
    ).to_be_visible()
    expect(page.get_by_text("Assistant DSP").first).to_be_visible()
    assert_accessible(page)
    type_into(
        page, page.get_by_role("textbox", name="Le mot de passe de Léa", exact=True), PASSWORD
    )
    type_into(
        page, page.get_by_role("textbox", name="Confirmation du mot de passe de Léa"), PASSWORD
    )
    press_button(page, page.get_by_role("button", name="Etape suivante"))

    expect(current_step(page)).to_contain_text("Sécurisation du compte de Léa")
    expect(page.get_by_role("radio", name="Mobile")).to_be_checked()
    assert_accessible(page)
    type_into(page, page.get_by_role("textbox", name="Mobile"), "621 234 567")
    press_button(page, page.get_by_role("button", name="Valider"))

    expect(page.get_by_role("status")).to_contain_text("+352 *** *** 567")
    assert_accessible(page)
    type_into(
        page,
        page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail"),
        one_time_code(new_page, "+352621234567"),
    )
    page.keyboard.press("Enter")

    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    assert_accessible(page)
    press_button(page, page.get_by_role("button", name="Etape suivante"))
    expect(page.get_by_text("L'activation du compte de Léa est terminée !")).to_be_visible()
    assert_accessible(page)

    account = Account.objects.get(person=lea)
    assert account.phone == "+352621234567"


def test_step_1_works_without_javascript(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    without_js = new_page(java_script_enabled=False)
    without_js.goto("/activation/")
    without_js.get_by_label("En cochant cette case").check()
    without_js.get_by_role("button", name="Activer mon compte").click()

    without_js.get_by_role("radio", name="Non").check()
    without_js.get_by_role("button", name="Afficher").click()

    expect(without_js).to_have_url(re.compile(r"/activation/etape-1/\?recu=non$"))
    expect(without_js.get_by_role("button", name="Demander un nouveau courrier")).to_be_visible()
    expect(without_js.get_by_role("button", name="Etape suivante")).to_be_hidden()

    # axe-core needs JavaScript: the same page, in a browser that runs it.
    page.goto("/activation/")
    page.get_by_label("En cochant cette case").check()
    page.get_by_role("button", name="Activer mon compte").click()
    page.goto("/activation/etape-1/?recu=non")
    expect(page.get_by_role("button", name="Demander un nouveau courrier")).to_be_visible()
    assert_accessible(page)
    # With JavaScript the choice needs no button: the panels switch at once.
    expect(page.get_by_role("button", name="Afficher")).to_be_hidden()
    page.get_by_role("radio", name="Oui").check()
    expect(page.get_by_role("button", name="Etape suivante")).to_be_visible()
