"""Logging in to the demo service through the platform, and the pages around it."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import requests

from tests.servers import free_port
from tests.teleconsultation_demo.harness import (
    Platform,
    Service,
    log_in,
    new_subject,
    running_service,
    text,
)

ACR_SUBSTANTIAL = "urn:esante:acr:substantial"
ACR_HIGH = "urn:esante:acr:high"


def test_welcome_page_offers_to_log_in_with_esante(
    service: Service, browser: requests.Session
) -> None:
    page = browser.get(service.url + "/", timeout=5)
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert page.text.count("<h1") == 1 and "<main>" in page.text
    assert "Téléconsultation (démo)" in page.text
    assert '<a class="button" href="/connexion">Se connecter avec eSanté</a>' in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "style=" not in page.text and "<script" not in page.text
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert stylesheet is not None
    css = browser.get(service.url + stylesheet[1], timeout=5)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


def test_authorization_request_has_pkce_a_nonce_and_the_french_locale(
    service: Service, platform: Platform, browser: requests.Session
) -> None:
    start = browser.get(service.url + "/connexion", allow_redirects=False, timeout=5)
    location = urlsplit(start.headers["Location"])
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}" == platform.url
    assert query["response_type"] == "code"
    assert query["scope"] == "openid profile"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["nonce"] and query["state"]
    assert query["ui_locales"] == "fr"
    assert query["redirect_uri"] == service.url + "/retour"
    assert "acr_values" not in query
    # Kept on the server: the cookie does not carry the PKCE verifier nor the nonce.
    assert query["nonce"] not in str(browser.cookies.get_dict())

    high = browser.get(service.url + "/connexion?niveau=high", allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(high.headers["Location"]).query)["acr_values"] == [ACR_HIGH]


def test_logged_in_person_sees_their_name_level_methods_and_subject(
    service: Service, platform: Platform, browser: requests.Session
) -> None:
    alice = new_subject("alice")
    platform.add_person(
        alice, given_name="Alice", acr=ACR_SUBSTANTIAL, amr=["pwd", "otp"], sid="sid-alice"
    )
    home = log_in(browser, service, alice)
    assert home.url == service.url + "/"
    page = text(home)
    assert "Bonjour Alice" in page
    assert ACR_SUBSTANTIAL in page and "mot de passe et code, ou clé d'accès" in page
    assert "<code>pwd</code>" in page and "<code>otp</code>" in page
    assert alice in page and "sid-alice" in page
    assert "vous agissez en tant qu'assistant" not in page
    assert "Se déconnecter" in page


def test_assistant_sees_that_they_act_for_the_person(
    service: Service, platform: Platform, browser: requests.Session
) -> None:
    alice = new_subject("alice")
    platform.add_person(
        alice, given_name="Alice", acr=ACR_SUBSTANTIAL, act={"sub": "assistant-bob-42"}
    )
    page = text(log_in(browser, service, alice))
    assert "Vous agissez pour Alice, en tant" in page
    assert "assistant-bob-42" in page


def test_high_level_asked_for_and_given_logs_in(
    service: Service, platform: Platform, browser: requests.Session
) -> None:
    alice = new_subject("alice")
    platform.add_person(alice, given_name="Alice", acr=ACR_HIGH, amr=["hwk"])
    page = text(log_in(browser, service, alice, query="?niveau=high"))
    assert "Bonjour Alice" in page and "niveau élevé : LuxTrust" in page


def test_high_level_asked_for_but_not_given_is_refused(
    service: Service, platform: Platform, browser: requests.Session
) -> None:
    alice = new_subject("alice")
    platform.add_person(alice, given_name="Alice", acr=ACR_SUBSTANTIAL)
    refused = log_in(browser, service, alice, query="?niveau=high")
    assert refused.status_code == 403
    assert "Niveau de connexion insuffisant" in text(refused)
    assert "Se connecter avec eSanté" in text(browser.get(service.url + "/", timeout=5))


def test_login_denied_at_the_platform_shows_a_french_message(
    service: Service, browser: requests.Session
) -> None:
    form = browser.get(service.url + "/connexion", timeout=5)
    denied = browser.post(form.url, data={"action": "deny"}, timeout=5)
    assert denied.url.startswith(service.url + "/retour?error=access_denied")
    assert denied.status_code == 200  # the person's choice, not a failure
    assert "La connexion a été annulée ou refusée" in text(denied)
    assert 'href="/"' in denied.text


def test_return_without_a_login_under_way_is_refused(
    service: Service, browser: requests.Session
) -> None:
    forged = browser.get(service.url + "/retour?code=stolen&state=guessed", timeout=5)
    assert forged.status_code == 400
    assert "Cette demande de connexion a expiré ou a déjà servi" in text(forged)


def test_logout_ends_the_session_here_and_at_the_platform(
    service: Service, platform: Platform, browser: requests.Session
) -> None:
    alice = new_subject("alice")
    platform.add_person(alice, given_name="Alice", acr=ACR_SUBSTANTIAL)
    home = log_in(browser, service, alice)
    token = csrf_token(home)

    leaving = browser.post(
        service.url + "/deconnexion", data={"csrf_token": token}, allow_redirects=False, timeout=5
    )
    end_session = urlsplit(leaving.headers["Location"])
    query = {name: values[0] for name, values in parse_qs(end_session.query).items()}
    assert f"{end_session.scheme}://{end_session.netloc}" == platform.url
    assert end_session.path == "/oauth2/end_session"
    assert query["post_logout_redirect_uri"] == service.url + "/au-revoir"
    assert query["client_id"] == "teleconsultation-test"
    assert query["id_token_hint"].count(".") == 2 and query["state"]
    # Logged out here already, whatever the platform does next.
    assert "Se connecter avec eSanté" in text(browser.get(service.url + "/", timeout=5))

    # The mock's end-session page, then its confirmation, sends the browser back.
    confirm_page = browser.get(leaving.headers["Location"], timeout=5)
    action = re.search(r'<form method="post" action="([^"]+)"', confirm_page.text)
    redirect_uri = re.search(r'name="redirect_uri" value="([^"]+)"', confirm_page.text)
    assert action is not None and redirect_uri is not None
    goodbye = browser.post(
        platform.url + action[1], data={"redirect_uri": html.unescape(redirect_uri[1])}, timeout=5
    )
    assert goodbye.url.startswith(service.url + "/au-revoir?state=" + query["state"])
    assert "Vous êtes déconnecté." in text(goodbye)


def test_logout_without_the_form_token_is_refused(
    service: Service, platform: Platform, browser: requests.Session
) -> None:
    alice = new_subject("alice")
    platform.add_person(alice, given_name="Alice", acr=ACR_SUBSTANTIAL)
    log_in(browser, service, alice)
    for data in ({}, {"csrf_token": "forged"}):
        refused = browser.post(service.url + "/deconnexion", data=data, timeout=5)
        assert refused.status_code == 400 and "Cette page a expiré" in text(refused)
    assert "Bonjour Alice" in text(browser.get(service.url + "/", timeout=5))


def test_logout_is_local_when_the_platform_has_no_end_session_endpoint(
    platform: Platform, browser: requests.Session
) -> None:
    platform.has_end_session_endpoint = False
    alice = new_subject("alice")
    platform.add_person(alice, given_name="Alice", acr=ACR_SUBSTANTIAL)
    with running_service(platform.url) as service:
        home = log_in(browser, service, alice)
        goodbye = browser.post(
            service.url + "/deconnexion", data={"csrf_token": csrf_token(home)}, timeout=5
        )
        assert goodbye.url == service.url + "/au-revoir"
        assert "Vous êtes déconnecté." in text(goodbye)
        assert "Se connecter avec eSanté" in text(browser.get(service.url + "/", timeout=5))


def test_platform_that_does_not_answer_gives_a_french_page(browser: requests.Session) -> None:
    with running_service(f"http://127.0.0.1:{free_port()}") as service:
        page = browser.get(service.url + "/connexion", timeout=15)
    assert page.status_code == 503
    assert "La plateforme eSanté ne répond pas" in text(page)


def test_errors_are_french_pages_without_traceback(
    service: Service, browser: requests.Session
) -> None:
    missing = browser.get(service.url + "/nulle-part", timeout=5)
    assert missing.status_code == 404 and "Page introuvable" in text(missing)
    wrong_method = browser.get(service.url + "/deconnexion", timeout=5)
    assert wrong_method.status_code == 405 and "Méthode non autorisée" in text(wrong_method)
    assert wrong_method.headers["Allow"]
    for page in (missing, wrong_method):
        assert '<html lang="fr">' in page.text and "Traceback" not in page.text


def csrf_token(page: requests.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text[:500]
    return found[1]


def test_page_asked_for_under_another_host_name_goes_to_the_base_url(
    service: Service, browser: requests.Session
) -> None:
    port = service.url.rsplit(":", 1)[1]
    other_name = browser.get(
        service.url + "/connexion?niveau=high",
        headers={"Host": f"localhost:{port}"},
        allow_redirects=False,
        timeout=5,
    )
    assert other_name.status_code == 302
    assert other_name.headers["Location"] == service.url + "/connexion?niveau=high"
