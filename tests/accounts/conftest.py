"""What the activation tests share: letters printed to a temporary folder, demo mode (so
that the outbox shows codes in clear, as the dev outbox does) and the captcha's test
mode (it accepts "PASSED")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from captcha.conf import settings as captcha_settings


@pytest.fixture(autouse=True)
def activation_settings(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "letters": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "letters")},
        },
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    settings.ESANTE_DEMO = True
    # django-simple-captcha reads its test mode once, at import: set where it reads it.
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)
