"""The FHIR R4 API under /fhir/ (docs/api.md): `metadata`, SMART's configuration, the
agency's code systems, and per resource type the interactions the CapabilityStatement
lists — read, search-type, and create for DocumentReference.

Every record is opened through the gate (esante.fhir.context, esante.records.access) and
every read is journaled as the portal's are, the service named in the line. What the
caller may not see answers exactly as what does not exist: 404."""

from __future__ import annotations

import base64
import datetime
import functools
import json
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.documentreference import DocumentReference as DocumentReferenceModel
from pydantic import ValidationError

from esante import client_address, ratelimit
from esante.fhir import capability, resources, search
from esante.fhir.context import (
    Caller,
    RecordAccess,
    authenticate,
    launch_patient_id,
    open_patient,
    parse_id,
    throttled,
)
from esante.fhir.errors import FhirError, fhir_response, invalid, not_found
from esante.professionals.models import Professional
from esante.provider.server import set_issuer
from esante.records import care, documents
from esante.records.access import (
    active_assistants,
    professional_emergencies,
    professional_records,
)
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Assistant,
    CareRelationship,
    Category,
    Confidentiality,
    Document,
    EmergencyAccess,
    ProfessionalBlock,
)

Handler = Callable[..., HttpResponseBase]
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}


def base_url(request: HttpRequest) -> str:
    return f"{set_issuer(request)}{reverse('fhir:base')}".rstrip("/")


def endpoint(view: Handler) -> Handler:
    """A FHIR endpoint: CSRF-free (a bearer token, never a cookie, authorizes), JSON only,
    and every refusal an OperationOutcome."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            wanted = request.GET.get("_format", "")
            if wanted and wanted.split(";")[0].strip() not in JSON_FORMATS:
                raise FhirError(406, "not-supported", "Only JSON is supported (_format=json).")
            if _asks_only_xml(request.headers.get("Accept", "")):
                raise FhirError(
                    406, "not-supported", "Only JSON is supported (application/fhir+json)."
                )
            return view(request, *args, **kwargs)
        except FhirError as error:
            return error.response()

    return wrapper


def _asks_only_xml(accept: str) -> bool:
    """An Accept that names XML and nothing this server answers with (JSON, any type)."""
    kinds = [part.split(";")[0].strip() for part in accept.split(",") if part.strip()]
    return any("xml" in kind for kind in kinds) and not any(
        "json" in kind or kind.endswith("*") for kind in kinds
    )


# Conformance: no token needed -----------------------------------------------------------------


@endpoint
def metadata(request: HttpRequest) -> HttpResponseBase:
    _only(request, "GET")
    return fhir_response(capability.statement(base_url(request), set_issuer(request)))


@endpoint
def smart_configuration(request: HttpRequest) -> HttpResponseBase:
    _only(request, "GET")
    # Not `public, max-age`: esante.portal.middleware.NeverCacheMiddleware makes every
    # answer no-store (ASVS 5.0 14.3.2), as the provider's openid-configuration.
    return JsonResponse(capability.smart_configuration(set_issuer(request)))


@endpoint
def code_system(request: HttpRequest, name: str) -> HttpResponseBase:
    _only(request, "GET")
    found = capability.code_system(name)
    if found is None:
        raise not_found()
    return fhir_response(found)


@endpoint
def unknown(request: HttpRequest, rest: str = "") -> HttpResponseBase:
    raise FhirError(404, "not-supported", "This is not an address of this FHIR server.")


def _only(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise FhirError(
            405,
            "not-supported",
            f"{request.method} is not supported here.",
            headers={"Allow": ", ".join(methods)},
        )


# Resource types ---------------------------------------------------------------------------------


@endpoint
def type_endpoint(request: HttpRequest, resource_type: str) -> HttpResponseBase:
    handlers = TYPES.get(resource_type)
    if handlers is None:
        raise FhirError(
            404, "not-supported", f"The resource type '{resource_type}' is not supported."
        )
    methods = ["GET", "POST"] if "create" in handlers else ["GET"]
    _only(request, *methods)
    caller = authenticate(request)
    if request.method == "POST":
        return handlers["create"](request, caller)
    if "search" not in handlers:
        raise FhirError(
            405, "not-supported", f"{resource_type} is read by id only.", headers={"Allow": ""}
        )
    caller.require(resource_type, "s")
    return handlers["search"](request, caller)


@endpoint
def instance_endpoint(
    request: HttpRequest, resource_type: str, resource_id: str
) -> HttpResponseBase:
    handlers = TYPES.get(resource_type)
    if handlers is None:
        raise FhirError(
            404, "not-supported", f"The resource type '{resource_type}' is not supported."
        )
    _only(request, "GET")
    caller = authenticate(request)
    caller.require(resource_type, "r")
    return handlers["read"](request, caller, resource_id)


def _read_response(request: HttpRequest, resource: dict[str, Any]) -> HttpResponse:
    """One resource, with its version as ETag; 304 when the caller has it already."""
    meta = resource["meta"]
    etag = f'W/"{meta["versionId"]}"'
    headers = {"ETag": etag, "Last-Modified": _http_date(meta["lastUpdated"])}
    if request.headers.get("If-None-Match", "") == etag:
        response = HttpResponse(status=304)
        for name, value in headers.items():
            response[name] = value
        return response
    return fhir_response(resource, headers=headers)


def _http_date(instant: str) -> str:
    return http_date(datetime.datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp())


def _via(caller: Caller, target: str = "") -> str:
    """A journal line's target: what was read, and the app that read it."""
    app = f"API FHIR : {caller.service.name}"
    return f"{target} ({app})" if target else app


