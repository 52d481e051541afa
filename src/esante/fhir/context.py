"""Who calls the FHIR API, and which record they may open: every request names a bearer
token of the platform's OpenID Connect provider (esante.provider), and every record
through the one gate (esante.records.access), as the portal's pages do.

A patient app (`patient/…` scopes) acts for the patient chosen at launch — the person, or
a record they assist (the token's `actor`) — and sees only that record. Practice software
(`user/…` scopes) acts as the professional: the care relationships, blocks, emergency
accesses and confidentiality levels of the portal apply, checked at every request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import InvalidTokenError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from esante import ratelimit
from esante.fhir.errors import FhirError, not_found
from esante.professionals.models import Professional
from esante.provider.models import Token
from esante.provider.server import consent_stands
from esante.provider.views import PROTECTOR
from esante.records.access import (
    ProfessionalAccess,
    open_document,
    open_document_as_professional,
    open_record,
    open_record_as_professional,
    professional_documents,
    refusal,
)
from esante.records.actions import journal
from esante.records.care import journal_professional_read
from esante.records.models import AccessAction, Capacity, CareRecord, Document
from esante.registry.models import InsuredPerson
from esante.services import smart
from esante.services.models import Service

CHALLENGE = 'Bearer realm="eSante FHIR"'


@dataclass(frozen=True)
class Caller:
    """The token's grant: who it acts for, and its scopes."""

    token: Token
    scopes: list[str] = field(default_factory=list)

    @property
    def service(self) -> Service:
        return self.token.service

    @property
    def person(self) -> InsuredPerson | None:
        """The patient chosen at launch (a patient app)."""
        return self.token.person

    @property
    def actor(self) -> InsuredPerson | None:
        """The assistant acting for `person`, if it is not the person themself."""
        return self.token.actor

    @property
    def professional(self) -> Professional | None:
        return self.token.professional

    @property
    def context(self) -> str:
        return "user" if self.professional is not None else "patient"

    @property
    def with_matricule(self) -> bool:
        """The matricule is shared only with a service registered and consented for it."""
        return "matricule" in self.scopes

    def may(self, resource_type: str, right: str) -> bool:
        return smart.permits(self.scopes, self.context, resource_type, right)

    def require(self, resource_type: str, right: str) -> None:
        if not self.may(resource_type, right):
            raise FhirError(
                403,
                "forbidden",
                f"The token's scopes do not allow this on {resource_type}.",
                headers={"WWW-Authenticate": f'{CHALLENGE}, error="insufficient_scope"'},
            )


def authenticate(request: HttpRequest) -> Caller:
    """The request's bearer token, live and with a standing consent; refused tokens are
    counted per address (as at userinfo), every request per token (`fhir.request`)."""
    try:
        ratelimit.check("oidc.bearer.failed", request)
    except ratelimit.RateLimited as error:
        raise throttled(error) from error
    try:
        issued = PROTECTOR.acquire_token(request)
        if not consent_stands(issued.row):
            raise InvalidTokenError()
    except OAuth2Error as error:
        ratelimit.hit("oidc.bearer.failed", request)
        challenge = CHALLENGE
        if request.headers.get("Authorization"):
            challenge += ', error="invalid_token"'
        raise FhirError(
            401,
            "login",
            "A valid bearer token is required.",
            headers={"WWW-Authenticate": challenge},
        ) from error
    row: Token = issued.row
    try:
        ratelimit.check_and_hit("fhir.request", request, str(row.line_id or row.pk))
    except ratelimit.RateLimited as error:
        raise throttled(error) from error
    scopes = row.scope.split()
    if not smart.asks_fhir(scopes):
        raise FhirError(403, "forbidden", "The token was not issued for the FHIR API.")
    return Caller(row, scopes)


def throttled(error: ratelimit.RateLimited) -> FhirError:
    return FhirError(
        429,
        "throttled",
        "Too many requests: try again later.",
        headers={"Retry-After": str(error.retry_after)},
    )


@dataclass(frozen=True)
class RecordAccess:
    """One record, opened for the caller through the gate."""

    record: CareRecord
    capacity: Capacity
    visitor: InsuredPerson | None = None  # the holder or an assistant
    professional_access: ProfessionalAccess | None = None

    @property
    def is_patient_side(self) -> bool:
        """The holder or an assistant (« mêmes droits »): the journal, the consents."""
        return self.professional_access is None

    def documents(self) -> QuerySet[Document]:
        """The listed documents the caller may see: neither replaced nor withdrawn; to a
        professional, only those of their access (masked and confidential ones left out)."""
        if self.professional_access is not None:
            return professional_documents(self.professional_access)
        if self.record.closed_at is not None:
            return Document.objects.none()
        return self.record.documents.filter(superseded_at__isnull=True, withdrawn_at__isnull=True)

    def open_document(self, public_id: uuid.UUID, request: HttpRequest) -> Document:
        """One document, through the gate (a refusal logged): to the holder and
        assistants, a replaced version too (the portal lists them on the document's page);
        to a professional, only what their access shows."""
        try:
            if self.professional_access is not None:
                return open_document_as_professional(
                    self.professional_access, public_id, request=request
                )
            assert self.visitor is not None  # noqa: S101 - the patient's side has one
            return open_document(self.record, public_id, request=request, visitor=self.visitor)
        except Http404 as error:
            raise not_found() from error

    def journal(self, action: AccessAction, target: str = "") -> None:
        """The read in the record's *Historique des accès*, as the portal writes it."""
        if self.professional_access is not None:
            journal_professional_read(self.professional_access, action, target)
        else:
            journal(
                self.record,
                actor=self.visitor,
                capacity=self.capacity,
                action=action,
                target=target,
            )


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def open_patient(caller: Caller, patient_id: str, request: HttpRequest) -> RecordAccess:
    """The record of the Patient `patient_id`, or 404 — whatever the reason, logged."""
    public_id = parse_id(patient_id)
    if public_id is None:
        raise not_found()
    try:
        if caller.professional is not None:
            access = open_record_as_professional(caller.professional, public_id, request=request)
            return RecordAccess(access.record, access.capacity, professional_access=access)
        person = caller.person
        assert person is not None  # noqa: S101 - a token names a person or a professional
        visitor = caller.actor or person
        record, capacity = open_record(visitor, public_id, request=request)
        if record.person_id != person.pk:
            # Another record the person may open, but not the one the app was launched for.
            raise refusal(request, visitor, "not_the_launch_patient", record=str(public_id))
        return RecordAccess(record, capacity, visitor=visitor)
    except Http404 as error:
        raise not_found() from error


def launch_patient_id(caller: Caller) -> str | None:
    """A patient app's patient, as the token response named it."""
    if caller.person is None:
        return None
    found = CareRecord.objects.filter(person=caller.person).values_list("public_id", flat=True)
    first = found.first()
    return str(first) if first else None
