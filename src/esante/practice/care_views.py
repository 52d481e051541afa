"""A professional's side of the DSP: declaring a care relationship with the patient in
front of them, an emergency access (bris de glace, physicians only), the record page,
its documents and their files, and the documents they write, replace and withdraw.

Every record and document view asks the gate (esante.records.access) at each request:
an ended relationship, a block, a closed record or a professional made inactive is a 404
at the very next one, the same as a record that does not exist. Every page that shows
the record or a document, and every file served, is in the holder's *Historique des
accès*. The declaration and the emergency access answer every refusal alike (whatever
the reason: the audit row keeps it) and are rate-limited per professional and per IP.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante import client_address, ratelimit
from esante.audit import security_log
from esante.practice.forms import (
    AddDocumentForm,
    DeclareForm,
    EmergencyForm,
    ProfessionalDocumentForm,
    WithdrawForm,
)
from esante.practice.sessions import ProfessionalRequest
from esante.practice.views import professional_required
from esante.professionals.models import Professional
from esante.records import care, documents
from esante.records.access import (
    ProfessionalAccess,
    open_document_as_professional,
    open_record_as_professional,
    professional_documents,
)
from esante.records.models import AccessAction, Capacity, Category, Confidentiality, Document

# The one answer to a declaration or an emergency access that opens nothing.
NOTHING_FOUND = gettext_lazy(
    "Aucun dossier accessible ne correspond à ces informations. Vérifiez le numéro "
    "d'identification et le nom du patient."
)


def _professional(request: ProfessionalRequest) -> Professional:
    if request.professional is None:  # professional_required sent everyone else away
        raise PermissionDenied
    return request.professional.professional


def _limit_key(professional: Professional) -> str:
    return f"professional:{professional.pk}"


# Declaring a care relationship, an emergency access ------------------------------------


@require_http_methods(["GET", "POST"])
@professional_required
def declare(request: ProfessionalRequest) -> HttpResponse:
    """*Déclarer une relation de soins*: the patient is in front of the professional."""
    professional = _professional(request)
    if request.method != "POST":
        return _declare_page(request, DeclareForm())
    form = DeclareForm(request.POST)
    if not form.is_valid():
        security_log.form_refused(request, form)
        return _declare_page(request, form, status=400)
    # Counted before the lookup, found or not: the limit is on attempts.
    ratelimit.check_and_hit("care.declare", request, key=_limit_key(professional))
    data = form.cleaned_data
    try:
        relationship = care.declare_relationship(
            professional,
            matricule=data["matricule"],
            last_name=data["last_name"],
            reason=data["reason"],
            ip_address=client_address.of(request),
        )
    except care.CareRefused:
        form.add_error(None, str(NOTHING_FOUND))
        return _declare_page(request, form, status=400)
    messages.success(
        request,
        _(
            "La relation de soins est enregistrée. Le patient en est informé ; vous avez "
            "accès à son dossier jusqu'au %(until)s."
        )
        % {"until": _short_date(relationship.ends_at)},
    )
    return redirect("practice:record", public_id=relationship.record.public_id)


def _declare_page(request: HttpRequest, form: DeclareForm, *, status: int = 200) -> HttpResponse:
    return render(request, "practice/declare.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@professional_required
def emergency(request: ProfessionalRequest) -> HttpResponse:
    """*Accès en urgence (bris de glace)*: physicians only; anyone else finds no page."""
    professional = _professional(request)
    if not professional.is_physician:
        raise Http404
    if request.method != "POST":
        return _emergency_page(request, EmergencyForm())
    form = EmergencyForm(request.POST)
    if not form.is_valid():
        security_log.form_refused(request, form)
        return _emergency_page(request, form, status=400)
    ratelimit.check_and_hit("care.emergency", request, key=_limit_key(professional))
    data = form.cleaned_data
    try:
        access = care.open_emergency_access(
            professional,
            matricule=data["matricule"],
            last_name=data["last_name"],
            reason=data["reason"],
            ip_address=client_address.of(request),
        )
    except care.CareRefused:
        form.add_error(None, str(NOTHING_FOUND))
        return _emergency_page(request, form, status=400)
    # The record page's red banner says until when, and that the access is reviewed.
    return redirect("practice:record", public_id=access.record.public_id)


def _emergency_page(
    request: HttpRequest, form: EmergencyForm, *, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "practice/emergency.html",
        {"form": form, "hours": settings.ESANTE_EMERGENCY_ACCESS_HOURS},
        status=status,
    )


def _short_date(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


# The record page ------------------------------------------------------------------------


@require_GET
@professional_required
def record(request: ProfessionalRequest, public_id: uuid.UUID) -> HttpResponse:
    access = open_record_as_professional(_professional(request), public_id, request=request)
    return _record_page(request, access)


def _record_page(
    request: HttpRequest,
    access: ProfessionalAccess,
    *,
    form: AddDocumentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The record as `access` shows it: journaled each time it is shown, its 400 after a
    refused upload too (that page lists the documents as well)."""
    care.journal_professional_read(access, AccessAction.READ_RECORD)
    record_ = access.record
    declaration = record_.organ_declarations.first() if access.sees_organ_declaration else None
    rows = (
        professional_documents(access)
        .select_related("professional")
        .order_by("-document_date", "-pk")
    )
    return render(
        request,
        "practice/record.html",
        {
            "access": access,
            "record": record_,
            "holder": record_.person,
            "emergency": access.capacity is Capacity.EMERGENCY,
            "documents": list(rows),
            "declaration": declaration,
            "form": (form or AddDocumentForm()) if access.may_write else None,
            "objection": "" if access.may_write else care.objection_message(record_),
        },
        status=status,
    )


