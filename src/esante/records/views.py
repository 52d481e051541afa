"""*Mon DSP*: the record page, its *Historique des accès*, closing and reopening, the
organ-donation declaration, and the records one assists (*Accéder aux autres dossiers
patient*). Documents: document_views; the Assistants panel: assistant_views."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, DateTimeField, Field
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante import raw_sql
from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.portal.fields import widget_html
from esante.professionals.models import Professional
from esante.records import documents
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
    JournalFilterForm,
    OrganDonationForm,
    UploadForm,
)
from esante.records.models import (
    AccessAction,
    Assistant,
    Capacity,
    CareRecord,
    Category,
    Confidentiality,
    Document,
    OrganDonationDeclaration,
)
from esante.registry.models import InsuredPerson

JOURNAL_PAGE_SIZE = 25
ORGAN_LATER_KEY = "records_organ_later"  # the record whose holder chose « plus tard »


def visitor_of(request: PatientRequest) -> InsuredPerson:
    person = request.patient.logged_in_account.person
    return person


# Where the record and a document are put in the links of `_links`.
RECORD_SLOT = uuid.UUID(int=1)
DOCUMENT_SLOT = uuid.UUID(int=2)


def record_links(public_id: uuid.UUID) -> dict[str, str]:
    """The record page's links, `public_id` put in the ones `_links` reversed once: a
    `reverse` costs as much as a dozen lines of template, and the page has ten."""
    slot, record_id = str(RECORD_SLOT), str(public_id)
    links = _links(get_script_prefix(), get_urlconf(), get_language())
    return {name: link.replace(slot, record_id) for name, link in links.items()}


@functools.lru_cache(maxsize=16)
def _links(prefix: str, urlconf: str | None, language: str | None) -> dict[str, str]:
    """Keyed by what a `reverse` depends on beside its arguments."""
    record, document = RECORD_SLOT, DOCUMENT_SLOT
    links = {"others": reverse("records:others")}
    for name in (
        "record",
        "reopen",
        "upload",
        "organ_donation",
        "journal",
        "close",
        "assistant_search",
        "assistant_add",
        "professionals",
    ):
        links[name] = reverse(f"records:{name}", args=[record])
    for name in ("document", "document_file"):
        links[name] = reverse(f"records:{name}", args=[record, document])
    links["export"] = reverse("fhir:export", args=[record])  # « Télécharger mon dossier »
    return links


@dataclass(frozen=True)
class DocumentRow:
    """A line of the documents table, read as values (no model instance) and made ready
    here: the date formatted as the `date` filter would, the category and the
    confidentiality level by their labels (`get_…_display` translates every choice at
    each call), the two links from one `reverse` each for the whole table."""

    date: str
    category: str  # the labels, in the page's language
    confidentiality: str  # empty for the normal level, which shows no tag
    title: str
    author: str
    masked: bool
    url: str
    file_url: str


DOCUMENT_COLUMNS = (
    "public_id",
    "document_date",
    "category",
    "confidentiality",
    "title",
    "author",
    "masked_at",
)


@functools.cache
def _documents_select(by_category: bool) -> raw_sql.Select:
    """The record's current documents (of one category), DOCUMENT_COLUMNS in Document's ordering:
    plain SQL written once per process (0.05 ms of CPU to read, the ORM's values_list 0.40)."""
    fields = [cast("Field[Any, Any]", Document._meta.get_field(name)) for name in DOCUMENT_COLUMNS]
    table, record, category, superseded, withdrawn, *columns = raw_sql.names(
        Document, "record", "category", "superseded_at", "withdrawn_at", *DOCUMENT_COLUMNS
    )
    order = []
    for name in map(str, Document._meta.ordering or ()):
        field_name = name.lstrip("-")
        column = raw_sql.names(Document, "id" if field_name == "pk" else field_name)[1]
        order.append(f"{column} DESC" if name.startswith("-") else column)
    # Listed: the current versions (Document.is_current).
    where = f"{record} = %s AND {superseded} IS NULL AND {withdrawn} IS NULL" + (
        f" AND {category} = %s" if by_category else ""
    )
    sql = (
        f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"  # noqa: S608
        f" ORDER BY {', '.join(order)}"
    )
    return raw_sql.Select(sql, fields)


@functools.lru_cache(maxsize=16)
def _document_labels(language: str) -> tuple[dict[str, str], dict[str, str]]:
    """The categories' and confidentiality levels' names in `language` (Normal: none
    shown), translated once per language rather than at each row."""
    categories = {value: str(label) for value, label in Category.choices}
    levels = {value: str(label) for value, label in Confidentiality.choices}
    levels[Confidentiality.NORMAL] = ""
    return categories, levels


def document_rows(
    care_record: CareRecord, links: dict[str, str], category: str = ""
) -> list[DocumentRow]:
    """The record's documents (or those of one category), newest first."""
    parameters: list[Any] = [care_record.pk]
    if category:
        parameters.append(category)
    values = _documents_select(bool(category)).rows(parameters)
    categories, levels = _document_labels(get_language())
    date_format = get_format("SHORT_DATE_FORMAT")
    url, file_url, slot = links["document"], links["document_file"], str(DOCUMENT_SLOT)
    rows = []
    for public_id, date, kind, level, title, author, masked_at in values:
        document_id = str(public_id)
        rows.append(
            DocumentRow(
                date=dateformat.format(date, date_format),
                category=categories.get(kind, kind),
                confidentiality=levels.get(level, level),
                title=title,
                author=author,
                masked=masked_at is not None,
                url=url.replace(slot, document_id),
                file_url=file_url.replace(slot, document_id),
            )
        )
    return rows


def upload_fields(form: UploadForm | None) -> SafeString:
    """The upload form's fields (records/upload_fields.html), with `form`'s errors and
    what was typed; without one, blank: the same in every page of one language, so
    printed once per language (and upload size limit) in this process; at every page
    with DEBUG on, so that an edited template shows."""
    if form is None and not settings.DEBUG:
        return _blank_upload_fields(get_language(), documents.max_bytes())
    return _upload_fields(form or UploadForm())


@functools.lru_cache(maxsize=32)
def _blank_upload_fields(language: str, max_bytes: int) -> SafeString:
    return _upload_fields(UploadForm())


def _upload_fields(form: UploadForm) -> SafeString:
    # The template's last line break is the page's, which goes on after it.
    html = render_to_string("records/upload_fields.html", {"upload_form": form})
    return mark_safe(html.removesuffix("\n"))  # noqa: S308 - a template's output


def category_select(form: CategoryFilterForm) -> SafeString:
    """The filter's <select>, the category asked for selected: printed once per language
    and category in this process. A value that is no category (an error: the select is
    marked invalid) is printed each time, and never kept."""
    value = form.data.get("categorie")
    if form.is_valid() and (value is None or value in CATEGORY_VALUES):
        return _category_select(get_language(), value)
    return widget_html(form["categorie"])


CATEGORY_VALUES = frozenset(["", *Category.values])


@functools.lru_cache(maxsize=64)
def _category_select(language: str, value: str | None) -> SafeString:
    return widget_html(
        CategoryFilterForm({} if value is None else {"categorie": value})["categorie"]
    )


@functools.lru_cache(maxsize=16)
def close_box(language: str) -> SafeString:
    """The close form's box and its label, the same on every page in one language."""
    confirm = CloseForm()["confirm"]
    return format_html(
        '<label class="choice" for="{}">{} {}</label>',
        confirm.id_for_label,
        widget_html(confirm),
        confirm.label,
    )


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
    links = record_links(care_record.public_id)
    shown = care_record.closed_at is None  # a closed record shows no document
    rows = document_rows(care_record, links, category) if shown else []
    context["upload_fields"] = upload_fields(context.pop("upload_form", None))
    context.setdefault("adding", "ajouter" in request.GET)
    if "search_form" not in context:  # printed only in the new assistant's row
        context["search_form"] = AssistantSearchForm() if context["adding"] else None
    if "declaration" not in context:  # shown to the holder only
        owner = capacity is Capacity.OWNER
        context["declaration"] = care_record.organ_declarations.first() if owner else None
    if "assistants" not in context:
        context["assistants"] = active_assistants(care_record).select_related("person__account")
    context.update(
        record=care_record,
        holder=care_record.person,
        capacity=capacity,
        links=links,
        documents=rows,
        filter_form=filter_form,
        category_select=category_select(filter_form),
        category=category,
        close_box=close_box(get_language()),
    )
    # The page's content through Jinja2 (esante/portal/jinja.py), its frame through Django.
    content = engines["jinja2"].get_template("records/record_content.jinja")
    context["content"] = mark_safe(content.render(dict(context), request))  # noqa: S308 - escaped
    return render(request, "records/record.html", context, status=status)


# What the record page reads beside the record, as columns of the record's own statement:
# whether any of its assistant rows is not ended (most records have none, and then the
# Assistants panel needs no query of its own), and the holder's standing organ-donation
# answer, the last one (OrganDonationDeclaration's ordering), both None without one.
# {record} is the outer query's own table.
ANY_ASSISTANT_SQL = (
    "EXISTS (SELECT 1 FROM {assistant} AS a WHERE a.{assistant_record} = {record}.{record_id}"
    " AND a.{ended_at} IS NULL)"
)
LAST_ANSWER_SQL = (
    "SELECT d.{column} FROM {declaration} AS d WHERE d.{declaration_record} = {record}.{record_id}"
    " ORDER BY d.{declared_at} DESC, d.{declaration_id} DESC LIMIT 1"
)


@functools.cache
def _record_page_select() -> raw_sql.Select:
    """The record page's read of the record (its fields, then ANY_ASSISTANT_SQL and the
    standing answer's two columns): plain SQL, written once per process. Through the ORM
    the same statement cost 0.40–0.48 ms of CPU to build and read at each request, 0.11 ms
    so (in process, `bench/budget.py`'s machine)."""
    fields = CareRecord._meta.concrete_fields
    record, record_id, public_id = raw_sql.names(CareRecord, "id", "public_id")
    assistant, assistant_record, ended_at = raw_sql.names(Assistant, "record", "ended_at")
    declaration, declaration_record, declared_at, declaration_id, refuses = raw_sql.names(
        OrganDonationDeclaration, "record", "declared_at", "id", "refuses_removal"
    )
    names = {
        "record": record,
        "record_id": record_id,
        "assistant": assistant,
        "assistant_record": assistant_record,
        "ended_at": ended_at,
        "declaration": declaration,
        "declaration_record": declaration_record,
        "declared_at": declared_at,
        "declaration_id": declaration_id,
    }
    columns = ", ".join(f"{record}.{connection.ops.quote_name(f.column)}" for f in fields)
    sql = (
        f"SELECT {columns}, ({ANY_ASSISTANT_SQL.format(**names)}),"  # noqa: S608
        f" ({LAST_ANSWER_SQL.format(column=refuses, **names)}),"
        f" ({LAST_ANSWER_SQL.format(column=declared_at, **names)})"
        f" FROM {record} WHERE {record}.{public_id} = %s"
    )
    return raw_sql.Select(sql, [*fields, BooleanField(), BooleanField(), DateTimeField()])


def read_for_record_page(public_id: uuid.UUID) -> CareRecord | None:
    """The record with `any_assistant`, `declaration_refuses` and `declaration_at`
    (None without an answer), for `open_record`."""
    row = _record_page_select().first(
        [raw_sql.prepare(CareRecord._meta.get_field("public_id"), public_id)]
    )
    if row is None:
        return None
    fields = CareRecord._meta.concrete_fields
    care_record = CareRecord.from_db(
        connection.alias, [f.attname for f in fields], row[: len(fields)]
    )
    any_assistant, refuses, declared_at = row[len(fields) :]
    care_record.any_assistant = bool(any_assistant)  # type: ignore[attr-defined]
    care_record.declaration_refuses = refuses  # type: ignore[attr-defined]
    care_record.declaration_at = declared_at  # type: ignore[attr-defined]
    return care_record


def read_declaration(care_record: CareRecord) -> OrganDonationDeclaration | None:
    """The standing answer, from a record read by `read_for_record_page`."""
    declared_at = care_record.declaration_at  # type: ignore[attr-defined]
    if declared_at is None:
        return None
    refuses = care_record.declaration_refuses  # type: ignore[attr-defined]
    return OrganDonationDeclaration(
        record=care_record, refuses_removal=refuses, declared_at=declared_at
    )


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
        visitor, public_id, request=request, read=read_for_record_page
    )
    # Read once, for the test and the page; the holder's only.
    owner = capacity is Capacity.OWNER
    declaration = read_declaration(care_record) if owner else None
    # An adult holder is asked the organ-donation question at the first access of each
    # login, until answered; « plus tard » lets them in for this session.
    later = request.session.get(ORGAN_LATER_KEY) == str(care_record.public_id)
    if owner and not visitor.is_minor and declaration is None and not later:
        return redirect("records:organ_donation", public_id=care_record.public_id)
    journal(care_record, actor=visitor, capacity=capacity, action=AccessAction.READ_RECORD)
    shown: dict[str, Any] = {"declaration": declaration}
    if not care_record.any_assistant:  # type: ignore[attr-defined]  # read_for_record_page
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
    """*Historique des accès*, newest first; ?professionnel=<id> keeps the lines of one of
    the professionals the journal names."""
    visitor = visitor_of(request)
    care_record, capacity = open_record(visitor, public_id, request=request)
    journal(care_record, actor=visitor, capacity=capacity, action=AccessAction.READ_JOURNAL)
    professionals = list(
        Professional.objects.filter(record_accesses__record=care_record)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    filter_form = JournalFilterForm(request.GET, professionals=professionals)
    entries = care_record.journal.select_related("actor", "professional")
    chosen = filter_form.cleaned_data["professionnel"] if filter_form.is_valid() else None
    if chosen is not None:
        entries = entries.filter(professional_id=chosen)
    page = Paginator(entries, JOURNAL_PAGE_SIZE).get_page(request.GET.get("page"))
    blocked: set[int] = set()
    if professionals:  # a record no professional reached reads no blocks
        blocked = set(care_record.blocks.standing().values_list("professional_id", flat=True))
    return render(
        request,
        "records/journal.html",
        {
            "record": care_record,
            "holder": care_record.person,
            "capacity": capacity,
            "page": page,
            # Shown once a professional is in the journal, or to say what was wrong.
            "filter_form": filter_form if professionals or not filter_form.is_valid() else None,
            "filter_query": f"professionnel={chosen}&" if chosen is not None else "",
            "blocked": blocked,
        },
        status=200 if filter_form.is_valid() else 400,
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
