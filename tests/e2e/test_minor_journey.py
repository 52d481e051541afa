"""The guide's minor journey (pages 14 to 17) in a real browser, in French.

Léa, 9, has her account activated with her mother's e-mail; logged in as Léa, her mother
adds herself as Léa's assistant DSP in the record's *Assistants* panel (Ajouter, Numéro
assuré, Rechercher, the name, Type, ✓), then, logged in as herself, opens Léa's record
from *Accéder aux autres dossiers patient* and comes back to her own. axe-core on every
page reached. The journey uses the mouse; the panel is then worked with the keyboard
alone (Tab to move, typing, Space, Enter and the arrow keys to act).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from esante.records.models import Assistant, AssistantType
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings  # noqa: F401 - autouse
from tests.accounts.wizard import PASSWORD, activate
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_activation import (
    current_step,
    letter_code,
    one_time_code,
    press_button,
    tab_to,
    type_into,
)
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db(transaction=True)

PARENT_EMAIL = "alice@example.lu"


def expect_named_for(page: Page, first_name: str) -> None:
    """A page of a minor's activation: its title and heading name the child."""
    account = f"Activation du compte eSanté de {first_name}"
    expect(page.get_by_role("heading", level=1)).to_have_text(account)
    expect(page).to_have_title(re.compile(re.escape(f"· {account} ·")))


