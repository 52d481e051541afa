"""*Mon DSP*: the record page, its *Historique des accès*, closing and reopening, the
organ-donation declaration, and the records one assists (*Accéder aux autres dossiers
patient*). Documents: document_views; the Assistants panel: assistant_views."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.records.access import active_assistants, assisted_records, open_record, refusal
from esante.records.actions import (
    close_record,
    declare_organ_donation,
    ensure_care_record,
    journal,
    reopen_record,
)
from esante.records.forms import (
    LATER,
    AssistantSearchForm,
    CategoryFilterForm,
    CloseForm,
    OrganDonationForm,
    UploadForm,
)
from esante.records.models import (
    AccessAction,
    Assistant,
    Capacity,
    CareRecord,
    Category,
    Document,
)
from esante.registry.models import InsuredPerson

JOURNAL_PAGE_SIZE = 25
ORGAN_LATER_KEY = "records_organ_later"  # the record whose holder chose « plus tard »


def visitor_of(request: PatientRequest) -> InsuredPerson:
    person = request.patient.logged_in_account.person
    return person


@dataclass(frozen=True)
class DocumentRow:
    """A line of the documents table. Its category's label and its two links are made
    here: `get_category_display` translates every category at each call, and a {% url %}
    costs more than `reverse`."""

    document: Document
    category: str | Promise  # the label, translated when printed
    url: str
    file_url: str


def document_rows(care_record: CareRecord, documents: Iterable[Document]) -> list[DocumentRow]:
    labels: dict[str, str | Promise] = dict(Category.choices)
    rows = []
    for document in documents:
        ids = [care_record.public_id, document.public_id]
        rows.append(
            DocumentRow(
                document=document,
                category=labels.get(document.category, document.category),
                url=reverse("records:document", args=ids),
                file_url=reverse("records:document_file", args=ids),
            )
        )
    return rows


def render_record(
    request: HttpRequest,
    care_record: CareRecord,
    capacity: Capacity,
    *,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    """The record page; the document and assistant views render it again with their
    form's errors or the search result, so that nothing typed is lost. A caller that
    has read the declaration or the assistants already passes them."""
    filter_form = CategoryFilterForm(request.GET)
    category = filter_form.cleaned_data["categorie"] if filter_form.is_valid() else ""
    rows: list[DocumentRow] = []
    if care_record.closed_at is None:  # a closed record shows no document
        documents = care_record.documents.all()  # the page shows no uploader: no join
        if category:
            documents = documents.filter(category=category)
        rows = document_rows(care_record, documents)
    context.setdefault("upload_form", UploadForm())
    context.setdefault("adding", "ajouter" in request.GET)
    context.setdefault("search_form", AssistantSearchForm())
    if "declaration" not in context:  # shown to the holder only
        owner = capacity is Capacity.OWNER
        context["declaration"] = care_record.organ_declarations.first() if owner else None
    if "assistants" not in context:
        context["assistants"] = active_assistants(care_record).select_related("person__account")
    return render(
        request,
        "records/record.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "documents": rows,
            "filter_form": filter_form,
            "category": category,
            "close_form": CloseForm(),
            **context,
        },
        status=status,
    )


def with_any_assistant() -> QuerySet[CareRecord]:
    """Records read with `any_assistant`: whether any of their assistant rows is not
    ended. Most records have none, and then the Assistants panel needs no query of its
    own; otherwise the panel reads its exact list (`active_assistants`)."""
    not_ended = Assistant.objects.filter(record=OuterRef("pk"), ended_at__isnull=True)
    return CareRecord.objects.annotate(any_assistant=Exists(not_ended))


@require_GET
@patient_required
def my_record(request: PatientRequest) -> HttpResponse:
    """*Mon DSP*: the logged-in person's own record."""
    care_record = ensure_care_record(visitor_of(request))
    return redirect("records:record", public_id=care_record.public_id)


