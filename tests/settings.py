"""Settings for the test suite: production settings, with test secrets and a test var/."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("ESANTE_CODE_HMAC_KEY", "test-code-hmac-key")
os.environ.setdefault(
    "ESANTE_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)
# The test client and live server speak plain HTTP.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from esante.settings import *  # noqa: F403
