"""The OpenID Connect provider on Authlib's server side: the authorization code flow with
PKCE (S256 only, required of every client), refresh tokens for the services registered for
them (rotated; one used twice revokes its line), userinfo, revocation (RFC 7009) and
RP-initiated logout. Authlib does the protocol; this module only says where things are kept.

Why Authlib rather than django-oauth-toolkit: its models are ours, so a code or a token
points to an insured person or a health professional, never to Django's user model, which
is the staff's here — no shadow user to keep out of the admin, and no way for a patient's
token to be a staff identity. Authlib already is the platform's OpenID Connect client
(LuxTrust) and its JOSE library (joserfc) signs the ID and logout tokens.

Codes and tokens are kept only as keyed hashes (esante.keyed_hash), looked up by hash and
never compared in Python; a code is consumed by one conditional UPDATE."""

from __future__ import annotations

import contextvars
import datetime
import hmac
import time
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.django_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from esante.keyed_hash import keyed_hash, keyed_hashes
from esante.professionals.models import Professional
from esante.provider import claims, keys
from esante.provider.models import AuthorizationCode, Consent, Token
from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from esante.services import smart
from esante.services.models import Service

CODE_KIND = "oidc-code"
ACCESS_KIND = "oidc-access"
REFRESH_KIND = "oidc-refresh"
SECRET_KIND = "oidc-client-secret"  # noqa: S105 - a hash kind, not a secret


def issuer(request: HttpRequest) -> str:
    """The provider's identifier: ESANTE_OIDC_ISSUER (the portal's public address by
    default); this site's origin, which ALLOWED_HOSTS confines, only if it is unset."""
    configured: str = settings.ESANTE_OIDC_ISSUER
    return configured or f"{request.scheme}://{request.get_host()}"


@dataclass(frozen=True)
class Subject:
    """Who a code or token is for, and how they authenticated: a patient (`person`, with
    `actor` the assistant acting for them) or a professional."""

    service: Service
    auth_time: datetime.datetime
    acr: str
    amr: list[str]
    person: InsuredPerson | None = None
    actor: InsuredPerson | None = None
    professional: Professional | None = None
    patient_session_id: int | None = None
    professional_session_id: int | None = None
    sid: str = ""

    def get_user_id(self) -> str:
        return claims.subject_of(self.service, self.person, self.professional)


class Client(ClientMixin):
    """A registered Service, as Authlib asks of a client."""

    def __init__(self, service: Service):
        self.service = service
        self.client_id = service.client_id
        self.client_metadata: dict[str, Any] = {
            "post_logout_redirect_uris": service.post_logout_redirect_uris
        }

    def get_client_id(self) -> str:
        return self.service.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Never a default: every request names its redirect URI, matched exactly.
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(claims.granted_scopes(scope, self.service))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.service.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """In constant time, under the current key or a fallback; a secret that matched
        under a fallback is hashed again under the current key (so the old key can go)."""
        stored = self.service.client_secret_hash
        if not stored:
            return False
        candidates = keyed_hashes(SECRET_KIND, client_secret)
        matches = [hmac.compare_digest(stored, each) for each in candidates]
        if any(matches) and not matches[0]:
            Service.objects.filter(pk=self.service.pk, client_secret_hash=stored).update(
                client_secret_hash=candidates[0]
            )
        return any(matches)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.service.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "refresh_token":
            return self.service.refresh_tokens
        return grant_type == "authorization_code"


def hash_client_secret(secret: str) -> str:
    return keyed_hash(SECRET_KIND, secret)


def subject_of_grant(row: AuthorizationCode | Token) -> Subject:
    return Subject(
        service=row.service,
        auth_time=row.auth_time,
        acr=row.acr,
        amr=list(row.amr),
        person=row.person,
        actor=row.actor,
        professional=row.professional,
        patient_session_id=row.patient_session_id,
        professional_session_id=row.professional_session_id,
        sid=session_id_claim(row.patient_session_id, row.professional_session_id),
    )


def session_id_claim(patient_session_id: int | None, professional_session_id: int | None) -> str:
    """The ID token's `sid`: the platform's browser session, as a value that says nothing
    of its row (a keyed hash of it), the same for every service."""
    if patient_session_id is not None:
        return keyed_hash("oidc-sid", f"patient:{patient_session_id}")[:32]
    if professional_session_id is not None:
        return keyed_hash("oidc-sid", f"professional:{professional_session_id}")[:32]
    return ""


class Code(AuthorizationCodeMixin):
    def __init__(self, row: AuthorizationCode):
        self.row = row

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce or None

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str:
        return self.row.acr

    def get_amr(self) -> list[str]:
        return list(self.row.amr)


class IssuedToken(TokenMixin):
    def __init__(self, row: Token):
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.service_id == client.service.pk

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return self.row.expires_in

    def is_expired(self) -> bool:
        return timezone.now() >= self.row.expires_at

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def get_user(self) -> Subject:
        return subject_of_grant(self.row)

    def get_client(self) -> Client:
        return Client(self.row.service)


