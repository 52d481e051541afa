"""The fuzz properties share the activation tests' settings: letters and documents in a
temporary folder, demo mode, and the captcha's test mode (it accepts "PASSED")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from esante.accounts.hashers import Argon2idHasher
from esante.accounts.patient_sessions import dummy_hash
from tests.accounts.conftest import activation_settings  # noqa: F401


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Argon2id at its smallest cost: a login with an unknown name still hashes (the
    timing defence), and at the OWASP cost that is ~50 ms an input. The fuzz tests are
    about input handling, not hashing; the dummy hash is made again after them."""
    monkeypatch.setattr(Argon2idHasher, "memory_cost", 64)  # KiB
    monkeypatch.setattr(Argon2idHasher, "time_cost", 1)
    dummy_hash.cache_clear()
    yield
    dummy_hash.cache_clear()
