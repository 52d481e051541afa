"""OpenID Connect Back-Channel Logout 1.0, the receiving end: the platform POSTs a signed
logout token when a person's session there ends, and the service ends its own sessions of
that person. https://openid.net/specs/openid-connect-backchannel-1_0.html

The token arrives without a browser and without any secret of ours, so everything rests
on its checks (section 2.6): the platform's signature, its issuer, our client id as
audience, a recent `iat`, the back-channel logout event, a `sid` or a `sub`, no `nonce`
(so that an ID token cannot pass for one) and a `jti` not seen before (so that a
captured token cannot end later sessions).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jws import JWSRegistry

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"

# How far a token's `iat` may be from our clock, either way. Also how long a `jti` is
# remembered: an older token is refused for its `iat` already.
MAX_TOKEN_AGE = 300  # seconds

# The least time between two fetches of the platform's keys for a token signed with an
# unknown key: keys rotate, but anybody can POST a token naming a key that does not exist.
JWKS_REFETCH_INTERVAL = 60  # seconds


class InvalidLogoutToken(Exception):
    """Why a logout token is refused, for the log and the 400 answer's description."""


class Provider(Protocol):
    """What the check needs from the platform: Authlib's client has both methods."""

    def load_server_metadata(self) -> dict[str, Any]: ...

    def fetch_jwk_set(self, force: bool = False) -> KeySetSerialization: ...


@dataclass(frozen=True)
class LogoutRequest:
    """Whose sessions a valid logout token ends."""

    sid: str | None
    sub: str | None


class LogoutTokenVerifier:
    def __init__(
        self, provider: Provider, client_id: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._provider = provider
        self._client_id = client_id
        self._clock = clock
        self._seen_jtis: dict[str, float] = {}  # jti → when it may be forgotten
        self._lock = threading.Lock()
        self._last_forced_fetch = -float("inf")

    def verify(self, token: str) -> LogoutRequest:
        """The sessions `token` ends, or InvalidLogoutToken. Fetching the platform's
        metadata or keys may raise requests' errors."""
        metadata = self._provider.load_server_metadata()
        claims = self._decode(token, metadata)
        now = self._clock()
        if claims.get("iss") != metadata.get("issuer"):
            raise InvalidLogoutToken("iss is not the platform's issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._client_id not in audiences:
            raise InvalidLogoutToken("aud does not name this client")
        issued_at = claims.get("iat")
        if not isinstance(issued_at, int | float) or abs(now - issued_at) > MAX_TOKEN_AGE:
            raise InvalidLogoutToken("iat is missing or not recent")
        expires_at = claims.get("exp")
        if expires_at is not None and (not isinstance(expires_at, int | float) or expires_at < now):
            raise InvalidLogoutToken("exp has passed")
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events:
            raise InvalidLogoutToken("events lacks the back-channel logout event")
        sid, sub = claims.get("sid"), claims.get("sub")
        if not isinstance(sid, str | None) or not isinstance(sub, str | None):
            raise InvalidLogoutToken("sid and sub must be strings")
        if sid is None and sub is None:
            raise InvalidLogoutToken("neither sid nor sub")
        if "nonce" in claims:
            raise InvalidLogoutToken("a logout token has no nonce")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise InvalidLogoutToken("jti is missing")
        self._remember(jti, forget_at=issued_at + MAX_TOKEN_AGE, now=now)
        return LogoutRequest(sid=sid, sub=sub)

    def _decode(self, token: str, metadata: dict[str, Any]) -> dict[str, Any]:
        # The algorithms the platform signs ID tokens with: logout tokens use the same
        # (section 2.4), and "none" is never one of them here.
        algorithms = [
            alg
            for alg in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            if alg != "none"
        ]
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        try:
            try:
                keys = KeySet.import_key_set(self._provider.fetch_jwk_set())
                decoded = jwt.decode(token, keys, registry=registry)
            except InvalidKeyIdError:
                if not self._may_fetch_keys_again():
                    raise
                keys = KeySet.import_key_set(self._provider.fetch_jwk_set(force=True))
                decoded = jwt.decode(token, keys, registry=registry)
        except (JoseError, ValueError) as error:
            raise InvalidLogoutToken(f"not a JWT signed by the platform ({error})") from None
        return decoded.claims

    def _may_fetch_keys_again(self) -> bool:
        with self._lock:
            now = self._clock()
            if now - self._last_forced_fetch < JWKS_REFETCH_INTERVAL:
                return False
            self._last_forced_fetch = now
            return True

    def _remember(self, jti: str, *, forget_at: float, now: float) -> None:
        """Refuse a `jti` seen before; after `forget_at` the token's `iat` refuses it."""
        with self._lock:
            for old in [old for old, until in self._seen_jtis.items() if until < now]:
                del self._seen_jtis[old]
            if jti in self._seen_jtis:
                raise InvalidLogoutToken("jti was seen before")
            self._seen_jtis[jti] = forget_at
