"""Where the service keeps who is logged in, and the logins under way: in this process.

The browser's cookie holds only a random key into `SessionStore`, so that a back-channel
logout, which the platform sends without the browser, can end a session: the store is
searched by the platform's session id (`sid`) or subject (`sub`), and the next request
with the cookie finds nothing. `StateCache` keeps Authlib's data of a login under way (the
PKCE verifier, the nonce) out of the cookie too, which is only signed, not encrypted.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# A working day: the demo does not ask people to log in again before.
SESSION_LIFETIME = 8 * 3600  # seconds


@dataclass(frozen=True)
class LocalSession:
    """One browser logged in through the platform."""

    sub: str
    # The platform's session, as the ID token names it; None when it sends no `sid`.
    sid: str | None
    # Sent back as `id_token_hint` when the person logs out at the platform.
    id_token: str
    id_claims: dict[str, Any]
    userinfo: dict[str, Any]


class SessionStore:
    def __init__(
        self,
        lifetime: float = SESSION_LIFETIME,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Each session with the time it opened.
        self._sessions: dict[str, tuple[LocalSession, float]] = {}
        self._lock = threading.Lock()
        self._lifetime = lifetime
        self._clock = clock

    def open(self, session: LocalSession) -> str:
        """Keep `session` under a new random key, to put in the browser's cookie."""
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            self._sessions[key] = (session, self._clock())
        return key

    def get(self, key: str) -> LocalSession | None:
        with self._lock:
            self._forget_expired()
            session, _ = self._sessions.get(key, (None, 0.0))
            return session

    def close(self, key: str) -> LocalSession | None:
        with self._lock:
            session, _ = self._sessions.pop(key, (None, 0.0))
            return session

    def close_for_provider(self, *, sid: str | None, sub: str | None) -> int:
        """End the sessions a back-channel logout names: those of the platform's session
        `sid` (and of subject `sub` when it is given too), else every session of `sub`.
        Returns how many ended."""
        if sid is None and sub is None:
            return 0  # it names nobody (the logout token's check refuses it before)
        with self._lock:
            ended = [
                key
                for key, (session, _) in self._sessions.items()
                if (sid is None or session.sid == sid) and (sub is None or session.sub == sub)
            ]
            for key in ended:
                del self._sessions[key]
        return len(ended)

    def _forget_expired(self) -> None:
        oldest = self._clock() - self._lifetime
        expired = [key for key, (_, opened_at) in self._sessions.items() if opened_at < oldest]
        for key in expired:
            del self._sessions[key]


class StateCache:
    """The cache Authlib's Flask client accepts (`get`, `set`, `delete`), in memory; an
    entry lives `expires` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, key: str) -> str | None:
        with self._lock:
            value, expires_at = self._entries.get(key, ("", 0.0))
            return value if expires_at > self._clock() else None

    def set(self, key: str, value: str, expires: float) -> None:
        now = self._clock()
        with self._lock:
            for old in [k for k, (_, expires_at) in self._entries.items() if expires_at <= now]:
                del self._entries[old]
            self._entries[key] = (value, now + expires)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
