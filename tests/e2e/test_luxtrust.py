"""LuxTrust in a real browser, through a real OpenID Connect provider process
(oidc-provider-mock, the `oidc_provider` fixture): linking it at the activation's step 4
then logging in with it (no one-time code), cancelling at the provider, and activating
without a letter. The provider's own page is not ours: it is filled in, never checked
with axe; every page of ours is.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from esante.accounts.models import Account, IdentityLink
from esante.audit.models import AuditEvent, EventType
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings  # noqa: F401 - autouse
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_activation import PASSWORD, current_step, letter_code, one_time_code
from tests.factories import make_person, years_ago
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db(transaction=True)

ACR = "urn:luxtrust:loa:substantial"


@pytest.fixture(autouse=True)
def offline_provider_page(page: Page) -> None:
    """The mock's page links its stylesheet from a CDN: refused at once, so that the run
    stays on loopback and never waits for the network."""

    def refuse(route: Route) -> None:
        route.abort()

    page.route("https://cdn.jsdelivr.net/**", refuse)


def at_provider(page: Page, provider: OidcProvider, subject: str | None) -> None:
    """On the provider's page (not ours: no axe), log in as `subject`, or cancel (None)."""
    # Chromium applies the page's CSP form-action to the redirect that follows the POST:
    # ProviderFormActionMiddleware allows the providers' origins (the `problems` fixture
    # would report a violation).
    expect(page, "the browser should now be on the provider's authorization page").to_have_url(
        re.compile("^" + re.escape(provider.url) + "/")
    )
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    if subject is None:
        page.get_by_role("button", name="Deny").click()
    else:
        page.get_by_placeholder("sub").fill(subject)
        page.get_by_role("button", name="Authorize", exact=True).click()


def start_activation(page: Page, assert_accessible: AssertAccessible) -> None:
    page.goto("/activation/")
    assert_accessible(page)
    page.get_by_label("En cochant cette case, j'accepte les Conditions Générales").check()
    page.get_by_role("button", name="Activer mon compte").click()
    expect(current_step(page)).to_contain_text("Code d'activation")
    assert_accessible(page)


def choose_password(page: Page, assert_accessible: AssertAccessible) -> None:
    expect(current_step(page)).to_contain_text("Mot de passe")
    assert_accessible(page)
    page.get_by_role("textbox", name="Votre mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("textbox", name="Confirmation de votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()


def secure_with_email(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible, email: str
) -> None:
    expect(current_step(page)).to_contain_text("Sécurisation de votre compte")
    assert_accessible(page)
    page.get_by_role("radio", name="E-mail").check()
    page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_contain_text("*****@example.lu")
    assert_accessible(page)
    page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail").fill(
        one_time_code(new_page, email)
    )
    page.get_by_role("button", name="Valider").click()


def luxtrust_item(page: Page) -> Locator:
    return page.locator(".provider-list").get_by_role("listitem").filter(has_text="LuxTrust")


