"""The provider's tests: a service registered as `esante create-service` registers one,
a real OAuth client (Authlib's requests client) talking to the running server (pytest-django's
live server), and people logged in on the platform's own pages (the Django test client: the
browser's half of the flow)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from esante.provider import middleware
from esante.provider.server import hash_client_secret
from esante.services.models import Service
from tests.records.conftest import activation_settings, logged_in

__all__ = ["activation_settings", "logged_in"]

REDIRECT_URI = "http://127.0.0.1:9/retour"
SECRET = "le-secret-du-service-de-test-" + "x" * 20


@pytest.fixture
def issuer(live_server: LiveServer, settings: Any) -> str:
    """The live server's origin, as the issuer of every token (the test client's requests
    come to "testserver": the setting makes both halves one provider)."""
    settings.ESANTE_OIDC_ISSUER = live_server.url
    return str(live_server.url)


def register(**fields: Any) -> Service:
    values: dict[str, Any] = {
        "name": "Téléconsultation (test)",
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": ["http://127.0.0.1:9/au-revoir"],
        "scopes": ["openid", "profile"],
        "client_secret_hash": hash_client_secret(SECRET),
        "start_url": "http://127.0.0.1:9/",
    }
    values.update(fields)
    service = Service.objects.create(**values)
    middleware.forget()
    return service


@pytest.fixture
def service(transactional_db: None) -> Service:
    return register()


@dataclass
class Rp:
    """A relying party: Authlib's client, the provider's metadata, one flow's values."""

    session: OAuth2Session
    metadata: dict[str, Any]
    verifier: str = ""
    nonce: str = ""
    state: str = ""

    def authorization_url(self, **extra: Any) -> str:
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(16)
        url, self.state = self.session.create_authorization_url(
            self.metadata["authorization_endpoint"],
            code_verifier=self.verifier,
            nonce=self.nonce,
            **extra,
        )
        return str(url)

    def fetch_token(self, location: str, **extra: Any) -> dict[str, Any]:
        return dict(
            self.session.fetch_token(
                self.metadata["token_endpoint"],
                authorization_response=location,
                code_verifier=self.verifier,
                **extra,
            )
        )


_opened: list[OAuth2Session] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Each test's clients closed with it: no keep-alive connection left to the live
    server, whose threads would meet a database already gone."""
    yield
    while _opened:
        _opened.pop().close()


def make_rp(
    issuer: str, service: Service, *, secret: str = SECRET, scope: str = "openid profile"
) -> Rp:
    with requests.Session() as discovery:
        metadata = discovery.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
    session = OAuth2Session(
        service.client_id,
        secret,
        scope=scope,
        redirect_uri=service.redirect_uris[0],
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    _opened.append(session)
    return Rp(session=session, metadata=metadata)


@pytest.fixture
def rp(issuer: str, service: Service) -> Rp:
    return make_rp(issuer, service)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


# The test client's requests come to a loopback name: Authlib refuses plain HTTP but on
# loopback (RFC 8252 7.3), and "testserver" is none.
BROWSER_HOST = "localhost"


def authorize(browser: Client, url: str, **posted: str) -> Any:
    """The browser's half: the authorization request; `posted` answers its page."""
    if posted:
        return browser.post(path_of(url), posted, headers={"host": BROWSER_HOST})
    return browser.get(path_of(url), headers={"host": BROWSER_HOST})