def _patient_side(caller: Caller, resource_type: str) -> None:
    """The journal, the consents and the assistants are the holder's and assistants' to
    read (« mêmes droits »), never a professional's."""
    if caller.professional is not None:
        raise FhirError(403, "forbidden", f"{resource_type} is read by the patient's side only.")


def _record_of_search(request: HttpRequest, caller: Caller, params: Any) -> RecordAccess:
    """The record a search is about: its `patient`, or a patient app's patient."""
    raw = search.single(params, "patient")
    if raw is None:
        if caller.professional is not None:
            raise invalid("A search by a professional names its 'patient'.")
        raw = launch_patient_id(caller) or ""
    return open_patient(caller, search.reference_id(raw, "Patient", "patient"), request)


def _searchset(
    request: HttpRequest,
    resource_type: str,
    items: QuerySet[Any] | list[Any],
    mapper: Callable[[Any], dict[str, Any]],
    params: Any,
) -> HttpResponse:
    size = search.page_size(params)
    start = search.offset(params)
    total = items.count() if isinstance(items, QuerySet) else len(items)
    page = search.paged(items, start, size)
    body = search.bundle(
        request,
        base_url(request),
        resource_type,
        resources=[mapper(each) for each in page],
        total=total,
        start=start,
        size=size,
    )
    return fhir_response(body)


# Patient ------------------------------------------------------------------------------------


def read_patient(request: HttpRequest, caller: Caller, resource_id: str) -> HttpResponse:
    access = open_patient(caller, resource_id, request)
    access.journal(AccessAction.READ_RECORD, _via(caller))
    return _read_response(
        request, resources.patient(access.record, with_matricule=caller.with_matricule)
    )


def search_patient(request: HttpRequest, caller: Caller) -> HttpResponse:
    params = search.parameters(request, {"_id"})
    wanted = search.single(params, "_id")
    records = []
    if caller.professional is not None:
        # Their patients: the current care relationships and emergency accesses.
        records = [each.record for each in professional_records(caller.professional)]
        seen = {each.pk for each in records}
        records += [
            each.record
            for each in professional_emergencies(caller.professional)
            if each.record_id not in seen
        ]
    else:
        launched = launch_patient_id(caller)
        if launched is not None and wanted in (None, launched):
            access = open_patient(caller, launched, request)
            access.journal(AccessAction.READ_RECORD, _via(caller))  # as a read of it
            records = [access.record]
    if wanted is not None:
        records = [each for each in records if str(each.public_id) == wanted]
    return _searchset(
        request,
        "Patient",
        records,
        lambda record: resources.patient(record, with_matricule=caller.with_matricule),
        params,
    )


