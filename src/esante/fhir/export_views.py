"""« Télécharger mon dossier » (esante.fhir.export): a page that says what the ZIP holds,
and its button.

GET shows the page; only its POST (the form's CSRF token) sends the ZIP, so that no link
on another site starts a download of the whole record. The POST needs a fresh second
factor: without one it leads to *Confirmez votre identité*, which comes back to this
page by GET, where the person presses the button again. The holder and the active
assistants alike (« mêmes droits »), through the one gate; anyone else gets 404."""

from __future__ import annotations

import uuid

from django.http import HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from esante import ratelimit
from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.accounts.reauth import second_factor_fresh, step_up_needed
from esante.fhir import export as copies
from esante.fhir.views import base_url
from esante.records.access import open_record
from esante.records.actions import journal_export
from esante.records.views import visitor_of


@require_http_methods(["GET", "POST"])
@patient_required
def export(request: PatientRequest, public_id: uuid.UUID) -> HttpResponseBase:
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    if request.method == "GET":
        return render(
            request,
            "fhir/export.html",
            {
                "record": care_record,
                "holder": care_record.person,
                "capacity": capacity,
                # Back from *Confirmez votre identité*: the page says what to do now.
                "confirmed": second_factor_fresh(request),
            },
        )
    if stepping_up := step_up_needed(request, reverse("fhir:export", args=[public_id])):
        return stepping_up
    ratelimit.check_and_hit("record.export", request, key=f"person:{visitor.pk}")
    journal_export(care_record, actor=visitor, capacity=capacity, ip_address=request.client_ip)
    copy = copies.RecordCopy(care_record, visitor, language=get_language(), base=base_url(request))
    response = StreamingHttpResponse(copies.zip_chunks(copy), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{copy.file_name()}"'  # ASCII
    response["Cache-Control"] = "private, no-store"
    return response
