"""request.professional: the professional logged in in this browser session, or None."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from esante.practice.sessions import SESSION_KEY, ProfessionalRequest, session_of


class ProfessionalMiddleware:
    """Sets request.professional. Without a professional in the session (every patient's
    and visitor's request) it returns at once: no query, and the session it looks into is
    the one the patients' and staff's middleware read anyway."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        professional_request = cast(ProfessionalRequest, request)
        if SESSION_KEY not in request.session:
            professional_request.professional = None
            return self.get_response(request)
        professional_request.professional = session_of(request)
        if professional_request.professional is None:
            messages.info(
                request,
                _("Votre session professionnelle a pris fin : reconnectez-vous."),
            )
        return self.get_response(request)