# Practitioner (the authors of documents, the fhirUser of practice software) ------------------


def read_practitioner(request: HttpRequest, caller: Caller, resource_id: str) -> HttpResponse:
    public_id = parse_id(resource_id)
    professional = Professional.objects.filter(public_id=public_id).first() if public_id else None
    if professional is None:
        raise not_found()
    return _read_response(request, resources.practitioner(professional))


# DocumentReference and Binary -----------------------------------------------------------------


def _documents_query(documents_: QuerySet[Document]) -> QuerySet[Document]:
    return documents_.select_related("professional", "previous").order_by("-document_date", "-pk")


def search_document_reference(request: HttpRequest, caller: Caller) -> HttpResponse:
    params = search.parameters(
        request, {"patient", "category", "date", "period", "author", "status"}
    )
    access = _record_of_search(request, caller, params)
    found = access.documents()
    for raw in params.getlist("category"):
        found = found.filter(_category_filter(raw))
    if dates := params.getlist("date"):
        found = found.filter(search.date_filter("added_at", dates, "date"))
    if periods := params.getlist("period"):
        found = found.filter(search.date_filter("document_date", periods, "period", is_date=True))
    for raw in params.getlist("author"):
        ids = [
            parse_id(search.reference_id(each, "Practitioner", "author")) for each in raw.split(",")
        ]
        found = found.filter(professional__public_id__in=[each for each in ids if each])
    for raw in params.getlist("status"):
        statuses = {code for _system, code in search.token_values(raw)}
        if "current" not in statuses:
            found = found.none()  # only the current versions are listed
    access.journal(AccessAction.READ_RECORD, _via(caller))
    base = base_url(request)
    record = access.record
    return _searchset(
        request,
        "DocumentReference",
        _documents_query(found),
        lambda document: resources.document_reference(document, record, base),
        params,
    )


def _category_filter(raw: str) -> Q:
    """The code system's own codes only: a code none has matches nothing, and is never
    sent to the database as typed (PostgreSQL refuses a NUL in text: a 500)."""
    system = resources.code_system_url("document-category")
    codes = [
        code
        for each_system, code in search.token_values(raw)
        if each_system in (None, system) and code in Category.values
    ]
    return Q(category__in=codes)


def _open_document(
    request: HttpRequest, caller: Caller, resource_id: str
) -> tuple[RecordAccess, Document]:
    public_id = parse_id(resource_id)
    record_id = (
        Document.objects.filter(public_id=public_id)
        .values_list("record__public_id", flat=True)
        .first()
        if public_id
        else None
    )
    if record_id is None:
        raise not_found()
    access = open_patient(caller, str(record_id), request)
    assert public_id is not None  # noqa: S101 - its record was found by it
    return access, access.open_document(public_id, request)


def read_document_reference(request: HttpRequest, caller: Caller, resource_id: str) -> HttpResponse:
    access, document = _open_document(request, caller, resource_id)
    access.journal(AccessAction.READ_DOCUMENT, _via(caller, document.title))
    return _read_response(
        request, resources.document_reference(document, access.record, base_url(request))
    )


def read_binary(request: HttpRequest, caller: Caller, resource_id: str) -> HttpResponseBase:
    """The document's bytes: as a Binary resource (base64) when FHIR JSON is asked for,
    else the file itself — a download, journaled as the portal's."""
    access, document = _open_document(request, caller, resource_id)
    accept = request.headers.get("Accept", "")
    as_resource = (
        bool(request.GET.get("_format")) or "fhir+json" in accept or ("application/json" in accept)
    )
    if as_resource:
        try:
            with documents.storage().open(document.stored_name, "rb") as handle:
                data = handle.read()
        except FileNotFoundError as error:
            raise not_found() from error
        access.journal(AccessAction.READ_DOCUMENT, _via(caller, document.title))
        return _read_response(request, resources.binary(document, data))
    try:
        response = documents.file_response(document, download=True)
    except Http404 as error:  # the stored file is missing
        raise not_found() from error
    access.journal(AccessAction.READ_DOCUMENT, _via(caller, document.title))
    return response


