"""Logging out everywhere.

- RP-initiated logout (`end_session`): a service sends the person here to log out of the
  platform (Authlib's EndSessionEndpoint checks the `id_token_hint` and the registered
  `post_logout_redirect_uri`).
- Back-channel logout (OpenID Connect Back-Channel Logout 1.0): whenever a platform
  session or a right ends (esante.provider.receivers), each service that holds a token of
  it receives a logout token — a JWT signed with the provider's key (joserfc, Authlib's
  JOSE library), naming the person's pairwise `sub` at that service and the session's
  `sid` — at its registered `backchannel_logout_uri`. Sent once the transaction commits,
  after the response's last byte (nobody waits for a service), each send audited with its
  outcome."""

from __future__ import annotations

import contextvars
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import requests
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from joserfc import jwt
from joserfc.jwk import KeySet

from esante.accounts import patient_sessions
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.practice import sessions as professional_sessions
from esante.provider import claims, keys
from esante.provider.models import Token
from esante.provider.server import current_issuer, session_id_claim

logger = logging.getLogger(__name__)

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class EndSession(EndSessionEndpoint):
    def get_server_jwks(self) -> KeySet:
        return keys.published()

    def get_algorithms(self) -> list[str]:
        return [keys.ALGORITHM]

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Any:
        """Our ID tokens name one audience, in a list: that service."""
        audience = id_token_claims.get("aud")
        if isinstance(audience, list) and len(audience) == 1:
            audience = audience[0]
        return self.server.query_client(audience) if isinstance(audience, str) else None

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        """Nothing here: the view logs out (after a confirmation, when it needs one)."""


def validate_end_session(request: HttpRequest) -> EndSessionRequest:
    from esante.provider.views import SERVER

    endpoint = EndSession(server=SERVER)
    ended = endpoint.validate_request(SERVER.create_oauth2_request(request))
    if ended.id_token_claims is not None and ended.id_token_claims.get("iss") != current_issuer():
        raise InvalidRequestError("The 'id_token_hint' was not issued here.")
    return ended


def log_out_of_platform(request: HttpRequest) -> None:
    """The person's platform session ends (its receivers revoke the tokens and tell the
    services)."""
    if request.session.get(patient_sessions.SESSION_KEY) is not None:
        patient_sessions.log_out(request, reason="service_logout")
    else:
        professional_sessions.log_out(request, reason="service_logout")


@dataclass(frozen=True)
class Delivery:
    service_id: int
    client_id: str
    uri: str
    sub: str
    sid: str
    issuer: str
    reason: str


def deliveries_for(tokens: Iterable[Token], reason: str) -> list[Delivery]:
    """One logout token per service and session (or person, for a token of no session)."""
    found: dict[tuple[int, str, str], Delivery] = {}
    for token in tokens:
        service = token.service
        if not service.backchannel_logout_uri:
            continue
        sub = claims.subject_of(service, token.person, token.professional)
        sid = token.sid or session_id_claim(token.patient_session_id, token.professional_session_id)
        found.setdefault(
            (service.pk, sub, sid),
            Delivery(
                service_id=service.pk,
                client_id=service.client_id,
                uri=service.backchannel_logout_uri,
                sub=sub,
                sid=sid,
                issuer=token.issuer,
                reason=reason,
            ),
        )
    return list(found.values())


def logout_token(delivery: Delivery) -> str:
    key = keys.signing_key()
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": delivery.issuer,
        "aud": delivery.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sub": delivery.sub,
        "events": {BACKCHANNEL_EVENT: {}},
    }
    if delivery.sid:
        payload["sid"] = delivery.sid
    header = {"alg": keys.ALGORITHM, "kid": key.kid or "", "typ": "logout+jwt"}
    return jwt.encode(header, payload, key, algorithms=[keys.ALGORITHM])


def send(delivery: Delivery) -> None:
    status: int | None = None
    error = ""
    try:
        answer = requests.post(
            delivery.uri,
            data={"logout_token": logout_token(delivery)},
            timeout=settings.ESANTE_OIDC_LOGOUT_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        status = answer.status_code
    except requests.RequestException as failure:
        error = type(failure).__name__
    if status != 200:
        logger.warning("Back-channel logout to %s: %s %s", delivery.client_id, status, error)
    record_event(
        EventType.SERVICE_LOGOUT_SENT,
        actor="system",
        service=delivery.client_id,
        reason=delivery.reason,
        status=status,
        error=error,
    )


# Sent after the response, as the notifications are (esante.notifications.middleware).
_after_response: contextvars.ContextVar[list[Delivery] | None] = contextvars.ContextVar(
    "backchannel_logouts", default=None
)


def _send_all(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        send(delivery)


def tell_services(tokens: Iterable[Token], *, reason: str) -> None:
    deliveries = deliveries_for(tokens, reason)
    if not deliveries:
        return

    def queue() -> None:
        waiting = _after_response.get()
        if waiting is None:  # a command, not a request: now
            _send_all(deliveries)
        else:
            waiting.extend(deliveries)

    transaction.on_commit(queue)


class LogoutAfterResponseMiddleware:
    """Sends the back-channel logouts a request committed once its response is sent."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        waiting: list[Delivery] = []
        token = _after_response.set(waiting)
        try:
            response = self.get_response(request)
        finally:
            _after_response.reset(token)
        if waiting:
            response._resource_closers.append(partial(_send_all, waiting))  # type: ignore[attr-defined]
        return response
