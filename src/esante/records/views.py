"""*Mon DSP* and its *Historique des accès*."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante.accounts.middleware import patient_required
from esante.accounts.models import Account
from esante.records.access import open_record
from esante.records.actions import (
    close_record,
    declare_organ_donation,
    journal,
    reopen_record,
)
from esante.records.models import AccessAction, Capacity, CareRecord

JOURNAL_PAGE_SIZE = 25


def _visitor(request: HttpRequest) -> Account:
    account: Account = request.patient.account  # type: ignore[attr-defined]
    return account


@require_GET
@patient_required
def my_record(request: HttpRequest) -> HttpResponse:
    """*Mon DSP*: the logged-in person's own record."""
    record = CareRecord.objects.get(person=_visitor(request).person)
    return redirect("records:record", public_id=record.public_id)


@require_GET
@patient_required
def record(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = _visitor(request).person
    care_record, capacity = open_record(visitor, public_id)
    declaration = care_record.organ_declarations.first()
    if capacity is Capacity.OWNER and not visitor.is_minor and declaration is None:
        # At the first access, an adult holder is asked the organ-donation question.
        return redirect("records:organ_donation", public_id=care_record.public_id)
    journal(care_record, actor=visitor, capacity=capacity, action=AccessAction.READ_RECORD)
    return render(
        request,
        "records/record.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "close_form": CloseForm(),
            "declaration": declaration,
        },
    )


@require_GET
@patient_required
def access_journal(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = _visitor(request).person
    care_record, capacity = open_record(visitor, public_id)
    journal(care_record, actor=visitor, capacity=capacity, action=AccessAction.READ_JOURNAL)
    entries = care_record.journal.select_related("actor")
    page = Paginator(entries, JOURNAL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "records/journal.html",
        {"record": care_record, "holder": care_record.person, "page": page},
    )


class CloseForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("Je confirme vouloir fermer mon DSP."),
        error_messages={"required": gettext_lazy("Cochez la case pour confirmer la fermeture.")},
    )


@require_POST
@patient_required
def close(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = _visitor(request).person
    care_record, capacity = open_record(visitor, public_id)
    if capacity is not Capacity.OWNER:
        raise Http404  # closing stays the holder's own decision
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Cochez la case pour confirmer la fermeture."))
    else:
        close_record(care_record, actor=visitor)
        messages.success(request, _("Votre DSP est fermé."))
    return redirect("records:record", public_id=care_record.public_id)


@require_POST
@patient_required
def reopen(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = _visitor(request).person
    care_record, capacity = open_record(visitor, public_id)
    if capacity is not Capacity.OWNER:
        raise Http404
    reopen_record(care_record, actor=visitor)
    messages.success(request, _("Votre DSP est rouvert."))
    return redirect("records:record", public_id=care_record.public_id)


class OrganDonationForm(forms.Form):
    refuses_removal = forms.TypedChoiceField(
        label=gettext_lazy("Refusez-vous le prélèvement de vos organes après votre décès ?"),
        choices=[
            ("1", gettext_lazy("Oui, je refuse tout prélèvement d'organes après mon décès.")),
            ("0", gettext_lazy("Non, je ne m'y oppose pas.")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choisissez l'une des deux réponses.")},
    )


@require_http_methods(["GET", "POST"])
@patient_required
def organ_donation(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The holder's declaration: asked at the first access, changeable at any time."""
    visitor = _visitor(request).person
    care_record, capacity = open_record(visitor, public_id)
    if capacity is not Capacity.OWNER or visitor.is_minor:
        raise Http404  # the holder's own decision, from majority
    current = care_record.organ_declarations.first()
    initial = {"refuses_removal": "1" if current.refuses_removal else "0"} if current else {}
    form = OrganDonationForm(request.POST if request.method == "POST" else None, initial=initial)
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(
            request,
            "records/organ_donation.html",
            {"record": care_record, "holder": care_record.person, "form": form, "current": current},
            status=status,
        )
    declare_organ_donation(
        care_record, actor=visitor, refuses_removal=form.cleaned_data["refuses_removal"]
    )
    messages.success(request, _("Votre déclaration est enregistrée."))
    return redirect("records:record", public_id=care_record.public_id)
