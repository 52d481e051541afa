"""The service's Flask application: `create_app` and the pages.

`/` welcomes or greets, `/connexion` sends the browser to the platform, `/retour` comes
back with a code, `/deconnexion` ends the session here and at the platform, `/au-revoir`
is where the platform sends the browser after, `/backchannel-logout` is the platform
ending a session without the browser.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask import session as cookie
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError
from werkzeug.exceptions import HTTPException

from teleconsultation_demo.backchannel import InvalidLogoutToken, LogoutTokenVerifier
from teleconsultation_demo.config import Config
from teleconsultation_demo.sessions import LocalSession, SessionStore, StateCache

log = logging.getLogger(__name__)

ACR_SUBSTANTIAL = "urn:esante:acr:substantial"
ACR_HIGH = "urn:esante:acr:high"
ACR_MEANINGS = {
    ACR_SUBSTANTIAL: "niveau substantiel : mot de passe et code, ou clé d'accès",
    ACR_HIGH: "niveau élevé : LuxTrust",
}

# How long a call to the platform may take before the page says it does not answer.
PROVIDER_TIMEOUT = 10  # seconds

# The service's own cookie name: the portal and the demo identity provider also run on
# localhost, and browsers share cookies between the ports of one host.
COOKIE_NAME = "teleconsultation_session"

CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'none'; frame-ancestors 'none'"

ERROR_PAGES = {
    400: ("Demande invalide", "Cette demande n'a pas pu être traitée."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "Cette page n'existe pas."),
    405: ("Méthode non autorisée", "Cette page ne s'ouvre pas de cette manière."),
    413: ("Demande trop volumineuse", "Cette demande dépasse la taille acceptée."),
}
SERVER_ERROR_PAGE = (
    "Erreur du service",
    "Le service a rencontré un problème. Réessayez dans quelques instants.",
)

pages = Blueprint("pages", __name__)


@dataclass(frozen=True)
class Service:
    """What the pages share, built once per application."""

    config: Config
    provider: Any  # Authlib's Flask client of the platform (untyped)
    sessions: SessionStore
    logout_tokens: LogoutTokenVerifier


def create_app(config: Config) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config["secret_key"],
        SESSION_COOKIE_NAME=COOKIE_NAME,
        # Lax: the platform's redirect to /retour is a top-level GET, which carries it.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config["base_url"].startswith("https://"),
        # The largest form here is a logout token, a few kilobytes.
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    oauth = OAuth(app, cache=StateCache())
    provider = oauth.register(
        "esante",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        server_metadata_url=config["issuer"] + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT,
        },
    )
    app.extensions["teleconsultation_demo"] = Service(
        config=config,
        provider=provider,
        sessions=SessionStore(),
        logout_tokens=LogoutTokenVerifier(provider, config["client_id"]),
    )
    app.before_request(stay_on_base_url)
    app.register_blueprint(pages)
    app.register_error_handler(HTTPException, error_page)
    app.after_request(add_security_headers)
    return app


def service() -> Service:
    found: Service = current_app.extensions["teleconsultation_demo"]
    return found


@pages.get("/")
def home() -> ResponseReturnValue:
    local = current_session()
    if local is None:
        return render_template("welcome.html")
    act = local.id_claims.get("act") or local.userinfo.get("act")
    return render_template(
        "home.html",
        given_name=claim(local, "given_name"),
        acr=local.id_claims.get("acr"),
        acr_meaning=ACR_MEANINGS.get(str(local.id_claims.get("acr"))),
        amr=[str(method) for method in local.id_claims.get("amr") or []],
        sub=local.sub,
        sid=local.sid,
        actor=str(act.get("sub")) if isinstance(act, dict) and act.get("sub") else None,
        csrf_token=csrf_token(),
        acr_substantial=ACR_SUBSTANTIAL,
        acr_high=ACR_HIGH,
    )


@pages.get("/connexion")
def login() -> ResponseReturnValue:
    extra = {}
    # The level asked for is checked at /retour: the platform may answer with a lower
    # one. One login at a time per browser: a login started in another tab replaces it.
    if request.args.get("niveau") == "high":
        extra["acr_values"] = cookie["requested_acr"] = ACR_HIGH
    else:
        cookie.pop("requested_acr", None)
    try:
        check_issuer()
        # Authlib adds the state, the nonce and the PKCE challenge (S256), and keeps
        # them in the StateCache for /retour.
        response: Response = service().provider.authorize_redirect(
            service().config["base_url"] + "/retour", ui_locales="fr", **extra
        )
    except (requests.RequestException, ValueError) as error:
        log.warning("The platform's discovery document is unavailable: %s", error)
        return platform_unavailable()
    return response


@pages.get("/retour")
def login_return() -> ResponseReturnValue:
    provider = service().provider
    requested_acr = cookie.pop("requested_acr", None)
    try:
        token = provider.authorize_access_token()
        id_claims = dict(token.get("userinfo") or {})
        if not id_claims:
            raise LoginRefused("the token response has no ID token")
        userinfo = dict(provider.userinfo(token=token))
        # OpenID Connect Core 5.3.4: the userinfo must be about the ID token's subject.
        if userinfo.get("sub") != id_claims["sub"]:
            raise LoginRefused("the userinfo is about another subject")
    except AuthlibBaseError as error:
        return login_error(error.error or "", error.description or "")
    except (JoseError, LoginRefused, ValueError, KeyError, requests.HTTPError) as error:
        log.warning("Login refused: %s", error)
        return login_failed()
    except requests.RequestException as error:
        log.warning("The platform does not answer: %s", error)
        return platform_unavailable()
    if requested_acr and id_claims.get("acr") != requested_acr:
        return render_template("level_not_reached.html"), 403
    local = LocalSession(
        sub=str(id_claims["sub"]),
        sid=str(id_claims["sid"]) if id_claims.get("sid") else None,
        id_token=str(token["id_token"]),
        id_claims=id_claims,
        userinfo=userinfo,
    )
    # A new key and a new CSRF token at each login: nothing from before carries over.
    service().sessions.close(cookie.get("local_session_id", ""))
    cookie.pop("csrf_token", None)
    cookie["local_session_id"] = service().sessions.open(local)
    return redirect("/")


class LoginRefused(Exception):
    pass


@pages.post("/deconnexion")
def logout() -> ResponseReturnValue:
    expected = cookie.get("csrf_token", "")
    if not expected or not hmac.compare_digest(expected, request.form.get("csrf_token", "")):
        return render_template(
            "error.html",
            title="Demande expirée",
            message="Cette page a expiré. Revenez à l'accueil et réessayez.",
        ), 400
    local = service().sessions.close(cookie.pop("local_session_id", ""))
    cookie.pop("csrf_token", None)
    if local is None:  # ended already, by the platform's back-channel logout
        return redirect("/au-revoir")
    try:
        check_issuer()
        metadata = service().provider.load_server_metadata()
        end_session_endpoint = metadata.get("end_session_endpoint")
    except (requests.RequestException, ValueError) as error:
        log.warning("Logged out here only, the platform does not answer: %s", error)
        end_session_endpoint = None
    if not end_session_endpoint:
        return redirect("/au-revoir")
    # RP-initiated logout: the platform ends its session too, then sends the browser to
    # /au-revoir. Authlib adds a state and keeps it in the StateCache.
    response: Response = service().provider.logout_redirect(
        post_logout_redirect_uri=service().config["base_url"] + "/au-revoir",
        id_token_hint=local.id_token,
        client_id=service().config["client_id"],
    )
    return response


@pages.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """A plain icon, so that browsers asking for one meet no 404."""
    icon = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
        '<rect width="16" height="16" rx="3" fill="#0b6e6e"/></svg>'
    )
    return icon, 200, {"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"}


@pages.get("/au-revoir")
def goodbye() -> ResponseReturnValue:
    if request.args.get("state"):
        # Only drops the logout's stored state: the session here ended before the
        # browser left, so the page says the same whatever the platform answered.
        with contextlib.suppress(AuthlibBaseError):
            service().provider.validate_logout_response()
    return render_template("goodbye.html")


@pages.post("/backchannel-logout")
def backchannel_logout() -> ResponseReturnValue:
    try:
        logout = service().logout_tokens.verify(request.form.get("logout_token", ""))
    except InvalidLogoutToken as error:
        log.warning("Back-channel logout refused: %s", error)
        response = jsonify(error="invalid_request", error_description=str(error))
        response.status_code = 400
    except (requests.RequestException, ValueError) as error:
        log.warning("Back-channel logout not checked, no platform keys: %s", error)
        response = jsonify(error="temporarily_unavailable")
        response.status_code = 503
    else:
        ended = service().sessions.close_for_provider(sid=logout.sid, sub=logout.sub)
        log.info("Back-channel logout: %d session(s) ended", ended)
        response = Response(status=200)
    response.headers["Cache-Control"] = "no-store"
    return response


def stay_on_base_url() -> ResponseReturnValue | None:
    """Send a page asked for under another host name (127.0.0.1 for localhost) to the
    base URL: the platform sends the browser back there, and the cookie of a login under
    way, set on the other name, would not come along ("this login has expired")."""
    base = urlsplit(service().config["base_url"])
    if request.method in ("GET", "HEAD") and request.host != base.netloc:
        return redirect(service().config["base_url"] + request.full_path.rstrip("?"))
    return None


def current_session() -> LocalSession | None:
    key = cookie.get("local_session_id")
    if not key:
        return None
    local = service().sessions.get(key)
    if local is None:  # ended by the platform, or expired
        cookie.pop("local_session_id", None)
        cookie.pop("csrf_token", None)
    return local


def claim(local: LocalSession, name: str) -> str | None:
    value = local.userinfo.get(name) or local.id_claims.get(name)
    return str(value) if value else None


def csrf_token() -> str:
    """The logout form's token: a random value kept in the session cookie."""
    token = cookie.get("csrf_token")
    if not token:
        token = cookie["csrf_token"] = secrets.token_urlsafe(32)
    return str(token)


