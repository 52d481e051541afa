"""The helpdesk's middleware: a staff session ends when idle or too old."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from esante.helpdesk.auth import (
    EXPIRED_MESSAGE,
    IDLE_MESSAGE,
    LAST_SEEN_KEY,
    LOGGED_IN_KEY,
    log_staff_out,
)


class StaffIdleTimeoutMiddleware:
    """Ends a staff session after ESANTE_STAFF_IDLE_MINUTES without a request, or
    ESANTE_STAFF_MAX_HOURS after its login (ASVS 5.0 7.3.2). A session without its login
    time (opened before the limit existed) ends too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        last_seen = request.session.get(LAST_SEEN_KEY) if hasattr(request, "session") else None
        if last_seen is not None:
            now = time.time()
            logged_in = float(request.session.get(LOGGED_IN_KEY) or 0)
            if now - float(last_seen) > settings.ESANTE_STAFF_IDLE_MINUTES * 60:
                log_staff_out(request, reason="idle")
                messages.info(
                    request, IDLE_MESSAGE % {"minutes": settings.ESANTE_STAFF_IDLE_MINUTES}
                )
            elif now - logged_in > settings.ESANTE_STAFF_MAX_HOURS * 3600:
                log_staff_out(request, reason="expired")
                messages.info(request, EXPIRED_MESSAGE % {"hours": settings.ESANTE_STAFF_MAX_HOURS})
            else:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)