@csrf_exempt  # CSRF is checked below, once the size limit is in place (Django docs)
@require_POST
@professional_required
def add_document(request: ProfessionalRequest, public_id: uuid.UUID) -> HttpResponse:
    """*Ajouter un document*: a PDF the professional writes into the record."""
    limit = documents.SizeLimit(request, documents.max_bytes())
    request.upload_handlers = [limit, *request.upload_handlers]
    return _add_document(request, public_id, limit)


@csrf_protect
def _add_document(
    request: ProfessionalRequest, public_id: uuid.UUID, limit: documents.SizeLimit
) -> HttpResponse:
    professional = _professional(request)
    access = open_record_as_professional(professional, public_id, request=request)
    upload = ratelimit.reserve("document.upload", request, key=_limit_key(professional))
    form = AddDocumentForm(request.POST, request.FILES)
    _file_too_large(form, limit)
    document = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            document = care.add_professional_document(
                access,
                data["file"],
                category=Category(data["category"]),
                title=data["title"],
                document_date=data["document_date"],
                confidentiality=Confidentiality(data["confidentiality"]),
                ip_address=client_address.of(request),
            )
        except (care.DocumentRefused, documents.UploadRefused) as refusal:
            _refused_file(form, refusal)
    else:
        security_log.form_refused(request, form)
    if document is None:
        upload.release()  # only what is stored counts
        return _record_page(request, access, form=form, status=400)
    added = _("Le document « %(title)s » est ajouté.") % {"title": document.title}
    messages.success(request, added)
    return redirect("practice:record", public_id=access.record.public_id)


def _file_too_large(form: ProfessionalDocumentForm, limit: documents.SizeLimit) -> None:
    if limit.too_large:
        # The file was dropped as it came in; what was typed is kept.
        form.is_valid()
        form.errors.pop("file", None)
        form.add_error("file", documents.too_large_message())


def _refused_file(
    form: ProfessionalDocumentForm, refusal: care.DocumentRefused | documents.UploadRefused
) -> None:
    """The file's fault (its type, its size) on the file; anything else for the form."""
    if isinstance(refusal, documents.UploadRefused):
        form.add_error("file", refusal.message)
    else:
        form.add_error(refusal.field, refusal.message)


# A document, its file; replacing and withdrawing the professional's own ---------------


