"""Keyed hashes of codes: activation codes and one-time codes are stored only this way.

HMAC-SHA256 under settings.ESANTE_CODE_HMAC_KEY, with the code's kind in the message so
that a hash of one kind can never be replayed as another. Compared in constant time.

A rotation (docs/operations.md): the new key in ESANTE_CODE_HMAC_KEY, the old one in
ESANTE_CODE_HMAC_KEY_FALLBACKS. New hashes use the new key; a code stored under an old
key still matches until the fallback is dropped (after the letters' lifetime).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def _keys() -> list[str]:
    return [settings.ESANTE_CODE_HMAC_KEY, *settings.ESANTE_CODE_HMAC_KEY_FALLBACKS]


def _hash(key: str, kind: str, code: str) -> str:
    return hmac.new(key.encode(), f"{kind}\0{code}".encode(), hashlib.sha256).hexdigest()


def keyed_hash(kind: str, code: str) -> str:
    """The hash to store: under the current key."""
    return _hash(settings.ESANTE_CODE_HMAC_KEY, kind, code)


def keyed_hashes(kind: str, code: str) -> list[str]:
    """The hashes a stored one may be: under the current key, then each fallback."""
    return [_hash(key, kind, code) for key in _keys()]


def hash_matches(stored: str, kind: str, code: str) -> bool:
    # Every key is tried (no early exit): the time does not tell which one matched.
    matches = [hmac.compare_digest(stored, each) for each in keyed_hashes(kind, code)]
    return any(matches)
