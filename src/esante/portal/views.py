"""The portal's public pages: what the eSanté account is and how to activate and use it.

Two public pages, where an account's journeys start, are the accounts': the activation
page (esante.accounts.activation.views.activation_page) and the login choice
(esante.accounts.login.views.login_choice). esante/urls.py names all of them "portal:…"."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from esante.portal.services import guide_services


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


def services(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/services.html",
        {"services": {service.key: service for service in guide_services()}},
    )


def teleconsultation(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/teleconsultation.html",
        {"teleconsultation_url": settings.ESANTE_TELECONSULTATION_URL},
    )


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and other clients ask for whatever the page links: the
    icon of base.html (a redirect, its static name being hashed in production)."""
    return HttpResponseRedirect(static("esante/img/favicon.svg"))