def log_in(
    page: Page,
    new_page: NewPage,
    assert_accessible: AssertAccessible,
    person: InsuredPerson,
    email: str,
) -> None:
    """Connexion → PATIENT → matricule, password, the code from the dev outbox."""
    page.get_by_role("link", name="Connexion").first.click()
    page.get_by_role("link", name="PATIENT", exact=True).click()
    expect(page).to_have_url(re.compile(r"/connexion/#patient$"))
    expect(page.get_by_role("heading", name="Connexion au DSP")).to_be_visible()
    expect(page.locator("#patient")).to_be_focused()  # visibly chosen, even in view
    assert_accessible(page)
    page.get_by_role("link", name="Matricule, mot de passe et code").click()
    assert_accessible(page)
    page.get_by_role("textbox", name="Matricule").fill(person.matricule)
    page.get_by_role("textbox", name="Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("status")).to_contain_text("*****@example.lu")
    assert_accessible(page)
    page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail").fill(
        one_time_code(new_page, email)
    )
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes services eSanté")
    expect(page.get_by_text(f"Bienvenue, {person.full_name}.")).to_be_visible()
    # Services not open yet: a heading that says so, no link (issue 14, point 4).
    expect(
        page.get_by_role("heading", name="Carnet de vaccination électronique Bientôt disponible")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Carnet de vaccination électronique")).to_have_count(0)
    assert_accessible(page)


def test_a_parent_becomes_her_childs_assistant_and_opens_the_childs_record(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    lea = make_person("Léa", "Martin", years_ago(9), sex="F")
    # The parent's own account is activated already (the adult's journey is
    # test_activation's); the child's, with the parent's e-mail, in the browser.
    activate(Client(), alice, PARENT_EMAIL)
    issue_letters([lea], actor="test")

    # Léa's account (guide p. 14: the minor's activation, the parent's e-mail).
    page.goto("/activation/")
    assert_accessible(page)
    page.get_by_label("En cochant cette case, j'accepte les Conditions Générales").check()
    page.get_by_role("button", name="Activer mon compte").click()
    expect(current_step(page)).to_contain_text("Code d'activation")
    assert_accessible(page)
    page.get_by_role("textbox", name="Matricule").fill(lea.matricule)
    page.get_by_role("textbox", name="Code d'activation").fill(letter_code(new_page, lea.matricule))
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Mot de passe")
    expect(
        page.get_by_role("heading", name="Vous activez le compte d'un enfant mineur")
    ).to_be_visible()
    # From here on, every page names the child (issue 14, point 9).
    expect_named_for(page, "Léa")
    assert_accessible(page)
    page.get_by_role("textbox", name="Le mot de passe de Léa", exact=True).fill(PASSWORD)
    page.get_by_role("textbox", name="Confirmation du mot de passe de Léa").fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Sécurisation du compte de Léa")
    expect(
        page.get_by_role("heading", level=2, name="Etape 3 Sécurisation du compte de Léa")
    ).to_be_visible()
    expect_named_for(page, "Léa")
    assert_accessible(page)
    page.get_by_role("radio", name="E-mail").check()
    page.get_by_role("textbox", name="E-mail").fill(PARENT_EMAIL)
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_contain_text("*****@example.lu")
    assert_accessible(page)
    page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail").fill(
        one_time_code(new_page, PARENT_EMAIL)
    )
    page.get_by_role("button", name="Valider").click()
    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    expect_named_for(page, "Léa")
    assert_accessible(page)
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_text("L'activation du compte de Léa est terminée !")).to_be_visible()
    expect(page.get_by_text("Vous pouvez vous connecter au DSP de Léa.")).to_be_visible()
    expect_named_for(page, "Léa")
    assert_accessible(page)

    # Logged in as Léa: Mes services eSanté → Mon DSP (a minor is not asked about organs).
    log_in(page, new_page, assert_accessible, lea, PARENT_EMAIL)
    page.get_by_role("link", name="Mon DSP").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Martin Léa (9 ans)")
    assistants = page.locator("#assistants")
    expect(assistants.get_by_role("heading", name="Assistants")).to_be_visible()
    expect(assistants.get_by_role("row").first).to_have_text(
        re.compile(r"Nom\s*Type\s*Rôle\s*Contact")
    )
    expect(
        assistants.get_by_role("cell", name="Aucune donnée disponible dans le tableau")
    ).to_be_visible()
    assert_accessible(page)

    # Guide pp. 15-16: Ajouter, Numéro assuré, Rechercher, the name, Type, ✓.
    page.get_by_role("link", name="Ajouter", exact=True).click()
    expect(page).to_have_url(re.compile(r"\?ajouter=1#assistants$"))
    expect(
        assistants.get_by_role("cell", name="Aucune donnée disponible dans le tableau")
    ).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("textbox", name="Numéro assuré").fill(alice.matricule)
    page.get_by_role("button", name="Rechercher").click()
    found = page.get_by_role("radio", name=alice.public_label)
    expect(found).to_be_visible()
    expect(page.get_by_text("Alice")).to_have_count(0)  # shown minimally: "A Martin (…)"
    assert_accessible(page)
    page.get_by_text(alice.public_label).click()
    expect(found).to_be_checked()
    page.get_by_role("combobox", name="Type").select_option(label="Assistant DSP")
    expect(page.get_by_role("textbox", name="Rôle")).to_have_value("")
    page.get_by_role("button", name="Confirmer l'ajout").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"{alice.public_label} est maintenant assistant DSP de ce dossier."
    )
    # The page opens at the message, which has the focus: where the eye is.
    expect(page).to_have_url(re.compile(r"#messages$"))
    expect(page.get_by_role("status")).to_be_focused()
    expect(page.get_by_role("status")).to_be_in_viewport()
    added = assistants.get_by_role("row", name=re.compile(re.escape(alice.public_label)))
    expect(added.get_by_role("cell")).to_have_text(
        [alice.public_label, "Assistant DSP", "", "E-mail", re.compile("Retirer")]
    )
    assert_accessible(page)

    # Guide p. 17: logged in as herself, the parent opens Léa's record and comes back.
    page.get_by_role("button", name="Déconnexion").click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    assert_accessible(page)
    log_in(page, new_page, assert_accessible, alice, PARENT_EMAIL)
    page.get_by_role("link", name="Mon DSP").click()
    expect(page.get_by_role("heading", name="Déclaration de don d'organes")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Oui, j'accepte").check()
    page.get_by_role("button", name="Enregistrer ma réponse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Martin Alice (41 ans)")
    assert_accessible(page)
    page.get_by_role("link", name="Accéder aux autres dossiers patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accéder aux autres dossiers patient")
    assert_accessible(page)
    page.get_by_role("link", name="Léa Martin (9 ans)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Martin Léa (9 ans)")
    banner = page.get_by_role("region", name="Dossier consulté en tant qu’assistant")
    expect(banner).to_contain_text(
        "Vous consultez le dossier de Léa Martin en tant qu'assistant DSP"
    )
    expect(
        page.locator("#assistants").get_by_role("cell", name=alice.public_label, exact=True)
    ).to_be_visible()
    assert_accessible(page)
    banner.get_by_role("link", name="Retour à mon DSP").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Martin Alice (41 ans)")
    expect(banner).to_have_count(0)
    assert_accessible(page)

    row = Assistant.objects.get(record__person=lea)
    assert (row.person, row.role, row.added_by, row.during_minority) == (alice, "", lea, True)


def test_the_assistants_panel_works_with_the_keyboard_alone(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    lea = make_person("Léa", "Martin", years_ago(9), sex="F")
    activate(Client(), alice, PARENT_EMAIL)
    activate(Client(), lea, PARENT_EMAIL)
    page.goto("/")
    log_in(page, new_page, assert_accessible, lea, PARENT_EMAIL)

    press_button(page, page.get_by_role("link", name="Mon DSP"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Martin Léa (9 ans)")
    assert_accessible(page)
    press_button(page, page.get_by_role("link", name="Ajouter", exact=True))
    expect(page).to_have_url(re.compile(r"\?ajouter=1#assistants$"))
    assert_accessible(page)
    type_into(page, page.get_by_role("textbox", name="Numéro assuré"), alice.matricule)
    press_button(page, page.get_by_role("button", name="Rechercher"))

    found = page.get_by_role("radio", name=alice.public_label)
    expect(found).to_be_visible()
    assert_accessible(page)
    press_button(page, found, key="Space")
    expect(found).to_be_checked()
    kind = page.get_by_role("combobox", name="Type")
    tab_to(page, kind)
    page.keyboard.press("ArrowDown")
    expect(kind).to_have_value(AssistantType.ASSISTANT_DSP)
    press_button(page, page.get_by_role("button", name="Confirmer l'ajout"))

    expect(page.get_by_role("status")).to_contain_text(
        f"{alice.public_label} est maintenant assistant DSP de ce dossier."
    )
    expect(page.get_by_role("status")).to_be_focused()
    added = page.locator("#assistants").get_by_role(
        "row", name=re.compile(re.escape(alice.public_label))
    )
    expect(added.get_by_role("cell").nth(1)).to_have_text("Assistant DSP")
    assert_accessible(page)
    assert Assistant.objects.filter(record__person=lea, person=alice).exists()
