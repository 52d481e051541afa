"""The documents of a DSP: one document's page (with its professional author and the
versions it replaced), its file (viewed or downloaded), uploads to the *Espace
personnel*, masking, confidentiality level (never below the author's), the professionals
named for a Restreint document, and deletion.

Every view opens the record through `open_record` (holder or active assistant) and the
document through `open_document` (none while the record is closed). Every read of a file
is journaled; files are served with headers that keep a browser from running them.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from esante import ratelimit
from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.accounts.reauth import step_up_needed
from esante.audit import security_log
from esante.professionals.models import Professional
from esante.records import documents
from esante.records.access import open_document, open_record
from esante.records.actions import (
    add_document,
    delete_document,
    journal,
    set_confidentiality,
    set_masked,
)
from esante.records.care import name_professionals
from esante.records.forms import ConfidentialityForm, NamedProfessionalsForm, UploadForm
from esante.records.models import AccessAction, Capacity, CareRecord, Confidentiality, Document
from esante.records.views import render_record, visitor_of


def previous_versions(document: Document) -> list[Document]:
    """The versions `document` replaced, newest first, following `previous` (a withdrawn
    one is skipped: it is listed to no one)."""
    versions: list[Document] = []
    previous_id = document.previous_id
    while previous_id is not None and len(versions) < MAX_VERSIONS:
        earlier = Document.objects.filter(pk=previous_id, record_id=document.record_id).first()
        if earlier is None:
            break
        if earlier.withdrawn_at is None:
            versions.append(earlier)
        previous_id = earlier.previous_id
    return versions


MAX_VERSIONS = 50  # more than any real document has; a loop in the data ends here


def nameable_professionals(document: Document) -> list[Professional]:
    """Whom a Restreint document's readers can be chosen among: the professionals with a
    current care relationship, and those named already (so that they can be unticked)."""
    now = timezone.now()
    related = Q(
        care_relationships__record_id=document.record_id,
        care_relationships__ended_at__isnull=True,
        care_relationships__ends_at__gt=now,
    )
    named = Q(named_documents=document)
    return list(
        Professional.objects.filter(related | named).distinct().order_by("last_name", "first_name")
    )


def render_document(
    request: HttpRequest,
    care_record: CareRecord,
    capacity: Capacity,
    document: Document,
    *,
    status: int = 200,
    confidentiality_form: ConfidentialityForm | None = None,
    named_form: NamedProfessionalsForm | None = None,
) -> HttpResponse:
    floor = Confidentiality(document.author_confidentiality)
    if confidentiality_form is None:
        confidentiality_form = ConfidentialityForm(
            initial={"confidentiality": document.confidentiality}, floor=floor
        )
    restricted = document.confidentiality == Confidentiality.RESTRICTED
    if restricted and named_form is None:
        named = list(document.named_professionals.values_list("pk", flat=True))
        named_form = NamedProfessionalsForm(
            initial={"professionnels": named}, choices=nameable_professionals(document)
        )
    return render(
        request,
        "records/document.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "document": document,
            "professional": document.professional,
            "floor": floor,
            "confidentiality_form": confidentiality_form,
            # Shown for a Restreint document, or to say why a choice was refused.
            "named_form": named_form if restricted or (named_form and named_form.errors) else None,
            "versions": previous_versions(document),
        },
        status=status,
    )


@require_GET
@patient_required
def document_detail(
    request: PatientRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    document = open_document(care_record, document_id, request=request, visitor=visitor)
    return render_document(request, care_record, capacity, document)


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
    floor = Confidentiality(document.author_confidentiality)
    form = ConfidentialityForm(request.POST, floor=floor)
    if not form.is_valid():
        # What the page offers is all it takes: anything else is typed by hand.
        security_log.form_refused(request, form)
        return render_document(
            request, care_record, capacity, document, status=400, confidentiality_form=form
        )
    level = Confidentiality(form.cleaned_data["confidentiality"])
    set_confidentiality(document, level, actor=visitor, capacity=capacity)
    messages.success(request, _("Le niveau de confidentialité est enregistré."))
    return redirect(
        "records:document", public_id=care_record.public_id, document_id=document.public_id
    )


@require_POST
@patient_required
def named_professionals(
    request: PatientRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    """« Professionnels nommés » of a Restreint document: choosing who may read it opens
    it to them, so a fresh second factor is asked first (esante.accounts.reauth)."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    document = open_document(care_record, document_id, request=request, visitor=visitor)
    page = reverse("records:document", args=[public_id, document_id])
    if stepping_up := step_up_needed(request, page + "#nommes"):
        return stepping_up
    form = NamedProfessionalsForm(request.POST, choices=nameable_professionals(document))
    if document.confidentiality != Confidentiality.RESTRICTED:
        # The page offers the choice for a Restreint document only.
        form.is_valid()
        form.add_error(None, _("Seul un document « Restreint » a des professionnels nommés."))
    if not form.is_valid():
        security_log.form_refused(request, form)
        return render_document(
            request, care_record, capacity, document, status=400, named_form=form
        )
    name_professionals(
        document, form.chosen(), actor=visitor, capacity=capacity, ip_address=request.client_ip
    )
    messages.success(request, _("Les professionnels nommés sont enregistrés."))
    return redirect(page + "#nommes")


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
