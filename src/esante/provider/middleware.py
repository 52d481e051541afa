"""The registered services' origins in the CSP `form-action` of the pages a journey to a
service goes through: a form posted on the platform (the login's code, the consent) ends in
a redirect to the service, and browsers hold that redirect to the page's `form-action`.

Only where the browser session is on such a journey (a request remembered to resume after
the login, or the authorization pages themselves): every other page keeps 'self' alone.
The origins are read from the database at most once a minute per process."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse

from esante import resume
from esante.accounts.my_account.step_up_views import NEXT_KEY as STEP_UP_NEXT
from esante.services.models import Service

REFRESH_SECONDS = 60
_cache: tuple[float, list[str]] = (0.0, [])


def service_origins() -> list[str]:
    global _cache
    read_at, origins = _cache
    if time.monotonic() - read_at > REFRESH_SECONDS:
        found = set()
        for uris in Service.objects.filter(is_active=True).values_list("redirect_uris", flat=True):
            for uri in uris:
                parts = urlsplit(uri)
                found.add(f"{parts.scheme}://{parts.netloc}")
        origins = sorted(found)
        _cache = (time.monotonic(), origins)
    return origins


def forget() -> None:
    """After a service is registered or changed (the tests, create-service)."""
    global _cache
    _cache = (0.0, [])


class ServiceFormActionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        session = getattr(request, "session", None)
        on_journey = request.path.startswith("/oidc/") or (
            session is not None
            and (
                resume.SESSION_KEY in session
                or str(session.get(STEP_UP_NEXT, "")).startswith("/oidc/")
            )
        )
        if on_journey:
            origins = service_origins()
            if origins:
                update = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update  # type: ignore[attr-defined]
        return response
