"""The dev outbox (/dev/outbox/): in demo mode, every message the platform sent, newest
first. A page of the demo app, which production lacks; with the mode off (as a test may
turn it) it answers 404 all the same."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from esante.notifications.models import OutboundMessage

View = Callable[[HttpRequest], HttpResponse]
JSON_LIMIT = 500


def demo_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if not settings.ESANTE_DEMO:
            raise Http404
        return view(request)

    return wrapper


@demo_only
def dev_outbox(request: HttpRequest) -> HttpResponse:
    messages = OutboundMessage.objects.order_by("-created_at", "-pk")
    page = Paginator(messages, 50).get_page(request.GET.get("page"))
    return render(request, "demo/outbox.html", {"page": page})


@demo_only
def dev_outbox_json(request: HttpRequest) -> HttpResponse:
    messages = OutboundMessage.objects.order_by("-created_at", "-pk")[:JSON_LIMIT]
    return JsonResponse(
        [
            {
                "channel": message.channel,
                "recipient": message.recipient,
                "subject": message.subject,
                "body": message.body,
                "created_at": message.created_at.isoformat(),
            }
            for message in messages
        ],
        safe=False,
        json_dumps_params={"ensure_ascii": False},
    )


@demo_only
def code_received(request: HttpRequest) -> HttpResponse:
    """The redirect URI of « Appli DSP (démo) » (esante.demo.fhir_app): the authorization
    code (or the error) the provider sent back, and the curl that exchanges the code."""
    from esante.demo import fhir_app

    return render(
        request,
        "demo/code_received.html",
        {
            "code": request.GET.get("code", ""),
            "error": request.GET.get("error", ""),
            "error_description": request.GET.get("error_description", ""),
            "state": request.GET.get("state", ""),
            "client_id": fhir_app.CLIENT_ID,
            "redirect_uri": fhir_app.redirect_uri(),
            "token_endpoint": f"{settings.ESANTE_OIDC_ISSUER}/oidc/jeton",
        },
    )
