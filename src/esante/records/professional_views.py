"""*Mes professionnels*: the health professionals a DSP is open to, on a page of its own
(dsp/<uuid>/professionnels/), which the record page links to: the record page reads no
more for it. The page lists the current care relationships (« Mettre fin », « Bloquer »),
the médecin référent, the blocked professionals (« Débloquer ») and whether emergency
access (bris de glace) is allowed. « Ajouter un professionnel » finds one in the register
by name and locality; a confirmation page then grants the relationship. The holder and
the active assistants alike (`open_record`).

Granting access and choosing the médecin référent open documents to someone: they need a
fresh second factor (esante.accounts.reauth), as adding an assistant does — right after
the login nothing more is asked; later, the confirmation page first leads to *Confirmez
votre identité*, which comes back to it. Taking access away — ending a relationship,
blocking, removing the référent, refusing emergency access — never does. Allowing
emergency access again does not either: it restores the default, names no one, and each
emergency access is shown in red in the journal, notified to the holder and reviewed by
the agency; a stolen session gains nothing from it.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante import ratelimit
from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.accounts.reauth import step_up_needed
from esante.audit import security_log
from esante.professionals.models import Professional
from esante.professionals.search import find_professionals
from esante.records.access import is_blocked, open_record, record_emergencies, refusal
from esante.records.care import (
    block_professional,
    end_relationship,
    grant_relationship,
    relationship_days,
    set_emergency_refusal,
    set_referent,
    unblock_professional,
)
from esante.records.forms import EmergencyAccessForm, ProfessionalSearchForm
from esante.records.models import Capacity, CareRecord, CareRelationship
from esante.records.views import visitor_of
from esante.registry.models import InsuredPerson

# ?pour=referent: the search chooses the médecin référent (physicians only).
FOR_REFERENT = "referent"


def _panel(public_id: uuid.UUID) -> str:
    return reverse("records:professionals", args=[public_id])


def _panel_message(public_id: uuid.UUID) -> str:
    """The panel opened at its message (base.html's #messages), which takes the focus."""
    return _panel(public_id) + "#messages"


def _until(days: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def _short_date(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def current_relationships(care_record: CareRecord) -> list[CareRelationship]:
    return list(
        care_record.care_relationships.current()
        .select_related("professional")
        .order_by("professional__last_name", "professional__first_name", "pk")
    )


def render_panel(
    request: HttpRequest,
    care_record: CareRecord,
    capacity: Capacity,
    *,
    status: int = 200,
    emergency_form: EmergencyAccessForm | None = None,
) -> HttpResponse:
    relationships = current_relationships(care_record)
    blocks = care_record.blocks.standing().select_related("professional")
    referent = care_record.referent
    return render(
        request,
        "records/professionals.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "relationships": relationships,
            "emergencies": list(record_emergencies(care_record)),
            "blocks": list(blocks.order_by("professional__last_name", "professional__first_name")),
            "referent": referent,
            "referent_has_access": referent is not None
            and any(row.professional_id == referent.pk for row in relationships),
            "emergency_form": emergency_form,
            "emergency_hours": settings.ESANTE_EMERGENCY_ACCESS_HOURS,
        },
        status=status,
    )


@require_GET
@patient_required
def panel(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    return render_panel(request, care_record, capacity)


@dataclass(frozen=True)
class Found:
    """A search result, with where the professional stands in this record."""

    professional: Professional
    blocked: bool
    until: datetime.datetime | None  # the current relationship's end
    is_referent: bool


@require_GET
@patient_required
def search(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    """« Ajouter un professionnel » (or, ?pour=referent, the médecin référent): by name and
    locality, in the register's active professionals; at most MAX_RESULTS shown."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    for_referent = request.GET.get("pour") == FOR_REFERENT
    asked = "nom" in request.GET or "localite" in request.GET
    form = ProfessionalSearchForm(request.GET if asked else None)
    results: list[Found] = []
    more = False
    status = 200
    if asked and not form.is_valid():
        security_log.form_refused(request, form)
        status = 400
    elif asked:
        ratelimit.check_and_hit("professional.search", request, key=f"person:{visitor.pk}")
        found, more = find_professionals(
            form.cleaned_data["nom"],
            form.cleaned_data["localite"],
            physicians_only=for_referent,
        )
        results = _standing(care_record, found)
    return render(
        request,
        "records/professional_search.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "form": form,
            "asked": asked and status == 200,
            "results": results,
            "more": more,
            "for_referent": for_referent,
        },
        status=status,
    )


def _standing(care_record: CareRecord, found: list[Professional]) -> list[Found]:
    """Two reads for the whole list: the blocks and the current relationships."""
    blocked = set(
        care_record.blocks.standing()
        .filter(professional__in=found)
        .values_list("professional_id", flat=True)
    )
    until = dict(
        care_record.care_relationships.current()
        .filter(professional__in=found)
        .values_list("professional_id", "ends_at")
    )
    return [
        Found(
            professional,
            professional.pk in blocked,
            until.get(professional.pk),
            professional.pk == care_record.referent_id,
        )
        for professional in found
    ]


def _grantable(
    request: HttpRequest,
    visitor: InsuredPerson,
    care_record: CareRecord,
    professional_id: int,
    *,
    physician: bool = False,
) -> Professional:
    """An active professional of the register (a physician for the référent), for an
    open record; 404 otherwise, as for one that does not exist."""
    professional = Professional.objects.filter(pk=professional_id, is_active=True).first()
    if (
        professional is None
        or care_record.closed_at is not None
        or (physician and not professional.is_physician)
    ):
        raise refusal(
            request,
            visitor,
            "professional_not_grantable",
            record=str(care_record.public_id),
            professional=professional_id,
        )
    return professional


def _blocked_first(request: HttpRequest, public_id: uuid.UUID, name: str) -> HttpResponse:
    messages.error(
        request,
        _("%(name)s est bloqué pour ce DSP : débloquez-le d'abord.") % {"name": name},
    )
    return redirect(_panel(public_id))


def _confirm_page(
    request: HttpRequest,
    care_record: CareRecord,
    capacity: Capacity,
    professional: Professional,
    kind: str,
    **context: Any,
) -> HttpResponse:
    return render(
        request,
        "records/professional_confirm.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "professional": professional,
            "kind": kind,
            **context,
        },
    )


@require_http_methods(["GET", "POST"])
@patient_required
def grant(request: PatientRequest, public_id: uuid.UUID, professional_id: int) -> HttpResponse:
    """« Donner accès à mon DSP à … jusqu'au … »: the page, then its POST."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    professional = _grantable(request, visitor, care_record, professional_id)
    here = reverse("records:professional_grant", args=[public_id, professional_id])
    if stepping_up := step_up_needed(request, here):
        return stepping_up
    if is_blocked(care_record, professional):
        return _blocked_first(request, public_id, professional.full_name)
    if request.method == "GET":
        until = _until(relationship_days(professional))
        return _confirm_page(request, care_record, capacity, professional, "grant", until=until)
    relationship = grant_relationship(
        care_record,
        professional,
        actor=visitor,
        capacity=capacity,
        ip_address=request.client_ip,
    )
    messages.success(
        request,
        _("%(name)s a maintenant accès à ce DSP, jusqu'au %(until)s.")
        % {"name": professional.full_name, "until": _short_date(relationship.ends_at)},
        extra_tags="focus",
    )
    return redirect(_panel_message(public_id))


@require_POST
@patient_required
def end(request: PatientRequest, public_id: uuid.UUID, relationship_id: uuid.UUID) -> HttpResponse:
    """« Mettre fin »: effective at the professional's next request."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    relationship = (
        care_record.care_relationships.filter(public_id=relationship_id, ended_at__isnull=True)
        .select_related("professional")
        .first()
    )
    if relationship is None:
        raise refusal(
            request,
            visitor,
            "unknown_relationship",
            record=str(public_id),
            relationship=str(relationship_id),
        )
    relationship.record = care_record
    end_relationship(relationship, actor=visitor, capacity=capacity, ip_address=request.client_ip)
    messages.success(
        request,
        _("%(name)s n'a plus accès à ce DSP.") % {"name": relationship.professional.full_name},
        extra_tags="focus",
    )
    return redirect(_panel_message(public_id))


@require_http_methods(["GET", "POST"])
@patient_required
def block(request: PatientRequest, public_id: uuid.UUID, professional_id: int) -> HttpResponse:
    """« Bloquer »: any professional of the register, active or not (one met in the
    journal may have left it). Never a second factor: it takes rights away."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    professional = Professional.objects.filter(pk=professional_id).first()
    if professional is None:
        raise refusal(
            request,
            visitor,
            "unknown_professional",
            record=str(public_id),
            professional=professional_id,
        )
    if request.method == "GET":
        if is_blocked(care_record, professional):
            messages.info(
                request,
                _("%(name)s est déjà bloqué pour ce DSP.") % {"name": professional.full_name},
            )
            return redirect(_panel(public_id))
        return _confirm_page(request, care_record, capacity, professional, "block")
    block_professional(
        care_record, professional, actor=visitor, capacity=capacity, ip_address=request.client_ip
    )
    messages.success(
        request,
        _("%(name)s est bloqué : il ou elle n'a plus aucun accès à ce DSP.")
        % {"name": professional.full_name},
        extra_tags="focus",
    )
    return redirect(_panel_message(public_id))


@require_POST
@patient_required
def unblock(request: PatientRequest, public_id: uuid.UUID, professional_id: int) -> HttpResponse:
    """« Débloquer »: no access comes back by itself."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    standing = (
        care_record.blocks.standing()
        .filter(professional_id=professional_id)
        .select_related("professional")
        .first()
    )
    if standing is None:
        raise refusal(
            request,
            visitor,
            "unknown_block",
            record=str(public_id),
            professional=professional_id,
        )
    standing.record = care_record
    unblock_professional(standing, actor=visitor, capacity=capacity, ip_address=request.client_ip)
    messages.success(
        request,
        _(
            "%(name)s est débloqué. Il ou elle n'a pas accès à ce DSP tant que vous ne le "
            "lui donnez pas."
        )
        % {"name": standing.professional.full_name},
        extra_tags="focus",
    )
    return redirect(_panel_message(public_id))


@require_http_methods(["GET", "POST"])
@patient_required
def referent(request: PatientRequest, public_id: uuid.UUID, professional_id: int) -> HttpResponse:
    """Choose a physician as médecin référent: the page, then its POST."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    professional = _grantable(request, visitor, care_record, professional_id, physician=True)
    here = reverse("records:professional_referent", args=[public_id, professional_id])
    if stepping_up := step_up_needed(request, here):
        return stepping_up
    if is_blocked(care_record, professional):
        return _blocked_first(request, public_id, professional.full_name)
    if request.method == "GET":
        return _confirm_page(request, care_record, capacity, professional, "referent")
    set_referent(
        care_record, professional, actor=visitor, capacity=capacity, ip_address=request.client_ip
    )
    messages.success(
        request,
        _("%(name)s est votre médecin référent.") % {"name": professional.full_name}
        if capacity is Capacity.OWNER
        else _("%(name)s est le médecin référent de ce DSP.") % {"name": professional.full_name},
        extra_tags="focus",
    )
    return redirect(_panel_message(public_id))


@require_POST
@patient_required
def remove_referent(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    if care_record.referent_id is not None:
        set_referent(
            care_record, None, actor=visitor, capacity=capacity, ip_address=request.client_ip
        )
    messages.success(request, _("Ce DSP n'a plus de médecin référent."), extra_tags="focus")
    return redirect(_panel_message(public_id))


@require_POST
@patient_required
def emergency(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    """« Refuser l'accès en urgence » / « Autoriser l'accès en urgence »."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    form = EmergencyAccessForm(request.POST)
    if not form.is_valid():
        security_log.form_refused(request, form)
        return render_panel(request, care_record, capacity, status=400, emergency_form=form)
    refuses = form.cleaned_data["refuser"] == "1"
    if refuses != care_record.refuses_emergency_access:
        set_emergency_refusal(
            care_record, refuses, actor=visitor, capacity=capacity, ip_address=request.client_ip
        )
    if refuses:
        text = _("L'accès en urgence à ce DSP est refusé.")
    else:
        text = _("L'accès en urgence à ce DSP est autorisé.")
    messages.success(request, text, extra_tags="focus")
    return redirect(_panel_message(public_id))
