"""*Connexion* → *PROFESSIONNEL*: a professional logs in through an identity provider
that vouches for their national code (a real oidc-provider-mock process), strong only;
every refusal is one message, audited with its reason, and the trips back are limited."""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante import ratelimit
from esante.audit.models import AuditEvent, EventType
from esante.practice.models import ProfessionalSession
from esante.practice.sessions import SESSION_KEY
from esante.professionals.models import Professional
from tests.accounts.wizard import page_text
from tests.practice.conftest import (
    PAUL,
    REFUSED,
    START,
    at_provider,
    inactive,
    log_in_professional,
    provider_user,
    register,
)
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db


def failures() -> list[str]:
    return [
        event.details["reason"]
        for event in AuditEvent.objects.filter(
            event_type=EventType.PROFESSIONAL_LOGIN_FAILED
        ).order_by("pk")
    ]


def messages_of(response: Any) -> str:
    """The messages shown on a page, and nothing else of it."""
    match = re.search(r'<ul class="messages">(.*?)</ul>', response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else ""


def assert_refused(client: Client, response: Any) -> None:
    """The one answer to every refusal: back to PROFESSIONNEL, the one message, no session."""
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login_choice") + "#professionnel"
    assert REFUSED in page_text(client.get(response["Location"]))
    assert SESSION_KEY not in client.session
    assert not ProfessionalSession.objects.exists()
    assert client.get(reverse("practice:home"))["Location"].startswith(
        reverse("portal:login_choice")
    )


def test_connexion_offers_professionnel_with_the_providers_that_vouch_for_professionals(
    pro_provider: OidcProvider,
) -> None:
    page = Client().get(reverse("portal:login_choice"))

    text = page_text(page)
    assert "PATIENT" in text and "PROFESSIONNEL" in text
    assert 'href="#professionnel"' in page.content.decode()
    assert f'action="{START}"' in page.content.decode()
    assert "Il n'y a pas de connexion par mot de passe pour les professionnels." in text


def test_a_provider_for_patients_only_is_no_professional_means(oidc_provider: OidcProvider) -> None:
    page = Client().get(reverse("portal:login_choice")).content.decode()

    assert f'action="{START}"' not in page
    assert Client().post(START).status_code == 404


def test_a_professional_logs_in_and_lands_on_espace_professionnel(
    pro_provider: OidcProvider, paul: Professional
) -> None:
    client = Client()
    client.get(reverse("portal:login_choice"))
    before = client.session.session_key
    subject = provider_user(pro_provider, professional_code=paul.national_code)

    response = at_provider(client, pro_provider, subject)

    assert response["Location"] == reverse("practice:home")
    assert client.session.session_key != before  # cycled: no fixation
    page = page_text(client.get(reverse("practice:home")))
    for fact in (
        "Espace professionnel",
        "Paul Reding",
        "Médecin",
        "Médecine générale",
        "Cabinet médical Reding",
        "10381524",
        "relation de soins",
    ):
        assert fact in page
    session = ProfessionalSession.objects.get()
    assert (session.professional, session.method, session.ended_at) == (
        paul,
        "oidc:luxtrust",
        None,
    )
    event = AuditEvent.objects.get(event_type=EventType.PROFESSIONAL_LOGIN_SUCCEEDED)
    assert event.actor == f"professional:{paul.pk}" and event.person is None
    assert event.details["national_code"] == "10381524"
    assert event.details["amr"] == ["hwk", "pin"]


def test_the_frame_is_a_professionals_and_the_space_styled_as_mon_compte(
    pro_provider: OidcProvider, paul: Professional
) -> None:
    client = Client()
    at_provider(
        client, pro_provider, provider_user(pro_provider, professional_code=paul.national_code)
    )

    page = client.get(reverse("practice:home")).content.decode()

    footer = page[page.index('<footer class="site-footer">') :]
    assert f'<a href="{reverse("practice:home")}">Espace professionnel</a>' in footer
    assert "Connexion</a>" not in footer  # logged in: not offered to log in again
    assert "esante/css/activation" in page  # the facts, the table and the field's styles
    assert 'class="table table-stack"' in page
    visitor = Client().get(reverse("portal:login_choice")).content.decode()
    assert (
        f'href="{reverse("portal:login_choice")}">Connexion</a>'
        in visitor[visitor.index('<footer class="site-footer">') :]
    )


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"professional_code": "99999999"}, "unknown_code"),
        ({"matricule": "19800101123"}, "missing_claim"),  # a patient's identity
    ],
)
def test_an_identity_without_a_registered_code_is_refused(
    pro_provider: OidcProvider, paul: Professional, claims: dict[str, str], reason: str
) -> None:
    client = Client()
    subject = provider_user(pro_provider, **claims)

    assert_refused(client, at_provider(client, pro_provider, subject))
    assert failures() == [reason]
    event = AuditEvent.objects.get(event_type=EventType.PROFESSIONAL_LOGIN_FAILED)
    assert "99999999" not in str(event.details)  # an unknown code only as a keyed hash


