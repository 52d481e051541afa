"""Keyed hashes of codes: activation codes and one-time codes are stored only this way.

HMAC-SHA256 under settings.ESANTE_CODE_HMAC_KEY, with the code's kind in the message so
that a hash of one kind can never be replayed as another. Compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def keyed_hash(kind: str, code: str) -> str:
    key = settings.ESANTE_CODE_HMAC_KEY.encode()
    return hmac.new(key, f"{kind}\0{code}".encode(), hashlib.sha256).hexdigest()


def hash_matches(stored: str, kind: str, code: str) -> bool:
    return hmac.compare_digest(stored, keyed_hash(kind, code))