def create_document_reference(request: HttpRequest, caller: Caller) -> HttpResponse:
    """A professional writes a document (a PDF in `content[0].attachment.data`) into a
    record they have access to, or — with `relatesTo` `replaces` — a new version of one
    of theirs (scope `user/DocumentReference.u` too)."""
    caller.require("DocumentReference", "c")
    professional = caller.professional
    if professional is None:
        raise FhirError(403, "forbidden", "Only a professional's software writes documents.")
    parsed = _parse_document_reference(request)
    subject = parsed.subject.reference if parsed.subject else None
    if not subject:
        raise invalid("'subject' must reference the Patient.")
    access = open_patient(caller, search.reference_id(subject, "Patient", "subject"), request)
    assert access.professional_access is not None  # noqa: S101 - a professional's access
    previous = _replaced(request, caller, access, parsed)
    fields = _document_fields(parsed, previous)
    try:
        upload = ratelimit.reserve(
            "document.upload", request, key=f"professional:{professional.pk}"
        )
    except ratelimit.RateLimited as error:
        raise throttled(error) from error
    try:
        if previous is not None:
            document = care.replace_document(
                access.professional_access,
                previous,
                fields["upload"],
                title=fields["title"],
                document_date=fields["document_date"],
                confidentiality=fields["confidentiality"],
                ip_address=client_address.of(request),
            )
        else:
            document = care.add_professional_document(
                access.professional_access,
                fields["upload"],
                category=fields["category"],
                title=fields["title"],
                document_date=fields["document_date"],
                confidentiality=fields["confidentiality"],
                ip_address=client_address.of(request),
            )
    except (care.DocumentRefused, documents.UploadRefused) as refusal:
        upload.release()
        raise FhirError(422, "business-rule", str(refusal)) from refusal
    document = Document.objects.select_related("professional", "previous").get(pk=document.pk)
    base = base_url(request)
    resource = resources.document_reference(document, access.record, base)
    headers = {
        "Location": f"{base}/DocumentReference/{document.public_id}",
        "ETag": f'W/"{resource["meta"]["versionId"]}"',
        "Last-Modified": _http_date(resource["meta"]["lastUpdated"]),
    }
    if request.headers.get("Prefer", "") == "return=minimal":
        response = HttpResponse(status=201)
        for name, value in headers.items():
            response[name] = value
        return response
    return fhir_response(resource, status=201, headers=headers)


def _parse_document_reference(request: HttpRequest) -> DocumentReferenceModel:
    media = request.content_type or ""
    if media not in ("application/fhir+json", "application/json"):
        raise FhirError(415, "not-supported", "Send the resource as application/fhir+json.")
    limit = documents.max_bytes() * 4 // 3 + 64 * 1024  # base64, and the resource around it
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise FhirError(413, "too-long", documents.too_large_message())
    body = request.read(limit + 1)
    if len(body) > limit:
        raise FhirError(413, "too-long", documents.too_large_message())
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # nested too deep
        raise invalid("The body is not JSON.") from error
    if not isinstance(data, dict) or data.get("resourceType") != "DocumentReference":
        raise invalid("The body must be a DocumentReference.")
    try:
        parsed = DocumentReferenceModel.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in each['loc'])}: {each['msg']}"
            for each in error.errors()[:5]
        )
        raise invalid(f"The DocumentReference is not valid: {problems}") from error
    _strict_base64(data)
    return parsed


def _strict_base64(data: dict[str, Any]) -> None:
    """fhir.resources decodes base64 leniently, dropping what is not of its alphabet ("éé=="
    is an empty file): a file is taken only as base64Binary writes it."""
    for content in data.get("content") or []:
        raw = (content.get("attachment") or {}).get("data")
        if isinstance(raw, str):
            try:
                base64.b64decode("".join(raw.split()), validate=True)
            except ValueError as error:  # binascii.Error, or a character past ASCII
                raise invalid("'content[0].attachment.data' is not base64.") from error


