"""Passkeys in a real browser: chromium's virtual authenticator (DevTools' WebAuthn
domain) stands in for the fingerprint reader, answering create() and get() at once.

A key created in *Mon compte* (with the keyboard alone), then one created at activation
step 4, each then opens *Mes services eSanté* from *Connexion avec une clé d'accès* — no
password, no code; and a browser holding no key for the site sees its refusal as the
cancellation it is. axe-core on every page reached.
"""

from __future__ import annotations

import datetime
import re
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import CDPSession, Page, expect

from esante.accounts import reauth
from esante.accounts.models import Account, Passkey
from esante.audit.models import AuditEvent, EventType
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
    type_into,
)
from tests.e2e.test_minor_journey import log_in
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db(transaction=True)

KEY_NAME = "Ordinateur de test"
CANCELLED = "La connexion avec une clé d’accès a été annulée."


class Authenticator:
    """A platform authenticator (internal, resident keys, user verification) that
    chromium's DevTools add to the page's browser: it says yes without a prompt."""

    def __init__(self, page: Page) -> None:
        self.cdp: CDPSession = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")
        added = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        self.id: str = added["authenticatorId"]

    def credentials(self) -> list[dict[str, Any]]:
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})
        credentials: list[dict[str, Any]] = found["credentials"]
        return credentials


def log_out(page: Page, assert_accessible: AssertAccessible) -> None:
    page.get_by_role("button", name="Déconnexion").click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    assert_accessible(page)


def log_in_with_the_passkey(
    page: Page, assert_accessible: AssertAccessible, person: InsuredPerson
) -> None:
    """Connexion → PATIENT → Matricule, mot de passe et code → Connexion avec une clé
    d'accès: the virtual authenticator answers, Mes services eSanté opens."""
    page.get_by_role("link", name="Connexion").first.click()
    page.get_by_role("link", name="PATIENT", exact=True).click()
    expect(page).to_have_url(re.compile(r"/connexion/#patient$"))
    expect(page.get_by_role("heading", name="Connexion au DSP")).to_be_visible()
    page.get_by_role("link", name="Matricule, mot de passe et code").click()
    expect(page).to_have_url(re.compile(r"/connexion/patient/$"))
    button = page.get_by_role("button", name="Connexion avec une clé d'accès")
    expect(button).to_be_visible()
    assert_accessible(page)
    button.click()
    expect(page).to_have_url(re.compile(r"/mes-services/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes services eSanté")
    expect(page.get_by_text(f"Bienvenue, {person.full_name}.")).to_be_visible()
    assert_accessible(page)


def assert_logged_in_with_the_passkey(person: InsuredPerson) -> Passkey:
    passkey = Passkey.objects.get(account__person=person)
    assert passkey.last_used_at is not None
    event = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED, person=person).first()
    assert event is not None
    assert event.details["method"] == "passkey"
    return passkey


