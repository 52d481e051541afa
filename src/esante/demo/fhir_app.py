"""The demo's FHIR app: `make run` registers « Appli DSP (démo) », a public client (PKCE,
no secret) with a patient app's SMART scopes, whose redirect URI is a page of the demo
itself (/dev/code-recu/) that shows the authorization code and the `curl` that exchanges
it — so that docs/api.md can be walked with nothing but a browser and curl."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from esante.provider import actions, middleware
from esante.services.models import Audience, Service

CLIENT_ID = "appli-dsp-demo"
SCOPES = ["openid", "fhirUser", "launch/patient", "patient/*.rs"]


def redirect_uri() -> str:
    return f"{settings.ESANTE_OIDC_ISSUER}{reverse('demo:code_received')}"


def register() -> Service:
    service = Service.objects.filter(client_id=CLIENT_ID).first() or Service(client_id=CLIENT_ID)
    created = service.pk is None
    service.name = "Appli DSP (démo)"
    service.description = (
        "Application de démonstration : elle lit votre DSP par l'API FHIR (docs/api.md)."
    )
    service.audience = Audience.PATIENTS
    service.redirect_uris = [redirect_uri()]
    service.scopes = SCOPES
    service.token_endpoint_auth_method = Service.AuthMethod.NONE
    service.client_secret_hash = ""
    actions.register_service(service, actor="command:serve", created=created)
    middleware.forget()
    return service
