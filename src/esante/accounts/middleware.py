"""The patients' middleware: request.patient (who is logged in, for every view and
template), and the identity providers' origins in every page's CSP form-action."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from esante.accounts.authenticators import identity_providers
from esante.accounts.patient_sessions import Patient, PatientRequest

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class PatientMiddleware:
    """Sets request.patient, read lazily: a public page costs no query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cast(PatientRequest, request).patient = Patient(request)
        return self.get_response(request)


LOGIN_REQUIRED = _("Connectez-vous pour accéder à cette page.")
MAJORITY_CHANNEL_PENDING = _(
    "Dernière étape pour faire de ce compte le vôtre : indiquez votre propre numéro de "
    "mobile ou adresse e-mail, qui recevra désormais vos codes."
)
MAJORITY_CHANNEL_VIEWS = {
    "patient:contact",
    "patient:contact_code",
    # A new channel needs a fresh proof of the current one (esante.accounts.reauth).
    "patient:step_up",
    "patient:step_up_code",
    "patient:step_up_passkey_options",
    "patient:step_up_passkey",
}


def patient_required(view: View) -> View:
    """Only for a logged-in patient; others go to the login page, then come back."""

    @wraps(view)
    def wrapper(request: PatientRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.patient.account is None:
            messages.info(request, LOGIN_REQUIRED)
            query = urlencode({"suivant": request.get_full_path()})
            return redirect(f"{reverse('patient:login')}?{query}")
        account = request.patient.account
        if account.majority_review_due:
            # Come of age: the holder makes the account their own before anything else —
            # the review, then the new code channel if they chose to replace the parent's.
            match = request.resolver_match
            view_name = match.view_name if match is not None else ""
            if account.majority_channel_pending:
                if view_name not in MAJORITY_CHANNEL_VIEWS:
                    messages.info(request, MAJORITY_CHANNEL_PENDING)
                    return redirect("patient:contact")
            elif view_name != "records:majority":
                return redirect("records:majority")
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


class ProviderFormActionMiddleware:
    """Adds the providers' origins to the CSP `form-action` of every page (django-csp reads
    `_csp_update` on the response)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = identity_providers.form_action_origins()
        if origins and response.get("Content-Type", "").startswith("text/html"):
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [*update.get("form-action", []), *origins]
            response._csp_update = update  # type: ignore[attr-defined]
        return response
