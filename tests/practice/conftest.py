"""Professionals for the tests: *paul* the physician (national code 10381524), logged in
through a real OpenID Connect provider process (oidc-provider-mock) that vouches for
his code in the claim `professional_code`."""

from __future__ import annotations

import dataclasses
import datetime
import io
import itertools
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.practice.models import ProfessionalSession
from esante.practice.sessions import SESSION_KEY
from esante.professionals.actions import ProfessionalRow, register_professionals
from esante.professionals.models import Profession, Professional
from esante.records import care, documents
from esante.records.actions import ensure_care_record
from esante.records.models import Capacity, CareRecord, CareRelationship, Category, Document
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings
from tests.servers import OidcProvider

__all__ = ["activation_settings"]

PAUL = ProfessionalRow(
    national_code="10381524",
    last_name="Reding",
    first_name="Paul",
    profession=Profession.PHYSICIAN,
    specialty="Médecine générale",
    practice_name="Cabinet médical Reding",
    address_line1="12, rue de Strasbourg",
    postal_code="L-2560",
    locality="Luxembourg",
)
STRONG = {"acr": "urn:luxtrust:loa:substantial", "amr": ["hwk", "pin"]}
START = reverse("practice:oidc_start", args=["luxtrust"])
REFUSED = "La connexion professionnelle n'a pas abouti."
_subjects = itertools.count()


def register(row: ProfessionalRow) -> Professional:
    register_professionals([row], actor="test", source="test")
    return Professional.objects.get(national_code=row.national_code)


@pytest.fixture
def paul(db: None) -> Professional:
    return register(PAUL)


@pytest.fixture
def pro_provider(oidc_process: OidcProvider, settings: Any) -> OidcProvider:
    """The test provider as "LuxTrust", vouching for patients and for professionals."""
    settings.ESANTE_OIDC_PROVIDERS = [
        oidc_process.provider_setting(professional_code_claim="professional_code")
    ]
    return oidc_process


def provider_user(provider: OidcProvider, **claims: Any) -> str:
    """A new subject at the provider with `claims` (strong ones unless told): its name."""
    subject = f"pro-{next(_subjects)}-{provider.port}"
    provider.add_user(subject, **{**STRONG, **claims})
    return subject


def at_provider(
    client: Client, provider: OidcProvider, subject: str | None, *, deny: bool = False
) -> Any:
    """PROFESSIONNEL → the provider's button, there log in as `subject` (or refuse), and
    come back: our callback's response."""
    response = client.post(START)
    assert response.status_code == 302, response.content.decode()[:300]
    authorize_url = response["Location"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"][0] and query["nonce"][0]
    back = provider.authorize(authorize_url, subject, deny=deny)
    return client.get(back)


def log_in_professional(client: Client, provider: OidcProvider, professional: Professional) -> None:
    subject = provider_user(provider, professional_code=professional.national_code)
    response = at_provider(client, provider, subject)
    assert response["Location"] == reverse("practice:home"), response.content.decode()[:300]


def inactive(row: ProfessionalRow) -> ProfessionalRow:
    return dataclasses.replace(row, is_active=False)


# The DSP as professionals reach it (issue 17): more professionals, logged in without the
# provider's round trip, and the records and documents they meet.

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def professional(
    national_code: str, last_name: str, profession: Profession = Profession.PHYSICIAN
) -> Professional:
    """Another professional of the register, Paul's practice and address."""
    return register(
        dataclasses.replace(
            PAUL,
            national_code=national_code,
            last_name=last_name,
            first_name="",
            profession=profession,
            specialty="",
        )
    )


def professional_client(someone: Professional) -> Client:
    """A client logged in as `someone`: the session row and the browser session, as
    esante.practice.sessions.log_in leaves them (the provider's login has its own
    tests: test_login.py)."""
    client = Client()
    now = timezone.now()
    row = ProfessionalSession.objects.create(
        professional=someone, method="oidc:test", started_at=now, last_seen_at=now
    )
    session = client.session
    session[SESSION_KEY] = row.pk
    session.save()
    return client


def pdf_upload(name: str = "compte-rendu.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def stored_document(record: CareRecord, **fields: Any) -> Document:
    """A document of `record`, its file in the documents' storage (a laboratory's,
    Normal, unless told)."""
    stored = documents.storage().save("test/doc", io.BytesIO(PDF))
    values: dict[str, Any] = {
        "record": record,
        "category": Category.LABORATORY,
        "title": "Bilan sanguin",
        "author": "Laboratoires Réunis",
        "document_date": datetime.date(2026, 2, 1),
        "stored_name": stored,
        "content_type": "application/pdf",
        "size": len(PDF),
        **fields,
    }
    return Document.objects.create(**values)


def relate(record: CareRecord, someone: Professional) -> CareRelationship:
    """A current care relationship, granted by the holder."""
    return care.grant_relationship(
        record, someone, actor=record.person, capacity=Capacity.OWNER, ip_address=None
    )


@pytest.fixture
def paul_logged_in(paul: Professional) -> Client:
    return professional_client(paul)


@pytest.fixture
def alice_record(alice: InsuredPerson) -> CareRecord:
    return ensure_care_record(alice)
