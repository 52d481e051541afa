"""`make run`'s LuxTrust (démo): oidc-provider-mock started with the demo adults as
predefined users, whose claims carry their matricule — linking and logging in work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import Client

from esante.accounts.demo_provider import demo_subject, demo_users, start_demo_provider
from esante.accounts.models import IdentityLink
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.test_oidc import at_provider
from tests.accounts.wizard import activate
from tests.servers import OidcProvider, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_provider(
    settings: Any, alice: InsuredPerson, lea: InsuredPerson
) -> Iterator[OidcProvider]:
    port = free_port()
    settings.ESANTE_DEMO = True
    settings.ESANTE_DEMO_OIDC_PORT = port
    settings.ESANTE_OIDC_PROVIDERS = [
        {
            "slug": "luxtrust",
            "name": "LuxTrust (démo)",
            "issuer": f"http://127.0.0.1:{port}",
            "client_id": "esante-demo",
            "client_secret": "demo-secret",
            "scopes": "openid profile",
            "national_id_claim": "matricule",
        }
    ]
    process = start_demo_provider()
    assert process is not None
    provider = OidcProvider()
    provider.port, provider.url, provider.process = port, f"http://127.0.0.1:{port}", process
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(provider.url + "/.well-known/openid-configuration", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield provider
    provider.stop()


def test_the_demo_adults_are_predefined_users_with_their_matricule(
    alice: InsuredPerson, lea: InsuredPerson
) -> None:
    users = demo_users()

    assert [user["sub"] for user in users] == ["alice.martin"]  # Léa is a minor
    assert users[0]["matricule"] == alice.matricule
    assert demo_subject(lea) == "lea.martin"


def test_a_demo_person_links_luxtrust_demo_then_logs_in_with_it(
    demo_provider: OidcProvider, alice: InsuredPerson
) -> None:
    activate(Client(), alice, EMAIL)
    client = Client()
    log_in(client, alice.account)
    form = requests.get(demo_provider.url + "/", timeout=5)
    assert form.ok

    linked = at_provider(client, demo_provider, "link", "alice.martin")
    login = at_provider(Client(), demo_provider, "login", "alice.martin")

    assert linked.status_code == 302
    assert IdentityLink.objects.get().subject == "alice.martin"
    assert login["Location"] == "/mes-services/"


def test_no_demo_provider_outside_demo_mode(settings: Any) -> None:
    settings.ESANTE_DEMO = False

    assert start_demo_provider() is None