def _replaced(
    request: HttpRequest, caller: Caller, access: RecordAccess, parsed: DocumentReferenceModel
) -> Document | None:
    relations = parsed.relatesTo or []
    if not relations:
        return None
    if len(relations) > 1 or relations[0].code != "replaces":
        raise invalid("'relatesTo' takes one relation, 'replaces'.")
    caller.require("DocumentReference", "u")
    target = relations[0].target.reference if relations[0].target else None
    if not target:
        raise invalid("'relatesTo.target' must reference a DocumentReference.")
    public_id = parse_id(search.reference_id(target, "DocumentReference", "relatesTo.target"))
    if public_id is None:
        raise not_found()
    return access.open_document(public_id, request)


def _document_fields(parsed: DocumentReferenceModel, previous: Document | None) -> dict[str, Any]:
    if parsed.status and parsed.status != "current":
        raise invalid("A new document's 'status' is 'current'.")
    if not parsed.content or len(parsed.content) != 1:
        raise invalid("'content' holds one attachment.")
    attachment = parsed.content[0].attachment
    if attachment.data is None:
        raise invalid("Send the file in 'content[0].attachment.data' (base64).")
    if attachment.contentType != "application/pdf":
        raise FhirError(422, "business-rule", care.pdf_only_message())
    title = (parsed.description or attachment.title or "").strip()
    if not title or len(title) > 200:
        raise invalid("'description' (the title) is required, 200 characters at most.")
    when = None
    if parsed.context and parsed.context.period and parsed.context.period.start:
        when = parsed.context.period.start
    elif attachment.creation:
        when = attachment.creation
    if when is None:
        raise invalid("'context.period.start' (the document's date) is required.")
    if isinstance(when, str):  # fhir.resources keeps a partial date (YYYY, YYYY-MM) as text
        raise invalid("The document's date needs a day (YYYY-MM-DD).")
    document_date = when.date() if hasattr(when, "date") and callable(when.date) else when
    if document_date > timezone.localdate():
        raise invalid("The document's date cannot be in the future.")
    category = Category(previous.category) if previous is not None else _category(parsed)
    return {
        "upload": SimpleUploadedFile("document.pdf", bytes(attachment.data), "application/pdf"),
        "title": title,
        "document_date": document_date,
        "confidentiality": _confidentiality(parsed),
        "category": category,
    }


def _category(parsed: DocumentReferenceModel) -> Category:
    system = resources.code_system_url("document-category")
    for concept in parsed.category or []:
        for each in concept.coding or []:
            if (
                each.system == system
                and each.code in Category.values
                and each.code != Category.PATIENT
            ):
                return Category(each.code)
    raise invalid(f"'category' needs a code of {system} (not 'patient').")


def _confidentiality(parsed: DocumentReferenceModel) -> Confidentiality:
    for concept in parsed.securityLabel or []:
        for each in concept.coding or []:
            if each.system == resources.CONFIDENTIALITY_SYSTEM:
                level = resources.confidentiality_of(each.code or "")
                if level is None:
                    raise invalid("'securityLabel' is N, R or V.")
                return level
    return Confidentiality.NORMAL


# RelatedPerson, AuditEvent, Consent: the patient's side only -----------------------------------


def search_related_person(request: HttpRequest, caller: Caller) -> HttpResponse:
    _patient_side(caller, "RelatedPerson")
    params = search.parameters(request, {"patient"})
    access = _record_of_search(request, caller, params)
    record = access.record
    assistants = active_assistants(record).select_related("person").order_by("added_at", "pk")
    access.journal(AccessAction.READ_RECORD, _via(caller))
    return _searchset(
        request,
        "RelatedPerson",
        assistants,
        lambda assistant: resources.related_person(assistant, record),
        params,
    )


def read_related_person(request: HttpRequest, caller: Caller, resource_id: str) -> HttpResponse:
    _patient_side(caller, "RelatedPerson")
    public_id = parse_id(resource_id)
    assistant = (
        Assistant.objects.select_related("person", "record").filter(public_id=public_id).first()
        if public_id
        else None
    )
    if assistant is None:
        raise not_found()
    access = open_patient(caller, str(assistant.record.public_id), request)
    access.journal(AccessAction.READ_RECORD, _via(caller))
    return _read_response(request, resources.related_person(assistant, access.record))


