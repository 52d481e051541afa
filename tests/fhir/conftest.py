"""The FHIR API's tests: tokens as the platform's provider issues them (a Token row, kept
as the keyed hash of a known string, with its consent), sent by Django's test client —
and, in test_smart_launch.py, a real SMART client (fhirclient) through the whole launch
against the live server."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from esante.keyed_hash import keyed_hash
from esante.professionals.models import Professional
from esante.provider.models import Consent, Token
from esante.provider.server import ACCESS_KIND
from esante.registry.models import InsuredPerson
from esante.services.models import ACR_SUBSTANTIAL, Audience, Service

PATIENT_SCOPES = ["openid", "fhirUser", "launch/patient", "patient/*.rs"]
PRACTICE_SCOPES = ["openid", "fhirUser", "user/*.rs", "user/DocumentReference.cu"]


def patient_app(**fields: Any) -> Service:
    values: dict[str, Any] = {
        "name": "Mon appli santé (test)",
        "redirect_uris": ["http://127.0.0.1:9/retour"],
        "scopes": PATIENT_SCOPES,
        "token_endpoint_auth_method": Service.AuthMethod.NONE,
        "audience": Audience.PATIENTS,
    }
    values.update(fields)
    return Service.objects.create(**values)


def practice_software(**fields: Any) -> Service:
    values: dict[str, Any] = {
        "name": "Logiciel de cabinet (test)",
        "redirect_uris": ["http://127.0.0.1:9/retour"],
        "scopes": PRACTICE_SCOPES,
        "token_endpoint_auth_method": Service.AuthMethod.NONE,
        "audience": Audience.PROFESSIONALS,
    }
    values.update(fields)
    return Service.objects.create(**values)


def issue_token(
    service: Service,
    *,
    person: InsuredPerson | None = None,
    actor: InsuredPerson | None = None,
    professional: Professional | None = None,
    scopes: list[str] | None = None,
    seconds: int = 600,
) -> str:
    """A live access token for `person` (with `actor` acting for them) or `professional`,
    with its standing consent, as the provider would have issued it."""
    scopes = scopes if scopes is not None else service.scopes
    if not Consent.objects.covering(
        service, person=person, actor=actor, professional=professional
    ).exists():
        Consent.objects.create(
            service=service,
            person=actor or person,
            on_behalf_of=person if actor is not None else None,
            professional=professional,
            scopes=scopes,
        )
    value = secrets.token_urlsafe(32)
    Token.objects.create(
        service=service,
        person=person,
        actor=actor,
        professional=professional,
        access_token_hash=keyed_hash(ACCESS_KIND, value),
        scope=" ".join(scopes),
        issued_at=timezone.now(),
        expires_in=seconds,
        auth_time=timezone.now() - datetime.timedelta(minutes=1),
        acr=ACR_SUBSTANTIAL,
        amr=["pwd", "otp"],
    )
    return value


class Api:
    """Django's test client with a bearer token: `api.get("Patient/…")`."""

    def __init__(self, token: str):
        self.client = Client()
        self.token = token

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json", **extra}

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(f"/fhir/{path}", headers=self.headers(**headers))

    def post(
        self, path: str, body: Any, content_type: str = "application/fhir+json", **headers: str
    ) -> Any:
        data = body if isinstance(body, (bytes, str)) else __import__("json").dumps(body)
        return self.client.post(
            f"/fhir/{path}", data=data, content_type=content_type, headers=self.headers(**headers)
        )


@pytest.fixture
def api_for() -> Any:
    return lambda token: Api(token)