def test_an_inactive_professional_is_refused(pro_provider: OidcProvider) -> None:
    gone = register(inactive(PAUL))
    client = Client()
    subject = provider_user(pro_provider, professional_code=gone.national_code)

    assert_refused(client, at_provider(client, pro_provider, subject))
    assert failures() == ["inactive"]


def test_a_login_weaker_than_asked_is_refused(
    oidc_process: OidcProvider, settings: Any, paul: Professional
) -> None:
    settings.ESANTE_OIDC_PROVIDERS = [
        oidc_process.provider_setting(
            professional_code_claim="professional_code", acr_values="urn:luxtrust:loa:high"
        )
    ]
    client = Client()
    subject = provider_user(oidc_process, professional_code=paul.national_code)

    assert_refused(client, at_provider(client, oidc_process, subject))
    assert failures() == ["acr_not_accepted"]


def test_a_login_refused_at_the_provider_is_refused_here(
    pro_provider: OidcProvider, paul: Professional
) -> None:
    client = Client()

    assert_refused(client, at_provider(client, pro_provider, None, deny=True))
    assert failures() == ["cancelled"]


def test_every_refusal_reads_the_same(pro_provider: OidcProvider, paul: Professional) -> None:
    register(inactive(dataclasses.replace(PAUL, national_code="11208746")))
    pages = []
    for claims in (
        {"professional_code": "99999999"},
        {"professional_code": "11208746"},
        {"matricule": "19800101123"},
    ):
        client = Client()
        response = at_provider(client, pro_provider, provider_user(pro_provider, **claims))
        pages.append(messages_of(client.get(response["Location"])))
    denied = Client()
    response = at_provider(denied, pro_provider, None, deny=True)
    pages.append(messages_of(denied.get(response["Location"])))

    assert len(set(pages)) == 1 and REFUSED in pages[0]
    assert failures() == ["unknown_code", "inactive", "missing_claim", "cancelled"]


def test_a_return_not_asked_for_is_refused(pro_provider: OidcProvider) -> None:
    client = Client()

    response = client.get(reverse("practice:oidc_callback", args=["luxtrust"]) + "?code=x&state=y")

    assert_refused(client, response)
    assert failures() == ["unexpected_callback"]


def test_the_start_is_a_post_only(pro_provider: OidcProvider) -> None:
    assert Client().get(START).status_code == 405


def test_returns_from_the_provider_are_rate_limited_per_address(
    pro_provider: OidcProvider, paul: Professional, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        ratelimit.RATE_LIMITS, "oidc.callback", (ratelimit.Rule("ip", 1, ratelimit.HOUR),)
    )
    log_in_professional(Client(), pro_provider, paul)
    client = Client()
    subject = provider_user(pro_provider, professional_code=paul.national_code)

    response = at_provider(client, pro_provider, subject)

    assert response.status_code == 429
    assert ProfessionalSession.objects.count() == 1


def test_the_professionals_means_hold_no_password(pro_provider: OidcProvider) -> None:
    page = page_text(Client().get(reverse("portal:login_choice")))
    section = page[page.index("Connexion professionnelle") :]
    assert "Matricule, mot de passe et code" not in section.split("Pas encore de compte")[0]