def _grant_fields(subject: Subject) -> dict[str, Any]:
    return {
        "service": subject.service,
        "person": subject.person,
        "actor": subject.actor,
        "professional": subject.professional,
        "patient_session_id": subject.patient_session_id,
        "professional_session_id": subject.professional_session_id,
        "auth_time": subject.auth_time,
        "acr": subject.acr,
        "amr": subject.amr,
    }


def _code_lifetime() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.ESANTE_OIDC_CODE_SECONDS)


class CodeGrant(grants.AuthorizationCodeGrant):
    # "none": a public client (a phone app), which PKCE alone binds to its code.
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        subject: Subject = request.user
        AuthorizationCode.objects.create(
            code_hash=keyed_hash(CODE_KIND, code),
            redirect_uri=request.payload.redirect_uri,
            scope=request.payload.scope,
            nonce=request.payload.data.get("nonce", ""),
            code_challenge=request.payload.data.get("code_challenge", ""),
            code_challenge_method=request.payload.data.get("code_challenge_method", ""),
            **_grant_fields(subject),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        """The code, consumed at once (one conditional UPDATE: of two requests racing with
        the same code, one gets it). A code already used is a replay: every token it gave
        is revoked (RFC 6749 4.1.2)."""
        hashes = keyed_hashes(CODE_KIND, code)
        now = timezone.now()
        taken = AuthorizationCode.objects.filter(
            code_hash__in=hashes,
            service=client.service,
            used_at__isnull=True,
            created_at__gt=now - _code_lifetime(),
        ).update(used_at=now)
        if taken != 1:
            replayed = AuthorizationCode.objects.filter(
                code_hash__in=hashes, service=client.service, used_at__isnull=False
            ).first()
            if replayed is not None:
                revoke_tokens_of_code(replayed)
            return None
        row = AuthorizationCode.objects.select_related(
            "service", "person", "actor", "professional"
        ).get(code_hash__in=hashes)
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Nothing: the code was consumed when it was read."""

    def authenticate_user(self, authorization_code: Code) -> Subject:
        return subject_of_grant(authorization_code.row)


def revoke_tokens_of_code(code: AuthorizationCode) -> None:
    tokens = Token.objects.filter(from_code=code)
    Token.objects.filter(Q(pk__in=tokens) | Q(line__in=tokens)).live().update(
        revoked_at=timezone.now()
    )


class S256Challenge(CodeChallenge):
    """PKCE, S256 only: `plain` would send the verifier itself through the browser."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        if grant.request.payload.data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "PKCE with 'code_challenge_method=S256' is required.",
                redirect_uri=redirect_uri,
            )
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: Code) -> str:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: Code) -> str:
        return authorization_code.row.code_challenge_method


class IDToken(OpenIDCode):
    """The ID token: signed by the provider's current key (esante.provider.keys), with
    `acr`, `amr`, `auth_time`, the browser session's `sid` (for back-channel logout), and
    the claims of the scopes consented."""

    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return AuthorizationCode.objects.filter(
            service__client_id=request.payload.client_id, nonce=nonce
        ).exists()

    def resolve_client_private_key(self, client: Client) -> Any:
        return keys.signing_key()

    def get_client_algorithm(self, client: Client) -> str:
        return keys.ALGORITHM

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": keys.ALGORITHM, "kid": keys.signing_key().kid or ""}

    def get_compatible_claims(self, request: OAuth2Request) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": issuer(request._request),
            "aud": [request.client.get_client_id()],
            "iat": now,
            "exp": now + settings.ESANTE_OIDC_ID_TOKEN_SECONDS,
        }

    def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
        found: dict[str, Any] = dict(super().get_authorization_code_claims(authorization_code))
        row = authorization_code.row
        sid = session_id_claim(row.patient_session_id, row.professional_session_id)
        if sid:
            found["sid"] = sid
        return found

    def generate_user_info(self, user: Subject, scope: str) -> UserInfo:
        return claims.user_info(user, scope, issuer_url=current_issuer())


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        """The refresh token, if it is live. One already used or revoked is refused, and a
        reuse (used once already, by its rotation) revokes its whole line: a stolen refresh
        token stops working for the thief and the owner alike, who logs in again."""
        row = (
            Token.objects.select_related("service", "person", "actor", "professional")
            .filter(refresh_token_hash__in=keyed_hashes(REFRESH_KIND, refresh_token))
            .first()
        )
        if row is None:
            return None
        if row.revoked_at is not None:
            if row.rotated:
                revoke_line(row)
            return None
        if row.refresh_expires_at is not None and timezone.now() >= row.refresh_expires_at:
            return None
        if not consent_stands(row):
            return None
        return IssuedToken(row)

    def authenticate_user(self, refresh_token: IssuedToken) -> Subject:
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        # Conditional: of two refreshes racing with the same token, the second finds it
        # revoked, and the line is revoked as for any reuse.
        updated = Token.objects.filter(pk=refresh_token.row.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), rotated=True
        )
        if updated != 1:
            revoke_line(refresh_token.row)
            raise InvalidGrantError("Invalid 'refresh_token' in request.")


