"""External identity providers by OpenID Connect (LuxTrust and others), with Authlib.

Authorization-code flow with PKCE (S256), state and nonce, kept in the session by Authlib;
the ID token's signature (the provider's published keys), issuer, audience, expiry and
nonce are checked by Authlib before anything here reads a claim. Providers come from
settings.ESANTE_OIDC_PROVIDERS; each one is discovered from its issuer URL. A provider
with a `professional_code_claim` also vouches for health professionals: that claim
carries the professional's national code (esante.practice logs them in with it).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc.errors import JoseError

HTTP_TIMEOUT = 10  # seconds, for discovery, keys and the token exchange


@dataclass(frozen=True)
class Provider:
    slug: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid"
    logo: str = ""
    national_id_claim: str = ""
    # The claim with a health professional's national code (the register's), for a
    # provider that vouches for professionals; empty: patients only.
    professional_code_claim: str = ""
    # When the authorization endpoint is on another host than the issuer (CSP form-action).
    authorization_origin: str = ""
    # The strength the provider must vouch for (ASVS 5.0 6.8.4, 7.6.1): the `acr` values
    # accepted (space-separated, sent as `acr_values`), and the most seconds since the
    # person authenticated there (sent as `max_age`, checked against `auth_time`).
    # Empty / 0: not asked, and then the provider's login is trusted as it is.
    acr_values: str = ""
    max_age: int = 0

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Identity:
    """What a provider vouched for, after every check."""

    provider: Provider
    subject: str
    national_id: str = ""
    professional_code: str = ""
    acr: str = ""
    amr: list[str] = field(default_factory=list)
    auth_time: datetime.datetime | None = None


class ProviderError(Exception):
    """The login at the provider did not give a usable identity: `message` says why, in
    words for the person."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason


def providers() -> list[Provider]:
    return [Provider(**entry) for entry in settings.ESANTE_OIDC_PROVIDERS]


def provider(slug: str) -> Provider | None:
    return next((each for each in providers() if each.slug == slug), None)


def professional_providers() -> list[Provider]:
    """The providers that vouch for health professionals (their national code)."""
    return [each for each in providers() if each.professional_code_claim]


_clients: dict[Provider, DjangoOAuth2App] = {}


def _client(provider: Provider) -> DjangoOAuth2App:
    """One Authlib client per provider configuration (discovery is fetched once)."""
    client = _clients.get(provider)
    if client is None:
        registry = OAuth()
        client = registry.register(
            provider.slug,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={
                "scope": provider.scopes,
                "code_challenge_method": "S256",
                "default_timeout": HTTP_TIMEOUT,
            },
        )
        _clients[provider] = client
    return client


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def form_action_origins() -> list[str]:
    """Where our provider buttons' forms end up: the browser applies the page's CSP
    `form-action` to the redirect that follows the POST, so each provider's issuer (and
    its authorization endpoint, once discovered, or as configured) must be allowed."""
    origins: set[str] = set()
    for each in providers():
        origins.add(_origin(each.issuer))
        origins.add(_origin(each.authorization_origin))
        client = _clients.get(each)
        if client is not None:
            origins.add(_origin(str(client.server_metadata.get("authorization_endpoint", ""))))
    return sorted(origin for origin in origins if origin)


def redirect_to_provider(
    request: HttpRequest, provider: Provider, redirect_uri: str
) -> HttpResponse:
    """Send the browser to the provider's login (ProviderError when it cannot be reached)."""
    strength: dict[str, str] = {}
    if provider.acr_values:
        strength["acr_values"] = provider.acr_values
    if provider.max_age:
        strength["max_age"] = str(provider.max_age)
    try:
        response: HttpResponse = _client(provider).authorize_redirect(
            request, redirect_uri, **strength
        )
    except (requests.RequestException, ValueError, KeyError) as error:
        raise _unreachable(provider) from error
    return response


def identity_from_callback(request: HttpRequest, provider: Provider) -> Identity:
    """The provider sent the browser back: exchange the code, check the ID token."""
    try:
        token = _client(provider).authorize_access_token(request)
    except OAuthError as error:
        if error.error == "access_denied":
            raise ProviderError(
                _("Vous avez annulé la connexion chez %(provider)s.") % {"provider": provider.name},
                reason="cancelled",
            ) from error
        raise ProviderError(_invalid(provider), reason=f"oauth:{error.error}") from error
    except requests.RequestException as error:
        raise _unreachable(provider) from error
    except (JoseError, ValueError, KeyError, TypeError) as error:
        raise ProviderError(_invalid(provider), reason="invalid_token") from error
    claims: dict[str, Any] = dict(token.get("userinfo") or {})
    subject = str(claims.get("sub") or "")
    if not subject:
        raise ProviderError(_invalid(provider), reason="no_subject")
    national_id = ""
    if provider.national_id_claim:
        national_id = str(claims.get(provider.national_id_claim) or "").strip()
    professional_code = ""
    if provider.professional_code_claim:
        professional_code = str(claims.get(provider.professional_code_claim) or "").strip()
    amr = claims.get("amr") or []
    auth_time = claims.get("auth_time")
    identity = Identity(
        provider=provider,
        subject=subject,
        national_id=national_id,
        professional_code=professional_code,
        acr=str(claims.get("acr") or "")[:200],
        amr=[str(method) for method in amr] if isinstance(amr, list) else [str(amr)],
        auth_time=(
            datetime.datetime.fromtimestamp(auth_time, tz=datetime.UTC)
            if isinstance(auth_time, int | float)
            else None
        ),
    )
    _check_strength(identity)
    return identity


# The clocks of the provider and of our nodes may differ by this much.
CLOCK_LEEWAY = datetime.timedelta(seconds=60)


def _check_strength(identity: Identity) -> None:
    """The level the provider vouched for is one the agency asked, and the person
    authenticated there recently enough; a missing claim counts as too weak."""
    provider = identity.provider
    if provider.acr_values and identity.acr not in provider.acr_values.split():
        raise ProviderError(_too_weak(provider), reason="acr_not_accepted")
    if provider.max_age:
        oldest = timezone.now() - datetime.timedelta(seconds=provider.max_age) - CLOCK_LEEWAY
        if identity.auth_time is None or identity.auth_time < oldest:
            raise ProviderError(_too_weak(provider), reason="auth_time_too_old")


def _too_weak(provider: Provider) -> str:
    return _(
        "%(provider)s n'a pas confirmé une connexion assez forte ou assez récente : la "
        "connexion n'a pas abouti. Reconnectez-vous chez %(provider)s avec votre carte ou "
        "votre application, ou utilisez votre matricule, votre mot de passe et un code."
    ) % {"provider": provider.name}


def _unreachable(provider: Provider) -> ProviderError:
    return ProviderError(
        _(
            "%(provider)s ne répond pas pour le moment. Réessayez dans quelques minutes, ou "
            "utilisez votre matricule, votre mot de passe et un code."
        )
        % {"provider": provider.name},
        reason="unreachable",
    )


def _invalid(provider: Provider) -> str:
    return _(
        "La réponse de %(provider)s n'a pas pu être vérifiée : la connexion n'a pas abouti. "
        "Réessayez, ou utilisez votre matricule, votre mot de passe et un code."
    ) % {"provider": provider.name}
