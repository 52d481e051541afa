"""The demo service against a real provider, for its tests: oidc-provider-mock's process
behind a `Platform` front whose keys the tests also hold, so that they can sign logout
tokens; servers on loopback threads; a browser's login."""

from __future__ import annotations

import html
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from teleconsultation_demo import Config, create_app
from teleconsultation_demo.backchannel import BACKCHANNEL_LOGOUT_EVENT
from tests.servers import OidcProvider

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CLIENT_ID = "teleconsultation-test"


@contextmanager
def serving(app: WSGIApplication | None = None) -> Iterator[BaseWSGIServer]:
    """A threaded werkzeug server on a free loopback port; set `server.app` afterwards
    when the application needs the server's URL first."""
    server = make_server("127.0.0.1", 0, app or Response("not ready", status=503), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def url_of(server: BaseWSGIServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


@dataclass
class Platform:
    """The eSanté platform as the service sees it: oidc-provider-mock, reached through a
    front. The front passes the Host header on, so the mock names the front's URL as
    issuer and endpoints. The mock signs its ID tokens without a key id, which a JWKS of
    more than one key cannot serve; the front checks the mock's signature and signs them
    again with `signing_key`, and publishes `published` as the platform's JWKS, as the
    eSanté provider will: the tests add keys to it, and sign logout tokens with them."""

    mock: OidcProvider
    url: str = ""
    signing_key: RSAKey = field(default_factory=lambda: new_key("platform-1"))
    published: list[RSAKey] = field(default_factory=list)
    has_end_session_endpoint: bool = True

    def __post_init__(self) -> None:
        self.published.append(self.signing_key)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == "/jwks":
            keys = {"keys": [key.as_dict(private=False) for key in self.published]}
            response = Response(json.dumps(keys), content_type="application/json")
        else:
            response = self._pass_on(request)
        return response(environ, start_response)

    def _pass_on(self, request: Request) -> Response:
        headers = {
            name: value
            for name, value in request.headers.items()
            if name in ("Host", "Authorization", "Content-Type")
        }
        upstream = requests.request(
            request.method,
            self.mock.url + request.full_path,
            headers=headers,
            data=request.get_data(),
            allow_redirects=False,
            timeout=5,
        )
        body = upstream.content
        if request.path == "/.well-known/openid-configuration":
            metadata = upstream.json()
            if not self.has_end_session_endpoint:
                del metadata["end_session_endpoint"]
            body = json.dumps(metadata).encode()
        elif request.path == "/oauth2/token" and upstream.ok:
            tokens = upstream.json()
            if "id_token" in tokens:
                tokens["id_token"] = self._sign_again(tokens["id_token"])
            body = json.dumps(tokens).encode()
        response = Response(body, status=upstream.status_code)
        for name in ("Content-Type", "Location"):
            if name in upstream.headers:
                response.headers[name] = upstream.headers[name]
        return response

    def _sign_again(self, id_token: str) -> str:
        mock_keys = KeySet.import_key_set(requests.get(self.mock.url + "/jwks", timeout=5).json())
        claims = jwt.decode(id_token, mock_keys, algorithms=["RS256"]).claims
        header = {"alg": "RS256", "kid": self.signing_key.kid}
        return jwt.encode(header, claims, self.signing_key)

    def add_person(self, subject: str, **claims: Any) -> None:
        self.mock.add_user(subject, **claims)

    def logout_claims(self, **claims: Any) -> dict[str, Any]:
        """A logout token's claims for the service, valid unless `claims` say otherwise;
        a claim given as None is left out."""
        payload = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": int(time.time()),
            "jti": uuid.uuid4().hex,
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
            **claims,
        }
        return {name: value for name, value in payload.items() if value is not None}

    def logout_token(self, key: RSAKey | None = None, **claims: Any) -> str:
        """A logout token of `logout_claims(**claims)`, signed with `key` or the
        platform's signing key."""
        key = key or self.signing_key
        header = {"alg": "RS256", "kid": key.kid, "typ": "logout+jwt"}
        return jwt.encode(header, self.logout_claims(**claims), key)


@dataclass
class Service:
    url: str
    config: Config


@contextmanager
def running_service(issuer: str) -> Iterator[Service]:
    with serving() as server:
        config = Config(
            issuer=issuer,
            client_id=CLIENT_ID,
            client_secret="teleconsultation-test-secret",
            base_url=url_of(server),
            secret_key="test-secret-key",
        )
        server.app = create_app(config)
        yield Service(url=url_of(server), config=config)


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid})


def new_subject(name: str) -> str:
    """Subjects unique to a test: the mock process, and its users, serve the whole run."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def log_in(
    browser: requests.Session, service: Service, subject: str, *, query: str = ""
) -> requests.Response:
    """Start at the service, submit the platform's form for `subject`, and come back."""
    form = browser.get(f"{service.url}/connexion{query}", timeout=5)
    assert form.status_code == 200 and "/oauth2/authorize" in form.url, form.text[:300]
    return browser.post(form.url, data={"sub": subject}, timeout=5)


def text(response: requests.Response) -> str:
    return html.unescape(response.text)
