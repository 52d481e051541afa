"""The provider's state changes, each one audited: consent given and withdrawn (its tokens
revoked and the service told), authorizations issued or refused, services registered,
signing keys rotated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from esante import client_address
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.provider import keys
from esante.provider.models import Consent, Token
from esante.registry.models import InsuredPerson
from esante.services.models import Service

if TYPE_CHECKING:
    from esante.provider.server import Subject
    from esante.provider.views import _Identity


def actor_of(identity: _Identity) -> tuple[str, InsuredPerson | None]:
    if identity.professional_session is not None:
        return f"professional:{identity.professional_session.professional_id}", None
    person = identity.patient.account.person
    return f"person:{person.pk}", person


def _holder(identity: _Identity, person: InsuredPerson | None) -> Q:
    if identity.professional_session is not None:
        return Q(professional=identity.professional_session.professional)
    return Q(person=person)


def standing_consent(
    service: Service, identity: _Identity, person: InsuredPerson | None
) -> Consent | None:
    """The consent of whoever is logged in (an assistant's own, whoever they act for)."""
    consenting = identity.patient_session.account.person if identity.patient_session else person
    return Consent.objects.standing().filter(_holder(identity, consenting), service=service).first()


@transaction.atomic
def give_consent(
    request: HttpRequest,
    service: Service,
    identity: _Identity,
    person: InsuredPerson | None,
    scopes: list[str],
) -> Consent:
    actor, me = actor_of(identity)
    holder = _holder(identity, me)
    consent = Consent.objects.select_for_update().standing().filter(holder, service=service).first()
    if consent is None:
        consent = Consent(
            service=service,
            person=me,
            professional=(
                identity.professional_session.professional
                if identity.professional_session
                else None
            ),
        )
    consent.scopes = sorted(set(consent.scopes) | set(scopes))
    consent.granted_at = timezone.now()
    consent.save()
    record_event(
        EventType.SERVICE_CONSENT_GIVEN,
        actor=actor,
        person=me,
        ip_address=client_address.of(request),
        service=service.client_id,
        scopes=consent.scopes,
    )
    return consent


def record_authorization(
    request: HttpRequest, service: Service, subject: Subject, scopes: list[str]
) -> None:
    """A code issued: who, for whom (an assistant acting), which scopes, at what level."""
    if subject.professional is not None:
        actor, person = f"professional:{subject.professional.pk}", None
    else:
        person = subject.person
        actor = f"person:{(subject.actor or person).pk}" if person is not None else "anonymous"
    details: dict[str, Any] = {"service": service.client_id, "scopes": scopes, "acr": subject.acr}
    if subject.actor is not None:
        details["acting_for"] = subject.person.pk if subject.person else None
    record_event(
        EventType.SERVICE_AUTHORIZED,
        actor=actor,
        person=person,
        ip_address=client_address.of(request),
        **details,
    )


def record_refusal(
    request: HttpRequest, service: Service, identity: _Identity, reason: str
) -> None:
    actor, person = actor_of(identity)
    record_event(
        EventType.SERVICE_REFUSED,
        actor=actor,
        person=person,
        ip_address=client_address.of(request),
        service=service.client_id,
        reason=reason,
    )


@transaction.atomic
def withdraw_consent(consent: Consent, *, actor: str, ip_address: str | None) -> list[Token]:
    """*Services connectés* → *Retirer* : the consent ends, every token the service holds
    for this person (their own, and those acting for someone) is revoked, and the service
    is told to end its sessions (back-channel logout). Returns the tokens revoked."""
    now = timezone.now()
    updated = Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=now
    )
    if updated != 1:
        return []
    if consent.person_id is not None:
        holder = Q(person_id=consent.person_id, actor__isnull=True) | Q(actor_id=consent.person_id)
    else:
        holder = Q(professional_id=consent.professional_id)
    tokens = list(Token.objects.live().filter(holder, service_id=consent.service_id))
    Token.objects.filter(pk__in=[each.pk for each in tokens]).update(revoked_at=now)
    record_event(
        EventType.SERVICE_CONSENT_WITHDRAWN,
        actor=actor,
        person=consent.person,
        ip_address=ip_address,
        service=consent.service.client_id,
        tokens_revoked=len(tokens),
    )
    from esante.provider import logout

    logout.tell_services(tokens, reason="consent_withdrawn")
    return tokens


def register_service(service: Service, *, actor: str, created: bool = True) -> Service:
    service.save()
    record_event(
        EventType.SERVICE_REGISTERED if created else EventType.SERVICE_CHANGED,
        actor=actor,
        service=service.client_id,
        name=service.name,
        redirect_uris=service.redirect_uris,
        scopes=service.scopes,
        level=service.level,
    )
    return service


def rotate_keys(*, actor: str) -> str:
    key = keys.rotate()
    record_event(EventType.SIGNING_KEY_ROTATED, actor=actor, kid=key.kid)
    return key.kid
