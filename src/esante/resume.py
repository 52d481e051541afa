"""Where a login goes once it succeeds, when a page sent the visitor to log in: a service
asking the OpenID Connect provider (esante.provider) sends them to *Connexion* and expects
them back. Kept in the browser session (every way of logging in — password and code, a
passkey, an identity provider's round trip — ends in the same browser), and only ever a
path of this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

SESSION_KEY = "esante.resume_after_login"


def remember(request: HttpRequest, url: str) -> None:
    request.session[SESSION_KEY] = url


def destination(request: HttpRequest, default: str) -> str:
    """The page to go to after a login: the one remembered (once), else `default`."""
    url = request.session.pop(SESSION_KEY, "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return str(url)
    return default
