"""The *Assistants* panel of a DSP (the guide's pages 15 and 16): *Ajouter* opens a new
row, *Numéro assuré* and *Rechercher* find the one person with that exact matricule and an
activated account, shown minimally ("D Filat (6393913168)"); picking them, with *Type* and
*Rôle*, then ✓ adds them. Holder and assistants alike manage the panel.

The person found is kept server-side in the session for this record: the ✓ form names
them by their public identifier, which must match, so nobody can be added without a
search — and searches are rate-limited per account and per IP, and audited.

Adding someone grants them the holder's rights: it needs a fresh second factor
(esante.accounts.reauth). Right after the login it is fresh, and nothing more is asked;
later, *Rechercher* and ✓ first lead to *Confirmez votre identité*, which comes back to
the panel.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from esante import ratelimit
from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.accounts.reauth import step_up_needed
from esante.audit import security_log
from esante.records.access import active_assistants, open_record
from esante.records.actions import (
    AssistantRefused,
    add_assistant,
    find_assistant_candidate,
    journal,
    not_activated_message,
    remove_assistant,
)
from esante.records.forms import AssistantAddForm, AssistantSearchForm
from esante.records.models import AccessAction
from esante.records.views import render_record, visitor_of
from esante.registry.models import InsuredPerson


def _session_key(public_id: uuid.UUID) -> str:
    return f"esante.assistant_candidate.{public_id}"


def _panel(public_id: uuid.UUID) -> str:
    return reverse("records:record", args=[public_id]) + "#assistants"


def _panel_message(public_id: uuid.UUID) -> str:
    """The record page opened at its message (base.html's #messages): the browser scrolls
    to it, and the page's script gives it the focus."""
    return reverse("records:record", args=[public_id]) + "#messages"


def _adding(public_id: uuid.UUID) -> str:
    """The panel with its *Ajouter* row open."""
    return reverse("records:record", args=[public_id]) + "?ajouter=1#assistants"


@require_POST
@patient_required
def search(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    """*Rechercher*: at most one person, and the same answer for an unknown matricule and
    for a person without an activated account."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    if stepping_up := step_up_needed(request, _adding(public_id)):
        return stepping_up
    form = AssistantSearchForm(request.POST)
    if not form.is_valid():
        return render_record(
            request, care_record, capacity, status=400, adding=True, search_form=form
        )
    ratelimit.check_and_hit("assistant.search", request, key=f"person:{visitor.pk}")
    ip_address = request.client_ip
    candidate = find_assistant_candidate(
        care_record, form.cleaned_data["numero"], actor=visitor, ip_address=ip_address
    )
    journal(care_record, actor=visitor, capacity=capacity, action=AccessAction.ASSISTANT_SEARCH)
    if candidate is None:
        request.session.pop(_session_key(public_id), None)
        form.add_error("numero", not_activated_message())
        return render_record(
            request, care_record, capacity, status=200, adding=True, search_form=form
        )
    request.session[_session_key(public_id)] = candidate.pk
    return render_record(
        request,
        care_record,
        capacity,
        adding=True,
        search_form=form,
        candidate=candidate,
        add_form=AssistantAddForm(),
    )


@require_POST
@patient_required
def add(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    """✓: add the person found by the last search of this record's panel."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    candidate_pk = request.session.get(_session_key(public_id))
    candidate = InsuredPerson.objects.filter(pk=candidate_pk).first() if candidate_pk else None
    if candidate is None:
        # Only a search names whom ✓ adds: a POST without one is a try at getting round it.
        security_log.warn(request, "flow.out_of_order", flow="assistant_add", reason="no_search")
        messages.error(request, _("Recherchez d'abord la personne par son numéro assuré."))
        return redirect(_adding(public_id))
    if stepping_up := step_up_needed(request, _adding(public_id)):
        return stepping_up  # back to the open panel, to search and ✓ again
    form = AssistantAddForm(request.POST)
    if form.is_valid() and form.cleaned_data["candidate"] != candidate.esante_id:
        # Someone else than the person found: no page offers that.
        security_log.warn(request, "form.tampered", form=type(form).__name__, fields=["candidate"])
        form.add_error("candidate", _("Cliquez sur le nom trouvé pour le choisir."))
    # The number searched stays in its field whatever goes wrong below.
    searched = AssistantSearchForm(initial={"numero": candidate.matricule})
    if not form.is_valid():
        security_log.form_refused(request, form)
        return render_record(
            request,
            care_record,
            capacity,
            status=400,
            adding=True,
            search_form=searched,
            candidate=candidate,
            add_form=form,
        )
    try:
        add_assistant(
            care_record,
            candidate,
            role=form.cleaned_data["role"],
            actor=visitor,
            capacity=capacity,
            ip_address=request.client_ip,
        )
    except AssistantRefused as refusal:
        # Told at the number searched, as a refused search is: another number can be tried.
        request.session.pop(_session_key(public_id), None)
        refused = AssistantSearchForm({"numero": candidate.matricule})
        refused.is_valid()
        refused.add_error("numero", refusal.message)
        return render_record(
            request, care_record, capacity, status=400, adding=True, search_form=refused
        )
    messages.success(
        request,
        _("%(name)s est maintenant assistant DSP de ce dossier.")
        % {"name": candidate.public_label},
        extra_tags="focus",
    )
    request.session.pop(_session_key(public_id), None)
    return redirect(_panel_message(public_id))


@require_POST
@patient_required
def remove(request: PatientRequest, public_id: uuid.UUID, assistant_id: int) -> HttpResponse:
    """Takes effect at the removed assistant's very next request. An assistant may remove
    themself; they then leave the record."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    row = get_object_or_404(
        active_assistants(care_record).select_related("person"), pk=assistant_id
    )
    remove_assistant(row, actor=visitor, capacity=capacity, ip_address=request.client_ip)
    messages.success(
        request,
        _("%(name)s n'est plus assistant DSP de ce dossier.") % {"name": row.person.public_label},
    )
    if row.person_id == visitor.pk:
        return redirect("records:mine")
    return redirect(_panel(public_id))