@require_GET
@patient_required
def record(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = visitor_of(request)
    care_record, capacity = open_record(
        visitor, public_id, request=request, records=with_any_assistant()
    )
    # Read once, for the test and the page; the holder's only.
    owner = capacity is Capacity.OWNER
    declaration = care_record.organ_declarations.first() if owner else None
    # An adult holder is asked the organ-donation question at the first access of each
    # login, until answered; « plus tard » lets them in for this session.
    later = request.session.get(ORGAN_LATER_KEY) == str(care_record.public_id)
    if owner and not visitor.is_minor and declaration is None and not later:
        return redirect("records:organ_donation", public_id=care_record.public_id)
    journal(care_record, actor=visitor, capacity=capacity, action=AccessAction.READ_RECORD)
    shown: dict[str, Any] = {"declaration": declaration}
    if not care_record.any_assistant:  # type: ignore[attr-defined]  # with_any_assistant()
        shown["assistants"] = []  # none to list: no query
    return render_record(request, care_record, capacity, **shown)


@require_GET
@patient_required
def other_records(request: PatientRequest) -> HttpResponse:
    """*Accéder aux autres dossiers patient*: the records where the visitor is assistant."""
    visitor = visitor_of(request)
    own = CareRecord.objects.filter(person=visitor).first()
    return render(
        request,
        "records/others.html",
        {"records": assisted_records(visitor), "own_record": own, "visitor": visitor},
    )


@require_GET
@patient_required
def access_journal(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    journal(care_record, actor=visitor, capacity=capacity, action=AccessAction.READ_JOURNAL)
    entries = care_record.journal.select_related("actor")
    page = Paginator(entries, JOURNAL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "records/journal.html",
        {"record": care_record, "holder": care_record.person, "capacity": capacity, "page": page},
    )


def _holder_only(request: HttpRequest, visitor: InsuredPerson, public_id: uuid.UUID) -> CareRecord:
    """Closing, reopening and the organ-donation declaration stay the holder's own."""
    care_record, capacity = open_record(visitor, public_id, request=request)
    if capacity is not Capacity.OWNER:
        raise refusal(request, visitor, "holder_only", record=str(public_id))
    return care_record


@require_POST
@patient_required
def close(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = visitor_of(request)
    care_record = _holder_only(request, visitor, public_id)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Cochez la case pour confirmer la fermeture."))
    else:
        close_record(care_record, actor=visitor)
        messages.success(request, _("Votre DSP est fermé."))
    return redirect("records:record", public_id=care_record.public_id)


@require_POST
@patient_required
def reopen(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    visitor = visitor_of(request)
    care_record = _holder_only(request, visitor, public_id)
    reopen_record(care_record, actor=visitor)
    messages.success(request, _("Votre DSP est rouvert."))
    return redirect("records:record", public_id=care_record.public_id)


@require_http_methods(["GET", "POST"])
@patient_required
def organ_donation(request: PatientRequest, public_id: uuid.UUID) -> HttpResponse:
    """The holder's declaration: asked at the first access, changeable at any time.
    « Je déciderai plus tard » stores nothing: the session remembers it, so the record
    opens now and the question comes back at the next login."""
    visitor = visitor_of(request)
    care_record = _holder_only(request, visitor, public_id)
    if visitor.is_minor:
        raise Http404  # the holder's own decision, from majority
    current = care_record.organ_declarations.first()
    initial = {"refuses_removal": "1" if current.refuses_removal else "0"} if current else {}
    form = OrganDonationForm(
        request.POST if request.method == "POST" else None, initial=initial, later=current is None
    )
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(
            request,
            "records/organ_donation.html",
            {
                "record": care_record,
                "holder": care_record.person,
                "capacity": Capacity.OWNER,
                "form": form,
                "current": current,
            },
            status=status,
        )
    answer = form.cleaned_data["refuses_removal"]
    if answer == LATER:
        request.session[ORGAN_LATER_KEY] = str(care_record.public_id)
        return redirect("records:record", public_id=care_record.public_id)
    declare_organ_donation(care_record, actor=visitor, refuses_removal=answer == "1")
    messages.success(request, _("Votre déclaration est enregistrée."))
    return redirect("records:record", public_id=care_record.public_id)
