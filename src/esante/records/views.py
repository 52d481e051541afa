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
from django.views.decorators.http import require_GET, require_POST

from esante.accounts.middleware import patient_required
from esante.accounts.models import Account
from esante.records.access import open_record
from esante.records.actions import close_record, journal, reopen_record
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
    journal(care_record, actor=visitor, capacity=capacity, action=AccessAction.READ_RECORD)
    return render(
        request,
        "records/record.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "close_form": CloseForm(),
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
