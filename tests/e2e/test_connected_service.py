"""Issue 18 in a real browser: from *Mes services eSanté*, the person opens « Téléconsultation
(démo) » — the demo's relying party, its own server (teleconsultation_demo, Authlib's Flask
client) —, consents, and arrives logged in there; logging out of the platform ends the
service's session too (back-channel logout). Our pages are checked with axe-core, at
desktop size and on a phone."""

from __future__ import annotations

import datetime
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer
from werkzeug.serving import make_server

from esante.provider import middleware
from esante.provider.server import hash_client_secret
from esante.records.models import Assistant, CareRecord
from esante.services.models import Service
from teleconsultation_demo.app import create_app
from tests.accounts.conftest import activation_settings
from tests.accounts.wizard import PASSWORD, last_one_time_code
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_narrow_tables import PHONE, assert_no_sideways_scrolling
from tests.factories import make_person
from tests.records.conftest import logged_in

__all__ = ["activation_settings"]

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "secret-du-service-de-demonstration-" + "y" * 16


@pytest.fixture
def teleconsultation(live_server: LiveServer, settings: Any) -> Iterator[str]:
    """The demo service, served on a loopback port, registered with the provider."""
    settings.ESANTE_OIDC_ISSUER = live_server.url
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    base = f"http://127.0.0.1:{server.server_port}"
    server.app = create_app(
        {
            "issuer": live_server.url,
            "client_id": "teleconsultation-test",
            "client_secret": SECRET,
            "base_url": base,
            "secret_key": "cle-de-session-du-service-de-test",
        }
    )
    Service.objects.create(
        name="Téléconsultation (démo)",
        key="teleconsultation",
        client_id="teleconsultation-test",
        client_secret_hash=hash_client_secret(SECRET),
        redirect_uris=[f"{base}/retour"],
        post_logout_redirect_uris=[f"{base}/au-revoir"],
        backchannel_logout_uri=f"{base}/backchannel-logout",
        start_url=f"{base}/",
        scopes=["openid", "profile"],
    )
    middleware.forget()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(5)


def with_session_of(page: Page, client: Any, live_server: LiveServer) -> Page:
    page.context.add_cookies(
        [
            {"name": name, "value": morsel.value, "url": live_server.url}
            for name, morsel in client.cookies.items()
        ]
    )
    return page


def log_in_again(person: Any, email: str) -> Client:
    client = Client()
    client.post(reverse("patient:login"), {"matricule": person.matricule, "password": PASSWORD})
    client.post(reverse("patient:login_code"), {"code": last_one_time_code(email)})
    return client


def open_and_consent(page: Page, assert_accessible: AssertAccessible) -> None:
    page.goto(reverse("patient:services"))
    assert_accessible(page)
    page.get_by_role("link", name="Téléconsultation (démo)").click()
    page.get_by_role("link", name="Se connecter avec eSanté", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "« Téléconsultation (démo) » demande l'accès à votre compte eSanté"
    )
    expect(page.get_by_role("listitem").filter(has_text="vos nom et prénom")).to_be_visible()
    assert_accessible(page)
    assert_no_sideways_scrolling(page)
    page.get_by_role("button", name="Autoriser").click()
    expect(page.get_by_role("heading", name="Bonjour Alice")).to_be_visible()
    expect(page.locator("dl").get_by_text("urn:esante:acr:substantial")).to_be_visible()


def wait_for_logged_out_service(page: Page, base: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page.goto(f"{base}/")
        if page.get_by_role("link", name="Se connecter avec eSanté", exact=True).count():
            return
        time.sleep(0.2)
    pytest.fail("The service's session did not end after the platform's logout.")


def test_open_the_demo_service_then_the_platform_logout_ends_it(
    page: Page,
    live_server: LiveServer,
    teleconsultation: str,
    assert_accessible: AssertAccessible,
) -> None:
    alice = make_person("Alice", "Martin", datetime.date(1985, 4, 12), sex="F")
    with_session_of(page, logged_in(alice, "alice@example.lu"), live_server)
    open_and_consent(page, assert_accessible)

    page.goto(reverse("patient:services"))
    page.get_by_role("button", name="Déconnexion").click()
    wait_for_logged_out_service(page, teleconsultation)

    # The consent is listed in Mon compte → Services connectés, at the next login.
    with_session_of(page, log_in_again(alice, "alice@example.lu"), live_server)
    page.goto(reverse("provider:connected_services"))
    assert_accessible(page)
    expect(page.get_by_role("heading", name="Téléconsultation (démo)")).to_be_visible()


def test_on_a_phone_the_service_logs_out_of_the_platform_too(
    new_page: NewPage,
    live_server: LiveServer,
    teleconsultation: str,
    assert_accessible: AssertAccessible,
) -> None:
    alice = make_person("Alice", "Martin", datetime.date(1985, 4, 12), sex="F")
    page = with_session_of(
        new_page(viewport=PHONE), logged_in(alice, "alice@example.lu"), live_server
    )
    open_and_consent(page, assert_accessible)
    # Logging out at the service (RP-initiated): the platform's session ends with it.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté")).to_be_visible()
    page.goto(reverse("patient:services"))
    expect(page).to_have_url(re.compile(r"/connexion/"))


def test_an_assistant_opens_the_service_for_the_person_they_assist(
    new_page: NewPage,
    live_server: LiveServer,
    teleconsultation: str,
    assert_accessible: AssertAccessible,
) -> None:
    alice = make_person("Alice", "Martin", datetime.date(1985, 4, 12), sex="F")
    bob = make_person("Bob", "Martin", datetime.date(1983, 1, 5), sex="M")
    logged_in(alice, "alice@example.lu")
    Assistant.objects.create(
        record=CareRecord.objects.get(person=alice), person=bob, added_by=alice
    )
    page = with_session_of(new_page(viewport=PHONE), logged_in(bob, "bob@example.lu"), live_server)
    page.goto(f"{teleconsultation}/")
    page.get_by_role("link", name="Se connecter avec eSanté", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pour qui ouvrez-vous")
    assert_accessible(page)
    assert_no_sideways_scrolling(page)
    page.get_by_label("Pour Alice Martin").check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Vous agissez pour Alice Martin")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Autoriser").click()
    expect(page.get_by_role("heading", name="Bonjour Alice")).to_be_visible()
    expect(page.get_by_text("Vous agissez pour Alice, en tant qu'assistant DSP")).to_be_visible()