def search_audit_event(request: HttpRequest, caller: Caller) -> HttpResponse:
    _patient_side(caller, "AuditEvent")
    params = search.parameters(request, {"patient", "date"})
    access = _record_of_search(request, caller, params)
    entries = access.record.journal.select_related("actor", "professional").order_by("-at", "-pk")
    if dates := params.getlist("date"):
        entries = entries.filter(search.date_filter("at", dates, "date"))
    # Journaled first: the line of this very read is in what it reads, as on the portal.
    access.journal(AccessAction.READ_JOURNAL, _via(caller))
    agents = resources.Agents.of(access.record)
    return _searchset(
        request, "AuditEvent", entries, lambda entry: resources.audit_event(entry, agents), params
    )


def read_audit_event(request: HttpRequest, caller: Caller, resource_id: str) -> HttpResponse:
    _patient_side(caller, "AuditEvent")
    public_id = parse_id(resource_id)
    entry = (
        AccessEntry.objects.select_related("record", "actor", "professional")
        .filter(public_id=public_id)
        .first()
        if public_id
        else None
    )
    if entry is None:
        raise not_found()
    access = open_patient(caller, str(entry.record.public_id), request)
    access.journal(AccessAction.READ_JOURNAL, _via(caller))
    return _read_response(request, resources.audit_event(entry, resources.Agents.of(access.record)))


def _consents(access: RecordAccess) -> list[dict[str, Any]]:
    found = list(resources.consents(access.record, timezone.now()))
    found.sort(key=lambda each: (each["dateTime"], each["id"]), reverse=True)
    return found


def search_consent(request: HttpRequest, caller: Caller) -> HttpResponse:
    _patient_side(caller, "Consent")
    params = search.parameters(request, {"patient", "status"})
    access = _record_of_search(request, caller, params)
    found = _consents(access)
    for raw in params.getlist("status"):
        statuses = {code for _system, code in search.token_values(raw)}
        found = [each for each in found if each["status"] in statuses]
    access.journal(AccessAction.READ_RECORD, _via(caller))
    return _searchset(request, "Consent", found, lambda each: each, params)


CONSENT_KINDS: dict[str, Callable[[Any], Any]] = {
    "assistant": lambda public_id: Assistant.objects.filter(public_id=public_id),
    "care": lambda public_id: CareRelationship.objects.filter(public_id=public_id),
    "emergency": lambda public_id: EmergencyAccess.objects.filter(public_id=public_id),
    "block": lambda public_id: ProfessionalBlock.objects.filter(public_id=public_id),
    "mask": lambda public_id: Document.objects.filter(public_id=public_id, masked_at__isnull=False),
}


def read_consent(request: HttpRequest, caller: Caller, resource_id: str) -> HttpResponse:
    _patient_side(caller, "Consent")
    kind, _dash, rest = resource_id.partition("-")
    if kind == "emergency" and rest.startswith("refusal-"):
        kind, rest = "emergency-refusal", rest.removeprefix("refusal-")
    public_id = parse_id(rest)
    if public_id is None:
        raise not_found()
    if kind == "emergency-refusal":
        record_id: Any = public_id
    elif kind in CONSENT_KINDS:
        record_id = (
            CONSENT_KINDS[kind](public_id).values_list("record__public_id", flat=True).first()
        )
    else:
        record_id = None
    if record_id is None:
        raise not_found()
    access = open_patient(caller, str(record_id), request)
    found = [each for each in _consents(access) if each["id"] == resource_id]
    if not found:
        raise not_found()
    access.journal(AccessAction.READ_RECORD, _via(caller))
    return _read_response(request, found[0])


TYPES: dict[str, dict[str, Handler]] = {
    "Patient": {"read": read_patient, "search": search_patient},
    "Practitioner": {"read": read_practitioner},
    "DocumentReference": {
        "read": read_document_reference,
        "search": search_document_reference,
        "create": create_document_reference,
    },
    "Binary": {"read": read_binary},
    "RelatedPerson": {"read": read_related_person, "search": search_related_person},
    "AuditEvent": {"read": read_audit_event, "search": search_audit_event},
    "Consent": {"read": read_consent, "search": search_consent},
}
