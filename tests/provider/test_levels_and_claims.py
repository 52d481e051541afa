"""The person's login is the platform's own: `acr` (two levels) and `amr` in the ID
token, a higher level asked is a step-up (LuxTrust) rather than an error, `prompt=login`
and `max_age` ask for an authentication now; claims by scope (the matricule only for a
service registered for it); professionals log in through the same provider, with
`fhirUser`."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account
from esante.professionals.models import Professional
from esante.services.models import ACR_HIGH, Audience
from tests.accounts.test_oidc import at_provider
from tests.accounts.wizard import last_one_time_code
from tests.practice.conftest import at_provider as pro_at_provider
from tests.practice.conftest import paul, pro_provider, provider_user
from tests.provider.conftest import authorize, logged_in, make_rp, path_of, register
from tests.provider.test_flow import consent_and_code, id_token_claims
from tests.servers import OidcProvider

__all__ = ["paul", "pro_provider"]


@pytest.fixture
def alice_browser(alice: Any, transactional_db: None) -> Client:
    return logged_in(alice, "alice@example.lu")


def test_a_higher_level_without_luxtrust_says_so_and_goes_back_unmet(
    issuer: str, alice_browser: Client
) -> None:
    service = register(level=ACR_HIGH)
    rp = make_rp(issuer, service)
    url = rp.authorization_url()
    page = authorize(alice_browser, url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "demande une connexion avec LuxTrust" in text
    assert "Vous n'avez pas encore associé de produit LuxTrust" in text
    back = authorize(alice_browser, url, decision="refuse")
    assert back["Location"].startswith(service.redirect_uris[0])
    assert "error=unmet_authentication_requirements" in back["Location"]


def test_acr_values_asks_the_higher_level_too_and_prompt_none_cannot_step_up(
    issuer: str, alice_browser: Client
) -> None:
    rp = make_rp(issuer, register())
    page = authorize(alice_browser, rp.authorization_url(acr_values=ACR_HIGH))
    assert "demande une connexion avec LuxTrust" in page.content.decode()
    silent = authorize(alice_browser, rp.authorization_url(acr_values=ACR_HIGH, prompt="none"))
    assert "error=interaction_required" in silent["Location"]


def test_a_luxtrust_login_reaches_the_higher_level(
    issuer: str, alice: Any, oidc_provider: OidcProvider, transactional_db: None
) -> None:
    linking = logged_in(alice, "alice@example.lu")
    account = Account.objects.get(person=alice)
    subject = f"alice-oidc-{account.pk}"
    oidc_provider.add_user(
        subject, matricule=alice.matricule, acr="urn:luxtrust:loa:substantial", amr=["hwk", "pin"]
    )
    at_provider(linking, oidc_provider, "link", subject)

    browser = Client()
    at_provider(browser, oidc_provider, "login", subject)
    service = register(level=ACR_HIGH)
    rp = make_rp(issuer, service)
    claims = id_token_claims(issuer, rp.fetch_token(consent_and_code(browser, rp)))
    assert claims["acr"] == ACR_HIGH
    assert "mfa" in claims["amr"] and "hwk" in claims["amr"]


def test_prompt_login_asks_for_the_second_factor_again(issuer: str, alice_browser: Client) -> None:
    rp = make_rp(issuer, register())
    consent_and_code(alice_browser, rp)
    url = rp.authorization_url(prompt="login")
    answer = authorize(alice_browser, url)
    assert answer.status_code == 302
    target = urlsplit(answer["Location"])
    assert target.path == reverse("patient:step_up")
    assert parse_qs(target.query)["renouveler"] == ["1"]
    # The step-up page is shown, not skipped, though the login was minutes ago.
    assert alice_browser.get(answer["Location"]).status_code == 200


def test_max_age_past_asks_for_an_authentication_now(issuer: str, alice_browser: Client) -> None:

    rp = make_rp(issuer, register())
    consent_and_code(alice_browser, rp)
    with time_machine.travel(datetime.timedelta(minutes=3)):
        answer = authorize(alice_browser, rp.authorization_url(max_age="60"))
    assert urlsplit(answer["Location"]).path == reverse("patient:step_up")


def test_the_matricule_only_for_a_service_registered_for_it(
    issuer: str, alice: Any, alice_browser: Client
) -> None:
    plain = make_rp(issuer, register(), scope="openid profile matricule")
    claims = id_token_claims(issuer, plain.fetch_token(consent_and_code(alice_browser, plain)))
    assert "matricule" not in claims

    allowed = register(name="CNS (test)", scopes=["openid", "profile", "matricule"])
    rp = make_rp(issuer, allowed, scope="openid profile matricule")
    page = authorize(alice_browser, rp.authorization_url())
    assert "votre matricule" in page.content.decode()
    claims = id_token_claims(issuer, rp.fetch_token(consent_and_code(alice_browser, rp)))
    assert claims["matricule"] == alice.matricule


def test_openid_is_required(issuer: str, alice_browser: Client) -> None:
    rp = make_rp(issuer, register(), scope="profile")
    answer = authorize(alice_browser, rp.authorization_url())
    assert "error=invalid_scope" in answer["Location"]


def test_a_professional_logs_in_through_the_provider_with_fhir_user(
    issuer: str, paul: Professional, pro_provider: OidcProvider, transactional_db: None
) -> None:
    service = register(
        name="Logiciel de cabinet (test)",
        audience=Audience.PROFESSIONALS,
        scopes=["openid", "profile", "fhirUser"],
    )
    rp = make_rp(issuer, service, scope="openid profile fhirUser")
    browser = Client()
    url = rp.authorization_url()
    to_login = authorize(browser, url)
    assert to_login["Location"].startswith(reverse("portal:login_choice"))
    subject = provider_user(pro_provider, professional_code=paul.national_code)
    back = pro_at_provider(browser, pro_provider, subject)
    assert back["Location"] == path_of(url)  # the login resumes the service's request
    claims = id_token_claims(issuer, rp.fetch_token(consent_and_code(browser, rp)))
    assert claims["fhirUser"] == f"{issuer}/fhir/Practitioner/{paul.public_id}"
    assert claims["family_name"] == paul.last_name
    assert claims["acr"] == ACR_HIGH
    assert paul.national_code not in str(claims)


def test_a_patients_session_opens_no_professional_service(
    issuer: str, alice_browser: Client
) -> None:
    service = register(audience=Audience.PROFESSIONALS)
    rp = make_rp(issuer, service)
    answer = authorize(alice_browser, rp.authorization_url())
    assert answer["Location"].startswith(reverse("portal:login_choice"))


def test_ui_locales_chooses_the_pages_language_when_the_visitor_chose_none(
    issuer: str, alice_browser: Client, settings: Any
) -> None:
    rp = make_rp(issuer, register())
    alice_browser.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    page = authorize(alice_browser, rp.authorization_url(ui_locales="de-LU en"))
    assert 'lang="de"' in page.content.decode()
    alice_browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = authorize(alice_browser, rp.authorization_url(ui_locales="de"))
    assert 'lang="en"' in page.content.decode()


def test_max_age_zero_is_met_by_the_step_up_it_asks_for(issuer: str, alice_browser: Client) -> None:
    rp = make_rp(issuer, register())
    consent_and_code(alice_browser, rp)
    url = rp.authorization_url(max_age="0")
    to_step_up = authorize(alice_browser, url)["Location"]
    assert alice_browser.get(to_step_up).status_code == 200  # asked, not skipped
    sent = alice_browser.post(reverse("patient:step_up"), {"send": "1"})
    assert sent["Location"] == reverse("patient:step_up_code")
    back = alice_browser.post(
        reverse("patient:step_up_code"), {"code": last_one_time_code("alice@example.lu")}
    )
    assert back["Location"] == path_of(url)
    done = authorize(alice_browser, url)
    assert done["Location"].startswith(rp.session.redirect_uri + "?code=")
    claims = id_token_claims(issuer, rp.fetch_token(done["Location"]))
    assert claims["auth_time"] >= claims["iat"] - 60
