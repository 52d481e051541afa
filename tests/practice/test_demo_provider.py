"""`make run`'s LuxTrust (démo) vouches for the demo professionals: one predefined user
per active professional, with their national code and a strong login's acr and amr; a
demo professional logs in with it from *Connexion* → *PROFESSIONNEL*."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante.demo.identity_provider import demo_users, professional_subject, start_demo_provider
from esante.demo.professionals import load_demo_professionals
from esante.professionals.models import Professional
from tests.accounts.test_demo_provider import use_demo_provider
from tests.practice.conftest import PAUL, at_provider, inactive, register
from tests.servers import OidcProvider, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_provider(settings: Any) -> Iterator[OidcProvider]:
    """The mock as `make run` starts it, with the demo's professionals loaded first."""
    load_demo_professionals()
    port = free_port()
    use_demo_provider(settings, port)
    # As settings.py configures the demo's provider.
    settings.ESANTE_OIDC_PROVIDERS[0]["professional_code_claim"] = "professional_code"
    process = start_demo_provider()
    assert process is not None
    provider = OidcProvider()
    provider.port, provider.url, provider.process = port, f"http://localhost:{port}", process
    yield provider
    provider.stop()


def test_each_active_demo_professional_is_a_strong_user_of_the_demo_provider() -> None:
    load_demo_professionals()
    gone = register(
        inactive(dataclasses.replace(PAUL, national_code="19990001", first_name="Retired"))
    )

    users = {str(user["sub"]): user for user in demo_users()}

    active = Professional.objects.filter(is_active=True)
    assert active.count() >= 10
    for professional in active:
        user = users[professional_subject(professional)]
        assert user["professional_code"] == professional.national_code
        assert user["acr"] == "urn:luxtrust:loa:substantial" and user["amr"] == ["hwk", "pin"]
    assert professional_subject(gone) not in users
    assert "pro.paul.reding" in users


def test_a_demo_professional_logs_in_with_luxtrust_demo(demo_provider: OidcProvider) -> None:
    client = Client()

    response = at_provider(client, demo_provider, "pro.paul.reding")

    assert response["Location"] == reverse("practice:home")
    assert "Paul Reding" in client.get(response["Location"]).content.decode()