def login_with_luxtrust(page: Page, assert_accessible: AssertAccessible) -> None:
    """The header's Connexion → PATIENT → the LuxTrust card's Connexion button."""
    page.goto("/")
    page.get_by_role("link", name="Connexion").first.click()
    page.get_by_role("link", name="PATIENT", exact=True).click()
    expect(page).to_have_url(re.compile(r"/connexion/#patient$"))
    expect(page.get_by_role("heading", name="Connexion au DSP")).to_be_visible()
    expect(page.get_by_role("link", name="Matricule, mot de passe et code")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("main").get_by_role("button", name="Connexion", exact=True).click()


def test_luxtrust_linked_at_step_4_then_logs_in_without_a_code(
    page: Page,
    new_page: NewPage,
    assert_accessible: AssertAccessible,
    oidc_provider: OidcProvider,
) -> None:
    alice: InsuredPerson = make_person("Alice", "Martin", years_ago(41), sex="F")
    issue_letters([alice], actor="test")

    # Steps 1 to 3, with the letter, as in test_activation.
    start_activation(page, assert_accessible)
    page.get_by_role("textbox", name="Matricule").fill(alice.matricule)
    page.get_by_role("textbox", name="Code d'activation").fill(
        letter_code(new_page, alice.matricule)
    )
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()
    choose_password(page, assert_accessible)
    secure_with_email(page, new_page, assert_accessible, "alice.martin@example.lu")

    # Step 4: Associer un produit LuxTrust → Connexion → the provider → back, associated.
    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    expect(
        page.get_by_role("heading", name=re.compile("Associer un produit LuxTrust"))
    ).to_be_visible()
    expect(luxtrust_item(page)).to_contain_text("LuxTrust")
    assert_accessible(page)
    oidc_provider.add_user("alice-luxtrust", matricule=alice.matricule, acr=ACR, amr=["hwk"])
    page.get_by_role("button", name="Connexion LuxTrust").click()
    at_provider(page, oidc_provider, "alice-luxtrust")

    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    expect(page.get_by_text("LuxTrust est associé à votre compte eSanté.")).to_be_visible()
    expect(luxtrust_item(page).get_by_text("Associé", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Connexion LuxTrust")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Confirmation")
    expect(page.get_by_text("Votre activation est terminée !")).to_be_visible()
    assert_accessible(page)

    account = Account.objects.get(person=alice)
    link = IdentityLink.objects.get(account=account)
    assert (link.provider, link.subject, link.acr, link.amr) == (
        "luxtrust",
        "alice-luxtrust",
        ACR,
        ["hwk"],
    )

    # Logging in with LuxTrust: straight to Mes services eSanté, no one-time code.
    login_with_luxtrust(page, assert_accessible)
    at_provider(page, oidc_provider, "alice-luxtrust")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes services eSanté")
    expect(page.get_by_text("Bienvenue, Alice Martin.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail")).to_have_count(0)
    assert_accessible(page)
    event = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).latest("pk")
    assert (event.details["method"], event.details["amr"]) == ("oidc:luxtrust", ["hwk"])


def test_cancelling_at_luxtrust_comes_back_to_the_login_choice(
    page: Page, assert_accessible: AssertAccessible, oidc_provider: OidcProvider
) -> None:
    login_with_luxtrust(page, assert_accessible)
    at_provider(page, oidc_provider, None)

    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("heading", name="Connexion au DSP")).to_be_visible()
    expect(page.get_by_text("Vous avez annulé la connexion chez LuxTrust.")).to_be_visible()
    assert_accessible(page)
    assert not AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).exists()


def test_activation_without_a_letter_through_luxtrust(
    page: Page,
    new_page: NewPage,
    assert_accessible: AssertAccessible,
    oidc_provider: OidcProvider,
) -> None:
    bob: InsuredPerson = make_person("Bob", "Martin", years_ago(44), sex="M")  # no letter

    start_activation(page, assert_accessible)
    page.get_by_role("radio", name="Non").check()
    without_letter = page.get_by_role("region", name="Activer sans courrier")
    expect(without_letter).to_be_visible()
    assert_accessible(page)
    oidc_provider.add_user("bob-noletter", matricule=bob.matricule)
    without_letter.get_by_role("button", name="Activer avec LuxTrust").click()
    at_provider(page, oidc_provider, "bob-noletter")

    choose_password(page, assert_accessible)
    secure_with_email(page, new_page, assert_accessible, "bob.martin@example.lu")

    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    expect(luxtrust_item(page).get_by_text("Associé", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Connexion LuxTrust")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_text("Votre activation est terminée !")).to_be_visible()
    assert_accessible(page)

    account = Account.objects.get(person=bob)
    assert account.activation_letter is None
    assert account.email == "bob.martin@example.lu"
    assert IdentityLink.objects.get(subject="bob-noletter").account == account