def check_issuer() -> None:
    """Refuse a discovery document of another issuer than the configured one (OpenID
    Connect Discovery 4.3): the ID tokens' `iss` is checked against it."""
    issuer = service().provider.load_server_metadata().get("issuer")
    if str(issuer).rstrip("/") != service().config["issuer"]:
        raise ValueError(f"the discovery document names the issuer {issuer!r}")


def login_error(error: str, description: str) -> ResponseReturnValue:
    """The platform answered /retour with an error, or the state does not match."""
    log.info("Login not completed: %s %s", error, description)
    if error == "access_denied":
        message = "La connexion a été annulée ou refusée. Vous n'êtes pas connecté."
    elif error == "unmet_authentication_requirements":
        message = (
            "Vous êtes revenu sans vous connecter avec LuxTrust, que ce niveau demande. "
            "Vous n'êtes pas connecté : choisissez le niveau habituel, ou associez LuxTrust "
            "à votre compte eSanté et réessayez."
        )
    elif error == "mismatching_state":
        message = "Cette demande de connexion a expiré ou a déjà servi. Recommencez."
    else:
        message = "La plateforme eSanté n'a pas pu vous connecter. Recommencez."
    title = "Connexion non aboutie"
    if error in ("access_denied", "unmet_authentication_requirements"):
        # The person's own choice, not a failure: an ordinary page.
        return render_template("error.html", title="Vous n'êtes pas connecté", message=message)
    return render_template("error.html", title=title, message=message), 400


def login_failed() -> ResponseReturnValue:
    return render_template(
        "error.html",
        title="Connexion non aboutie",
        message="La réponse de la plateforme eSanté n'a pas pu être vérifiée. Recommencez.",
    ), 502


def platform_unavailable() -> ResponseReturnValue:
    return render_template(
        "error.html",
        title="Plateforme indisponible",
        message="La plateforme eSanté ne répond pas. Réessayez dans quelques instants.",
    ), 503


def error_page(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    title, message = ERROR_PAGES.get(code, SERVER_ERROR_PAGE)
    # Allow, for a 405; the page itself is ours.
    headers = [(name, value) for name, value in error.get_headers() if name == "Allow"]
    return render_template("error.html", title=title, message=message), code, headers


def add_security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not request.path.startswith("/static/"):
        # The pages show who is logged in: no copy in any cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
