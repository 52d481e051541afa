"""The portal's public pages: what the eSanté account is and how to activate and use it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from esante.accounts import oidc
from esante.accounts.views import activation_page
from esante.portal.services import other_services


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


def activation(request: HttpRequest) -> HttpResponse:
    """PATIENTS → ACTIVATION COMPTE ESANTE: prerequisites, CGU, *Activer mon compte*."""
    return activation_page(request)


def services(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/services.html",
        {"services": {service.key: service for service in other_services()}},
    )


def teleconsultation(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/teleconsultation.html",
        {"teleconsultation_url": settings.ESANTE_TELECONSULTATION_URL},
    )


def login_choice(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/login_choice.html", {"providers": oidc.providers()})


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and other clients ask for whatever the page links: the
    icon of base.html (a redirect, its static name being hashed in production)."""
    return HttpResponseRedirect(static("esante/img/favicon.svg"))
