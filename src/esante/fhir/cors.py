"""CORS for browser apps: django-cors-headers answers on the API and the provider's
endpoints (settings.CORS_URLS_REGEX) for an origin that an active registered service
names (`esante create-service --origin`), read at most once a minute per process."""

from __future__ import annotations

import re
import time
from typing import Any

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.http import HttpRequest

from esante.services.models import Service

_TTL_SECONDS = 60.0
_cache: tuple[float, frozenset[str]] = (-_TTL_SECONDS, frozenset())


def registered_origins() -> frozenset[str]:
    global _cache
    read_at, origins = _cache
    if time.monotonic() - read_at >= _TTL_SECONDS:
        found: set[str] = set()
        for each in Service.objects.filter(is_active=True).values_list(
            "allowed_origins", flat=True
        ):
            found.update(each or [])
        origins = frozenset(found)
        _cache = (time.monotonic(), origins)
    return origins


def forget() -> None:
    """Read the origins again at the next request (a service registered or changed)."""
    global _cache
    _cache = (-_TTL_SECONDS, frozenset())


def allow_registered_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """django-cors-headers answers CORS on a path of CORS_URLS_REGEX *or* where this says
    yes: so it says yes only there, for a registered origin (never on the portal's pages)."""
    if not re.match(settings.CORS_URLS_REGEX, request.path_info):
        return False
    return request.headers.get("Origin", "") in registered_origins()


def connect() -> None:
    check_request_enabled.connect(allow_registered_origin, dispatch_uid="esante.fhir.cors")
