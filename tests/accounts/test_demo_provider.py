"""`make run`'s LuxTrust (démo): oidc-provider-mock started with the demo adults as
predefined users, whose claims carry their matricule — linking and logging in work."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import Client

from esante.accounts.models import IdentityLink
from esante.demo.identity_provider import (
    DemoProviderDidNotStart,
    demo_subject,
    demo_users,
    start_demo_provider,
)
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.test_oidc import at_provider
from tests.accounts.wizard import activate
from tests.servers import OidcProvider, free_port

pytestmark = pytest.mark.django_db


def use_demo_provider(settings: Any, port: int) -> None:
    """The settings `make run` has in demo mode, the mock on `port`."""
    settings.ESANTE_DEMO = True
    settings.ESANTE_DEMO_OIDC_PORT = port
    # Named localhost, as the portal's address is in demo mode (passkeys need a domain).
    settings.ESANTE_DEMO_OIDC_ISSUER = f"http://localhost:{port}"
    settings.ESANTE_OIDC_PROVIDERS = [
        {
            "slug": "luxtrust",
            "name": "LuxTrust (démo)",
            "issuer": settings.ESANTE_DEMO_OIDC_ISSUER,
            "client_id": "esante-demo",
            "client_secret": "demo-secret",
            "scopes": "openid profile",
            "national_id_claim": "matricule",
        }
    ]


@pytest.fixture
def demo_provider(
    settings: Any, alice: InsuredPerson, lea: InsuredPerson
) -> Iterator[OidcProvider]:
    port = free_port()
    use_demo_provider(settings, port)
    process = start_demo_provider()  # returns once the provider listens
    assert process is not None
    provider = OidcProvider()
    provider.port, provider.url, provider.process = port, f"http://localhost:{port}", process
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


def test_a_demo_provider_that_cannot_listen_is_said_not_started(
    settings: Any, alice: InsuredPerson
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        use_demo_provider(settings, squatter.getsockname()[1])

        with pytest.raises(DemoProviderDidNotStart, match="déjà pris"):
            start_demo_provider()
