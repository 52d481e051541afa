"""The helpdesk supervisor's list of the registered services (`esante create-service`
registers them): names, addresses, scopes, level — never a secret, never a person."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from esante.helpdesk.auth import staff_required
from esante.provider.models import Consent
from esante.services.models import Service

SUPERVISE = "helpdesk.view_audit_log"


@require_GET
@staff_required(SUPERVISE)
def services(request: HttpRequest) -> HttpResponse:
    rows = []
    for service in Service.objects.order_by("-is_active", "name"):
        users = Consent.objects.standing().filter(service=service).count()
        rows.append({"service": service, "users": users})
    return render(request, "provider/supervisor_services.html", {"rows": rows})
