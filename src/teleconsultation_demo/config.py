"""The service's settings, read from `TELECONSULTATION_*` environment variables (the list
is in the package's docstring). A bad value stops the start with a message naming the
variable, rather than a service that fails at the first login."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TypedDict
from urllib.parse import urlsplit

DEFAULT_PORT = 8002


class Config(TypedDict):
    """What `create_app` needs; URLs without a trailing slash."""

    issuer: str
    client_id: str
    client_secret: str
    base_url: str
    secret_key: str


class ConfigurationError(Exception):
    pass


def config_from_environment(environ: Mapping[str, str]) -> tuple[Config, int]:
    """The service's config and the port to listen on."""
    port = _port(environ.get("TELECONSULTATION_PORT", ""))
    config = Config(
        issuer=_url(environ, "TELECONSULTATION_ISSUER", default=None),
        client_id=_required(environ, "TELECONSULTATION_CLIENT_ID"),
        client_secret=_required(environ, "TELECONSULTATION_CLIENT_SECRET"),
        base_url=_url(environ, "TELECONSULTATION_BASE_URL", default=f"http://localhost:{port}"),
        secret_key=environ.get("TELECONSULTATION_SECRET_KEY") or secrets.token_hex(32),
    )
    return config, port


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"The environment variable {name} is required.")
    return value


def _url(environ: Mapping[str, str], name: str, *, default: str | None) -> str:
    value = environ.get(name, "").strip() or default
    if value is None:
        raise ConfigurationError(f"The environment variable {name} is required.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ConfigurationError(f"{name}={value!r}: expected an http(s) URL, without query.")
    return value.rstrip("/")


def _port(value: str) -> int:
    if not value.strip():
        return DEFAULT_PORT
    try:
        port = int(value)
    except ValueError:
        raise ConfigurationError(
            f"TELECONSULTATION_PORT={value!r}: expected a whole number."
        ) from None
    if not 1 <= port <= 65535:
        raise ConfigurationError(f"TELECONSULTATION_PORT={value!r}: expected 1 to 65535.")
    return port
