"""The provider's signing keys: in the database (SigningKey), the private half sealed.

Every node reads the published keys at each use — one indexed query on a table of a few
rows — so `esante rotate-keys` on any node is seen by all of them at their next request:
no file to copy, no process to restart. A key's sealed text is unsealed and parsed once per
process (the cache is keyed by the sealed text itself, so a resealed key is read again)."""

from __future__ import annotations

import datetime
import functools
import json
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from joserfc.jwk import KeySet, RSAKey

from esante.accounts.authenticators import totp
from esante.provider.models import SigningKey

ALGORITHM = "RS256"


def lifetime_of_signed_tokens() -> datetime.timedelta:
    """How long a retired key stays published: longer than anything it signed lives (an ID
    token, a logout token), with a margin for the services' clocks and JWKS caches."""
    return datetime.timedelta(seconds=settings.ESANTE_OIDC_ID_TOKEN_SECONDS) + datetime.timedelta(
        hours=1
    )


@functools.lru_cache(maxsize=16)
def _parsed(sealed: str) -> RSAKey:
    plain = totp.unseal(sealed)
    if plain is None:
        raise RuntimeError("A signing key cannot be unsealed: was ESANTE_CODE_HMAC_KEY changed?")
    return RSAKey.import_key(json.loads(plain))


def _new_key() -> SigningKey:
    kid = secrets.token_urlsafe(12)
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
    return SigningKey(kid=kid, private_jwk=totp.seal(json.dumps(key.as_dict(private=True))))


@transaction.atomic
def rotate() -> SigningKey:
    """A new signing key; the one that signed until now stays published until every token
    it signed has expired."""
    now = timezone.now()
    SigningKey.objects.select_for_update().filter(retired_at__isnull=True).update(
        retired_at=now, publish_until=now + lifetime_of_signed_tokens()
    )
    key = _new_key()
    key.save()
    return key


def signing_key() -> RSAKey:
    """The key that signs now (made at the first use, if the provider has none yet)."""
    row = SigningKey.objects.filter(retired_at__isnull=True).first()
    if row is None:
        row = rotate()
    return _parsed(row.private_jwk)


def published() -> KeySet:
    """The public keys a service may meet: the signing one and the retired ones still
    within their `publish_until`."""
    rows = SigningKey.objects.filter(
        Q(retired_at__isnull=True) | Q(publish_until__gt=timezone.now())
    )
    return KeySet([_parsed(row.private_jwk) for row in rows])


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    return {"keys": [dict(key.as_dict(private=False)) for key in published().keys]}
