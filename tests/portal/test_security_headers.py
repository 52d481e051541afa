"""Security headers on the portal's pages, and the cookie flags, with DEBUG off."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

PAGES = ["/", "/activation/", "/connexion/", "/cette-page-n-existe-pas/"]


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


def test_the_test_settings_run_with_debug_off() -> None:
    assert settings.DEBUG is False


@pytest.mark.parametrize("url", PAGES)
def test_the_content_security_policy_allows_only_the_apps_own_assets(
    client: Client, url: str
) -> None:
    policy = client.get(url)["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    csp = directives(policy)
    for directive in ["default-src", "script-src", "style-src", "connect-src", "font-src"]:
        assert csp[directive] == ["'self'"], directive
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_sends_the_hardening_headers(client: Client, url: str) -> None:
    response = client.get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()"]:
        assert feature in permissions


def test_https_responses_carry_hsts(client: Client) -> None:
    response = client.get("/", secure=True)
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts


def test_plain_http_responses_do_not_carry_hsts(client: Client) -> None:
    # Browsers ignore HSTS over HTTP; Django only sends it over HTTPS.
    assert "Strict-Transport-Security" not in client.get("/")


def test_the_language_cookie_is_secure_and_same_site(client: Client) -> None:
    response = client.post(
        "/i18n/setlang/", {"language": "de", "next": "/activation/"}, secure=True
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "de"
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_the_csrf_cookie_is_secure_and_same_site(client: Client) -> None:
    # Every page carries the language form, hence a CSRF token and its cookie.
    response = client.get("/", secure=True)
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_the_session_cookie_would_be_secure_and_http_only() -> None:
    # Public pages open no session (tests/portal/test_pages.py); when a flow opens one:
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
