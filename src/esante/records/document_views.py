"""The documents of a DSP: one document's page, its file (viewed or downloaded), uploads to
the *Espace personnel*, masking, confidentiality level and deletion.

Every view opens the record through `open_record` (holder or active assistant) and the
document through `open_document` (none while the record is closed). Every read of a file
is journaled; files are served with headers that keep a browser from running them.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from esante import ratelimit
from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.audit import security_log
from esante.records import documents
from esante.records.access import open_document, open_record
from esante.records.actions import (
    add_document,
    delete_document,
    journal,
    set_confidentiality,
    set_masked,
)
from esante.records.forms import ConfidentialityForm, UploadForm
from esante.records.models import AccessAction, Confidentiality
from esante.records.views import render_record, visitor_of


@require_GET
@patient_required
def document_detail(
    request: PatientRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    document = open_document(care_record, document_id, request=request, visitor=visitor)
    return render(
        request,
        "records/document.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "document": document,
            "confidentiality_form": ConfidentialityForm(
                initial={"confidentiality": document.confidentiality}
            ),
        },
    )


@require_GET
@patient_required
def document_file(
    request: PatientRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponseBase:
    """The file itself: shown in the browser, or downloaded with ?telecharger=1."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    document = open_document(care_record, document_id, request=request, visitor=visitor)
    response = documents.file_response(document, download="telecharger" in request.GET)
    journal(
        care_record,
        actor=visitor,
        capacity=capacity,
        action=AccessAction.READ_DOCUMENT,
        target=document.title,
    )
    return response


@csrf_exempt  # CSRF is checked below, once the size limit is in place (Django docs)
@require_POST
@patient_required
def upload(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    """Add a document to the Espace personnel (holder or assistant)."""
    limit = documents.SizeLimit(request, documents.max_bytes())
    request.upload_handlers = [limit, *request.upload_handlers]
    return _upload(request, public_id, limit)


@csrf_protect
def _upload(
    request: PatientRequest, public_id: uuid.UUID, limit: documents.SizeLimit
) -> HttpResponse:
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    if care_record.closed_at is not None:
        raise Http404  # nothing is added to a closed record
    upload = ratelimit.reserve("document.upload", request, key=f"person:{visitor.pk}")
    form = UploadForm(request.POST, request.FILES)
    if limit.too_large:
        # The file was dropped as it came in; what was typed is kept.
        form.is_valid()
        form.errors.pop("file", None)
        form.add_error("file", documents.too_large_message())
    if not form.is_valid():
        security_log.form_refused(request, form)
        upload.release()  # only what is stored counts
        return render_record(request, care_record, capacity, status=400, upload_form=form)
    data = form.cleaned_data
    add_document(
        care_record,
        actor=visitor,
        capacity=capacity,
        upload=data["file"],
        title=data["title"],
        document_date=data["document_date"],
        confidentiality=Confidentiality(data["confidentiality"]),
    )
    messages.success(request, _("Le document « %(title)s » est ajouté.") % {"title": data["title"]})
    return redirect("records:record", public_id=care_record.public_id)


@require_POST
@patient_required
def mask(request: PatientRequest, public_id: uuid.UUID, document_id: uuid.UUID) -> HttpResponse:
    """Masks the document, or shows it again (POST masquer=0)."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    document = open_document(care_record, document_id, request=request, visitor=visitor)
    masked = request.POST.get("masquer") != "0"
    set_masked(document, masked=masked, actor=visitor, capacity=capacity)
    if masked:
        messages.success(request, _("Le document est masqué."))
    else:
        messages.success(request, _("Le document n'est plus masqué."))
    return redirect(
        "records:document", public_id=care_record.public_id, document_id=document.public_id
    )


@require_POST
@patient_required
def confidentiality(
    request: PatientRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    document = open_document(care_record, document_id, request=request, visitor=visitor)
    form = ConfidentialityForm(request.POST)
    if not form.is_valid():
        security_log.form_refused(request, form)
        messages.error(request, _("Choisissez l'un des niveaux proposés."))
    else:
        level = Confidentiality(form.cleaned_data["confidentiality"])
        set_confidentiality(document, level, actor=visitor, capacity=capacity)
        messages.success(request, _("Le niveau de confidentialité est enregistré."))
    return redirect(
        "records:document", public_id=care_record.public_id, document_id=document.public_id
    )


@require_POST
@patient_required
def delete(request: PatientRequest, public_id: uuid.UUID, document_id: uuid.UUID) -> HttpResponse:
    """Only documents of the Espace personnel can be deleted."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    document = open_document(care_record, document_id, request=request, visitor=visitor)
    if not document.in_personal_space:
        raise Http404
    delete_document(document, actor=visitor, capacity=capacity)
    messages.success(
        request, _("Le document « %(title)s » est supprimé.") % {"title": document.title}
    )
    return redirect("records:record", public_id=care_record.public_id)
