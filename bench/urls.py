"""The portal's URLs plus one page only the benchmarks need (bench/settings.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from esante.accounts.middleware import patient_required
from esante.urls import urlpatterns as portal_urlpatterns


@require_GET
@patient_required
def trivial(request: HttpRequest) -> HttpResponse:
    """The least a logged-in page costs: the middleware stack, the session and the
    patient's session row, then a few bytes. The record page is measured against it."""
    return HttpResponse("<!doctype html><title>ok</title><p>ok</p>")


urlpatterns = [path("bench/trivial/", trivial, name="bench_trivial"), *portal_urlpatterns]

handler500 = "esante.portal.errors.server_error"
