"""*Mon compte* → *Services connectés*: the services the person opened with their eSanté
account, what each received and when, and the withdrawal of a consent (its tokens revoked,
the service's sessions ended)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.provider import actions, claims
from esante.provider.models import Consent
from esante.registry.models import InsuredPerson


def _received(consent: Consent) -> list[str]:
    """What the service receives, in the words of the consent page (the level of the login
    included, as that page says)."""
    texts: list[str] = []
    for scope in consent.scopes:
        texts.extend(text for text in claims.shared_by(scope) if text not in texts)
    texts.append(str(claims.LEVEL_SHARED))
    return texts


def _consents_of(person: InsuredPerson) -> QuerySet[Consent]:
    """The person's own consents, those they gave acting for someone, and those an
    assistant gave for them: the holder has the same say as their assistants."""
    return Consent.objects.standing().filter(Q(person=person) | Q(on_behalf_of=person))


@patient_required
@require_GET
def connected_services(request: PatientRequest) -> HttpResponse:
    person = request.patient.logged_in_account.person
    consents = (
        _consents_of(person)
        .select_related("service", "person", "on_behalf_of")
        .order_by("service__name", "pk")
    )
    rows = [
        {"consent": consent, "received": _received(consent), "mine": consent.person_id == person.pk}
        for consent in consents
    ]
    return render(request, "provider/connected_services.html", {"rows": rows})


@patient_required
@require_POST
def withdraw(request: PatientRequest, consent_id: int) -> HttpResponse:
    person = request.patient.logged_in_account.person
    consent = get_object_or_404(_consents_of(person).select_related("service"), pk=consent_id)
    actions.withdraw_consent(consent, actor=f"person:{person.pk}", ip_address=request.client_ip)
    messages.success(
        request,
        _("« %(service)s » n'a plus accès à votre compte eSanté.")
        % {"service": consent.service.name},
    )
    return redirect("provider:connected_services")