def revoke_line(row: Token) -> None:
    line = row.line_id or row.pk
    Token.objects.filter(Q(pk=line) | Q(line_id=line)).live().update(revoked_at=timezone.now())


def consent_stands(row: Token) -> bool:
    """The token's consent was not withdrawn (withdrawing revokes the tokens too; this
    holds even for one issued in the same instant)."""
    return Consent.objects.covering(
        row.service, person=row.person, actor=row.actor, professional=row.professional
    ).exists()


class AccessTokens(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> IssuedToken | None:
        row = (
            Token.objects.select_related("service", "person", "actor", "professional")
            .filter(access_token_hash__in=keyed_hashes(ACCESS_KIND, token_string))
            .first()
        )
        return IssuedToken(row) if row is not None else None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        rows = Token.objects.select_related("service")
        if token_type_hint != "refresh_token":  # noqa: S105 - a hint's name
            row = rows.filter(access_token_hash__in=keyed_hashes(ACCESS_KIND, token_string)).first()
            if row is not None:
                return IssuedToken(row)
        row = rows.filter(refresh_token_hash__in=keyed_hashes(REFRESH_KIND, token_string)).first()
        return IssuedToken(row) if row is not None else None

    def revoke_token(self, token: IssuedToken, request: OAuth2Request) -> None:
        revoke_line(token.row)


class Provider(AuthorizationServer):
    """The server, with our models: Services as clients, Tokens kept by hash."""

    def __init__(self) -> None:
        super().__init__(Service, Token)

    def query_client(self, client_id: str) -> Client | None:
        if not client_id:
            return None
        service = Service.objects.filter(client_id=client_id, is_active=True).first()
        return Client(service) if service is not None else None

    @transaction.atomic
    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> Token:
        subject: Subject = request.user
        now = timezone.now()
        scope = token.get("scope", "")
        refresh = token.get("refresh_token")
        if refresh is None:
            token.pop("refresh_token", None)  # not registered for them: none, not null
        offline = "offline_access" in scope.split()
        previous: Token | None = None
        if request.refresh_token is not None:
            previous = request.refresh_token.row
        code_row = request.authorization_code.row if request.authorization_code else None
        refresh_expires_at = None
        if refresh:
            lifetime = (
                datetime.timedelta(days=settings.ESANTE_OIDC_OFFLINE_DAYS)
                if offline
                else datetime.timedelta(hours=settings.ESANTE_SESSION_MAX_HOURS)
            )
            refresh_expires_at = (
                previous.refresh_expires_at if previous is not None else now + lifetime
            )
        row = Token.objects.create(
            access_token_hash=keyed_hash(ACCESS_KIND, token["access_token"]),
            refresh_token_hash=keyed_hash(REFRESH_KIND, refresh) if refresh else None,
            scope=scope,
            issued_at=now,
            expires_in=int(token["expires_in"]),
            refresh_expires_at=refresh_expires_at,
            offline=offline,
            line=(previous.line or previous) if previous is not None else None,
            from_code=code_row,
            sid=subject.sid,
            issuer=current_issuer(),
            **_grant_fields(subject),
        )
        claims.record_shared(subject, scope, now)
        if smart.LAUNCH_PATIENT in scope.split() and subject.person is not None:
            # SMART App Launch: the patient chosen at launch, in the token response.
            token["patient"] = str(
                CareRecord.objects.only("public_id").get(person=subject.person).public_id
            )
        return row


def _expires_in(client: Client, grant_type: str) -> int:
    return int(settings.ESANTE_OIDC_ACCESS_TOKEN_SECONDS)


def _refresh_token_generator(client: Client, grant_type: str, user: Any, scope: str) -> Any:
    """A refresh token only for a service registered for them."""
    if not client.service.refresh_tokens:
        return None
    return generate_token(48)


# The issuer of the request being served: Authlib builds claims where it gives no Django
# request (the token and userinfo endpoints), so the views set it first (set_issuer).
_current_issuer: contextvars.ContextVar[str] = contextvars.ContextVar("issuer", default="")


def current_issuer() -> str:
    return _current_issuer.get()


def build() -> Provider:
    server = Provider()
    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            access_token_generator=lambda *args, **kwargs: _new_token(),
            refresh_token_generator=_refresh_token_generator,
            expires_generator=_expires_in,
        ),
    )
    server.register_grant(CodeGrant, [S256Challenge(required=True), IDToken()])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    return server


def build_protector() -> ResourceProtector:
    """What checks a bearer token (userinfo, and the FHIR API to come)."""
    protector = ResourceProtector()
    protector.register_token_validator(AccessTokens())
    return protector


def _new_token() -> str:
    return str(generate_token(42))


def set_issuer(request: HttpRequest) -> str:
    value = issuer(request)
    _current_issuer.set(value)
    return value
