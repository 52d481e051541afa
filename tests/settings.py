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

# Static files in tests (added with the portal frame). Production settings keep
# whitenoise's CompressedManifestStaticFilesStorage, which needs `collectstatic` before
# any page renders `{% static %}`. Tests serve the app's own files from the finders
# instead, as `runserver` does: the test client through whitenoise, pytest-django's
# live server through its own StaticFilesHandler (which only knows the finders, so it
# could not serve hashed manifest names anyway). tests/portal/test_static_files.py runs
# `collectstatic` with the production storage, so a broken reference still fails a test.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# whitenoise warns when STATIC_ROOT is missing; tests never collect into it.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# The demo app in every test, as demo mode has it (first: its `serve` takes the place of
# the portal's); the tests turn demo mode itself on and off with the `settings` fixture.
# tests/demo/test_app.py checks that production settings install none of it.
if "esante.demo" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS.insert(0, "esante.demo")  # noqa: F405
