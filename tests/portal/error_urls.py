"""The project's URLs plus views that fail, to see the error pages a visitor would get."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import path

from esante.urls import urlpatterns as project_urlpatterns


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def bad_request(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a tampered request")


urlpatterns = [
    path("test-errors/500/", broken),
    path("test-errors/403/", forbidden),
    path("test-errors/400/", bad_request),
    *project_urlpatterns,
]
