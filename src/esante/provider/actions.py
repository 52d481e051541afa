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
from esante.provider import keys, logout
from esante.provider.models import Consent, ConsentQuerySet, Token
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


def _covering(
    service: Service,
    identity: _Identity,
    person: InsuredPerson | None,
    actor: InsuredPerson | None,
) -> ConsentQuerySet:
    professional = (
        identity.professional_session.professional if identity.professional_session else None
    )
    return Consent.objects.covering(service, person=person, actor=actor, professional=professional)


def standing_consent(
    service: Service,
    identity: _Identity,
    person: InsuredPerson | None,
    actor: InsuredPerson | None,
) -> Consent | None:
    """The consent that covers this request: the person's own, or the assistant's for the
    person they act for, or the professional's."""
    return _covering(service, identity, person, actor).first()


@transaction.atomic
def give_consent(
    request: HttpRequest,
    service: Service,
    identity: _Identity,
    person: InsuredPerson | None,
    actor: InsuredPerson | None,
    scopes: list[str],
) -> Consent:
    who, me = actor_of(identity)
    consent = _covering(service, identity, person, actor).select_for_update().first()
    if consent is None:
        consent = Consent(
            service=service,
            person=me,
            professional=(
                identity.professional_session.professional
                if identity.professional_session
                else None
            ),
            on_behalf_of=person if actor is not None else None,
        )
    consent.scopes = sorted(set(consent.scopes) | set(scopes))
    consent.granted_at = timezone.now()
    consent.save()
    details: dict[str, Any] = {"service": service.client_id, "scopes": consent.scopes}
    if consent.on_behalf_of_id is not None:
        details["acting_for"] = consent.on_behalf_of_id
    record_event(
        EventType.SERVICE_CONSENT_GIVEN,
        actor=who,
        person=me,
        ip_address=client_address.of(request),
        **details,
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
def withdraw_consent(
    consent: Consent, *, actor: str, ip_address: str | None, reason: str = "withdrawn"
) -> list[Token]:
    """*Services connectés* → *Retirer*, or an assistant's rights ending: the consent ends,
    every token it covered is revoked, and the service is told to end those sessions
    (back-channel logout). Returns the tokens revoked."""
    now = timezone.now()
    updated = Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=now
    )
    if updated != 1:
        return []
    if consent.on_behalf_of_id is not None:
        holder = Q(person_id=consent.on_behalf_of_id, actor_id=consent.person_id)
    elif consent.person_id is not None:
        holder = Q(person_id=consent.person_id, actor__isnull=True)
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
        reason=reason,
    )
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