def _open_document(
    request: ProfessionalRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[ProfessionalAccess, Document]:
    access = open_record_as_professional(_professional(request), public_id, request=request)
    document = open_document_as_professional(access, document_id, request=request)
    return access, document


@require_GET
@professional_required
def document_detail(
    request: ProfessionalRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    access, document = _open_document(request, public_id, document_id)
    return _document_page(request, access, document)


def _document_page(
    request: HttpRequest,
    access: ProfessionalAccess,
    document: Document,
    *,
    replace_form: ProfessionalDocumentForm | None = None,
    withdraw_form: WithdrawForm | None = None,
    status: int = 200,
) -> HttpResponse:
    care.journal_professional_read(access, AccessAction.READ_DOCUMENT, document.title)
    is_author = document.professional_id == access.professional.pk
    if is_author and replace_form is None:
        replace_form = ProfessionalDocumentForm(
            initial={
                "title": document.title,
                "document_date": document.document_date,
                "confidentiality": document.author_confidentiality,
            }
        )
    return render(
        request,
        "practice/document.html",
        {
            "access": access,
            "record": access.record,
            "holder": access.record.person,
            "emergency": access.capacity is Capacity.EMERGENCY,
            "document": document,
            "is_author": is_author,
            "may_write": access.may_write,
            "objection": "" if access.may_write else care.objection_message(access.record),
            "replace_form": replace_form if is_author else None,
            "withdraw_form": (withdraw_form or WithdrawForm()) if is_author else None,
        },
        status=status,
    )


@require_GET
@professional_required
def document_file(
    request: ProfessionalRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponseBase:
    """The file itself: shown in the browser, or downloaded with ?telecharger=1."""
    access, document = _open_document(request, public_id, document_id)
    response = documents.file_response(document, download="telecharger" in request.GET)
    care.journal_professional_read(access, AccessAction.READ_DOCUMENT, document.title)
    return response


def _own_document(
    request: ProfessionalRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[ProfessionalAccess, Document]:
    """Only the author replaces or withdraws: anyone else finds no such document."""
    access, document = _open_document(request, public_id, document_id)
    if document.professional_id != access.professional.pk:
        raise Http404
    return access, document


@csrf_exempt  # CSRF is checked below, once the size limit is in place (Django docs)
@require_POST
@professional_required
def replace_document(
    request: ProfessionalRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    """*Remplacer*: a new version of the author's document; the old one is kept."""
    limit = documents.SizeLimit(request, documents.max_bytes())
    request.upload_handlers = [limit, *request.upload_handlers]
    return _replace_document(request, public_id, document_id, limit)


@csrf_protect
def _replace_document(
    request: ProfessionalRequest,
    public_id: uuid.UUID,
    document_id: uuid.UUID,
    limit: documents.SizeLimit,
) -> HttpResponse:
    access, document = _own_document(request, public_id, document_id)
    upload = ratelimit.reserve("document.upload", request, key=_limit_key(access.professional))
    form = ProfessionalDocumentForm(request.POST, request.FILES)
    _file_too_large(form, limit)
    new_version = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            new_version = care.replace_document(
                access,
                document,
                data["file"],
                title=data["title"],
                document_date=data["document_date"],
                confidentiality=Confidentiality(data["confidentiality"]),
                ip_address=client_address.of(request),
            )
        except (care.DocumentRefused, documents.UploadRefused) as refusal:
            _refused_file(form, refusal)
    else:
        security_log.form_refused(request, form)
    if new_version is None:
        upload.release()
        return _document_page(request, access, document, replace_form=form, status=400)
    messages.success(
        request,
        _("La nouvelle version de « %(title)s » est enregistrée ; l'ancienne reste conservée.")
        % {"title": new_version.title},
    )
    return redirect(
        "practice:document", public_id=access.record.public_id, document_id=new_version.public_id
    )


@require_POST
@professional_required
def withdraw_document(
    request: ProfessionalRequest, public_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    """*Retirer*: no longer listed to anyone, kept for the legal retention."""
    access, document = _own_document(request, public_id, document_id)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _document_page(request, access, document, withdraw_form=form, status=400)
    try:
        care.withdraw_document(access, document, ip_address=client_address.of(request))
    except care.DocumentRefused as refusal:  # only the author: checked above already
        raise Http404 from refusal
    messages.success(
        request,
        _("Le document « %(title)s » est retiré du DSP. Il reste conservé, sans être affiché.")
        % {"title": document.title},
    )
    return redirect("practice:record", public_id=access.record.public_id)
