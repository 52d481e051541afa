from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from esante import client_address
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.portal import limit_pages
from esante.ratelimit import RateLimited


class PermissionsPolicyMiddleware:
    """Adds the Permissions-Policy header (Django has no setting for it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class NeverCacheMiddleware:
    """No answer of the application is kept by a browser's or a shared cache: every
    response gets Django's never-cache headers (`Cache-Control: max-age=0, no-cache,
    no-store, must-revalidate, private`, `Expires`) and `Pragma: no-cache` for HTTP/1.0
    proxies (ASVS 5.0 14.3.2, 14.2.2).

    For every response, not only the pages known to show personal data: a record, a code
    page, a flow step showing a name, an error page after a login — whether a page is
    personal is not knowable here, and a page that becomes personal later must not need
    to remember a decorator. Static files never come this far: whitenoise, before this
    middleware, answers them with their long cache.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        response.headers.setdefault("Pragma", "no-cache")
        return response


class RateLimitMiddleware:
    """Turns esante.ratelimit.RateLimited into the "try later" page of the rule that refused."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RateLimited):
            return None
        record_event(
            EventType.RATE_LIMITED,
            actor="anonymous",
            ip_address=client_address.of(request),
            action=exception.action,
            scope=exception.rule.scope,
            path=request.path,
        )
        page = limit_pages.context(
            exception.action, exception.rule, exception.window_end, timezone.now()
        )
        response = render(request, "429.html", page, status=429)
        response["Retry-After"] = str(exception.retry_after)
        return response
