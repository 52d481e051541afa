"""The authenticator app (TOTP, RFC 6238): 30-second steps, 6 digits, one step of drift
either way, and no code accepted twice (the account keeps the last step it accepted).

The secret must be read back to check codes, so it cannot be a hash: it is sealed with
Fernet under a key derived from ESANTE_CODE_HMAC_KEY, in the account and, while being set
up, in the one-time code row of the flow. The QR code is drawn here as SVG (segno): no
third party ever sees the secret. Ten recovery codes stand in for the app when it is the
account's only channel; they are shown once and kept as keyed hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from esante.accounts.models import Account, RecoveryCode
from esante.keyed_hash import hash_matches

PERIOD = 30
DIGITS = 6
DRIFT_STEPS = 1
ISSUER = "eSanté"
RECOVERY_COUNT = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
RECOVERY_KIND = "recovery"


def _fernets() -> list[Fernet]:
    """The current key's Fernet, then each fallback's (a rotation: `esante
    reseal-secrets` then seals every stored secret under the current key)."""
    keys = [settings.ESANTE_CODE_HMAC_KEY, *settings.ESANTE_CODE_HMAC_KEY_FALLBACKS]
    return [
        Fernet(
            base64.urlsafe_b64encode(hashlib.sha256(b"esante-totp-seal\0" + key.encode()).digest())
        )
        for key in keys
    ]


def _fernet() -> MultiFernet:
    """Seals under the current key; opens under it or a fallback."""
    return MultiFernet(_fernets())


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def reseal(sealed: str) -> str:
    """`sealed` under the current key (unchanged if it already is)."""
    try:
        _fernets()[0].decrypt(sealed.encode())
    except InvalidToken:
        return _fernet().rotate(sealed.encode()).decode()
    return sealed


def unseal(sealed: str) -> str | None:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def matching_step(sealed: str, code: str, *, at: float | None = None) -> int | None:
    """The time step whose code is `code` (now, or one step before or after), or None."""
    secret = unseal(sealed)
    if secret is None or len(code) != DIGITS or not code.isdigit():
        return None
    generator = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = int((time.time() if at is None else at) // PERIOD)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(generator.at(step * PERIOD), code):
            return step
    return None


def claim_step(account_id: int, step: int) -> bool:
    """Record `step` as used, only if it is newer than the last one (one conditional
    UPDATE: two nodes checking the same code cannot both succeed)."""
    return bool(
        Account.objects.filter(pk=account_id, totp_last_step__lt=step).update(totp_last_step=step)
    )


def setup_uri(sealed: str, label: str) -> str:
    secret = unseal(sealed) or ""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=label, issuer_name=ISSUER
    )


def qr_svg(uri: str, title: str) -> str:
    """The QR code of `uri` as inline SVG, with an accessible name."""
    svg: str = segno.make(uri, error="m").svg_inline(
        scale=5, border=2, title=title, dark="#000", light="#fff", svgclass="totp-qr"
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


def grouped_secret(sealed: str) -> str:
    """The secret to type by hand, in groups of four: "ABCD EFGH …"."""
    secret = unseal(sealed) or ""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def normalize_recovery(typed: str) -> str | None:
    text = "".join(char for char in typed.upper() if char.isalnum())
    if len(text) != 10 or any(char not in RECOVERY_ALPHABET for char in text):
        return None
    return text


@transaction.atomic
def new_recovery_codes(account: Account) -> list[str]:
    """Ten fresh codes (the old ones stop working); the plain codes are returned once.
    The sheet that may have reset the password is dead: a recovery code may open the
    account again (with the password)."""
    account.recovery_codes.all().delete()
    Account.objects.filter(pk=account.pk, password_reset_by_recovery_code=True).update(
        password_reset_by_recovery_code=False
    )
    account.password_reset_by_recovery_code = False
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10)) for _ in range(10)]
    # 50 bits each: kept as password hashes (Argon2id, salted), as ASVS 5.0 6.5.2 asks of
    # lookup secrets under 112 bits; a keyed hash alone would fall to whoever got the key.
    RecoveryCode.objects.bulk_create(
        RecoveryCode(account=account, code_hash=make_password(code)) for code in codes
    )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _recovery_matches(stored: str, code: str) -> bool:
    """An Argon2id hash, or a keyed hash of the codes made before they were hashed so."""
    if "$" in stored:
        return check_password(code, stored)
    return hash_matches(stored, RECOVERY_KIND, code)


def use_recovery_code(account_id: int, typed: str) -> bool:
    """Consume one unused recovery code matching `typed` (atomically)."""
    code = normalize_recovery(typed)
    if code is None:
        return False
    for candidate in RecoveryCode.objects.filter(account_id=account_id, used_at__isnull=True):
        if _recovery_matches(candidate.code_hash, code):
            return bool(
                RecoveryCode.objects.filter(pk=candidate.pk, used_at__isnull=True).update(
                    used_at=timezone.now()
                )
            )
    return False