def test_a_passkey_made_in_mon_compte_logs_her_in_without_password_or_code(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    activate(Client(), alice, "alice@example.lu")
    page.goto("/")
    log_in(page, new_page, assert_accessible, alice, "alice@example.lu")

    page.get_by_role("link", name="Mon compte", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    passkeys = page.locator("#passkeys")
    expect(passkeys.get_by_role("heading", name="Clés d'accès")).to_be_visible()
    expect(passkeys.get_by_role("cell", name="Aucune clé d'accès.")).to_be_visible()
    name = passkeys.get_by_role("textbox", name="Nom de la clé d'accès (facultatif)")
    expect(name).to_be_visible()
    assert_accessible(page)

    # The keyboard alone: Tab to the name, type it, Enter submits the form.
    authenticator = Authenticator(page)
    type_into(page, name, KEY_NAME)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/mon-compte/#passkeys$"))
    # The same page with a fragment: passkeys.js reloads it, so the key and message show.
    expect(page.get_by_text(f"La clé d'accès « {KEY_NAME} » est enregistrée.")).to_be_visible()
    row = passkeys.get_by_role("row", name=re.compile(KEY_NAME))
    expect(row.get_by_role("cell").first).to_have_text(KEY_NAME)
    expect(row.get_by_role("cell").nth(2)).to_have_text("jamais")
    expect(passkeys.get_by_role("cell", name="Aucune clé d'accès.")).to_have_count(0)
    assert_accessible(page)
    [credential] = authenticator.credentials()
    assert credential["isResidentCredential"]
    registered = Passkey.objects.get(account__person=alice)
    assert (registered.name, registered.last_used_at) == (KEY_NAME, None)

    log_out(page, assert_accessible)
    log_in_with_the_passkey(page, assert_accessible, alice)

    used = assert_logged_in_with_the_passkey(alice)
    assert used.pk == registered.pk
    assert used.sign_count > registered.sign_count
    page.get_by_role("link", name="Mon compte", exact=True).click()
    expect(
        passkeys.get_by_role("row", name=re.compile(KEY_NAME)).get_by_role("cell").nth(2)
    ).not_to_have_text("jamais")
    assert_accessible(page)


def test_a_passkey_made_at_activation_step_4_logs_her_in(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    bea = make_person("Béatrice", "Weber", years_ago(35), sex="F")
    issue_letters([bea], actor="test")

    page.goto("/activation/")
    page.get_by_label("En cochant cette case, j'accepte les Conditions Générales").check()
    page.get_by_role("button", name="Activer mon compte").click()
    expect(current_step(page)).to_contain_text("Code d'activation")
    page.get_by_role("textbox", name="Matricule").fill(bea.matricule)
    page.get_by_role("textbox", name="Code d'activation").fill(letter_code(new_page, bea.matricule))
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Mot de passe")
    page.get_by_role("textbox", name="Votre mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("textbox", name="Confirmation de votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Sécurisation de votre compte")
    page.get_by_role("radio", name="E-mail").check()
    page.get_by_role("textbox", name="E-mail").fill("bea@example.lu")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_contain_text("*****@example.lu")
    page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail").fill(
        one_time_code(new_page, "bea@example.lu")
    )
    page.get_by_role("button", name="Valider").click()

    # Step 4: the passkey.
    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    section = page.locator("section.passkeys")
    expect(section.get_by_role("heading", name="Clé d'accès", exact=True)).to_be_visible()
    assert_accessible(page)
    authenticator = Authenticator(page)
    section.get_by_role("textbox", name="Nom de la clé d'accès (facultatif)").fill(KEY_NAME)
    section.get_by_role("button", name="Créer une clé d'accès").click()
    expect(page).to_have_url(re.compile(r"/activation/"))
    expect(page.get_by_text(f"La clé d'accès « {KEY_NAME} » est enregistrée.")).to_be_visible()
    expect(section.get_by_role("listitem")).to_have_text(f"{KEY_NAME} Enregistrée")
    expect(section.get_by_text("Enregistrée", exact=True)).to_be_visible()
    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    assert_accessible(page)
    assert len(authenticator.credentials()) == 1
    registered = Passkey.objects.get(account__person=bea)
    assert (registered.name, registered.last_used_at) == (KEY_NAME, None)

    # Step 5.
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Confirmation")
    expect(page.get_by_text("Votre activation est terminée !")).to_be_visible()
    assert_accessible(page)

    page.goto("/")
    log_in_with_the_passkey(page, assert_accessible, bea)
    used = assert_logged_in_with_the_passkey(bea)
    assert used.sign_count > registered.sign_count
    assert Account.objects.get(person=bea).email == "bea@example.lu"


def test_a_browser_without_a_passkey_for_the_site_shows_the_cancellation(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    page.goto("/connexion/patient/")
    authenticator = Authenticator(page)
    assert authenticator.credentials() == []
    form = page.locator("form[data-passkey-login]")
    button = form.get_by_role("button", name="Connexion avec une clé d'accès")
    button.click()

    expect(form.get_by_role("alert")).to_have_text(CANCELLED)
    expect(form.get_by_role("alert")).to_be_focused()
    expect(button).to_be_enabled()
    expect(page).to_have_url(re.compile(r"/connexion/patient/$"))
    assert_accessible(page)
    assert not AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).exists()

    # The page stays usable: the password form still works, and so does the button.
    page.get_by_role("textbox", name="Matricule").fill("1918090138700")
    press_button(page, button)
    expect(form.get_by_role("alert")).to_have_text(CANCELLED)


def second_factor_proven_long_ago(page: Page) -> None:
    """The browser's session proved its second factor 11 minutes ago (the server's
    session, aged: the live server and the browser keep the real clock)."""
    (cookie,) = [each for each in page.context.cookies() if each["name"] == "sessionid"]
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    proven = timezone.now() - reauth.FRESH_FOR - datetime.timedelta(minutes=1)
    store[reauth.SECOND_FACTOR_KEY] = proven.isoformat()
    store.save()


def test_a_passkey_confirms_her_identity_before_a_change_of_channel(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    """*Confirmez votre identité* (issue 13, item 3): later in the session, changing the
    code channel first asks for the second factor; her passkey answers, and she is back
    on the change she asked for."""
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    activate(Client(), alice, "alice@example.lu")
    page.goto("/")
    log_in(page, new_page, assert_accessible, alice, "alice@example.lu")
    Authenticator(page)
    page.goto("/mon-compte/")
    page.locator("#passkeys").get_by_role("button", name="Créer une clé d'accès").click()
    expect(page.get_by_text("La clé d'accès « Ma clé d'accès » est enregistrée.")).to_be_visible()

    second_factor_proven_long_ago(page)
    page.get_by_role("link", name="Changer le moyen de réception des codes").click()

    expect(page).to_have_url(re.compile(r"/mon-compte/confirmer/\?suivant="))
    expect(page.get_by_role("heading", name="Confirmez votre identité")).to_be_visible()
    expect(page.get_by_role("button", name="Recevoir un code")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer avec une clé d'accès").click()

    expect(page).to_have_url(re.compile(r"/mon-compte/contact/$"))
    assert_accessible(page)
    proof = AuditEvent.objects.get(event_type=EventType.STEP_UP_SUCCEEDED, person=alice)
    assert proof.details["method"] == "passkey"


def test_registering_the_same_authenticator_twice_is_told_in_french(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    """The browser refuses a second key from an authenticator that already holds one for
    the account (InvalidStateError): the page says so in French, not in the browser's
    English, and keeps the one key."""
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    activate(Client(), alice, "alice@example.lu")
    page.goto("/")
    log_in(page, new_page, assert_accessible, alice, "alice@example.lu")
    page.get_by_role("link", name="Mon compte", exact=True).click()
    authenticator = Authenticator(page)
    passkeys = page.locator("#passkeys")
    passkeys.get_by_role("button", name="Créer une clé d'accès").click()
    expect(page.get_by_text("La clé d'accès « ", exact=False)).to_be_visible()

    form = passkeys.locator("form[data-passkey-register]")
    button = form.get_by_role("button", name="Créer une clé d'accès")
    button.click()

    alert = form.get_by_role("alert")
    expect(alert).to_have_text(
        "Cette clé d’accès est déjà enregistrée pour votre compte sur cet appareil."
    )
    expect(alert).to_be_focused()
    expect(button).to_be_enabled()
    assert_accessible(page)
    assert len(authenticator.credentials()) == 1
    assert Passkey.objects.filter(account__person=alice).count() == 1
