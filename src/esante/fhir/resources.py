"""The DSP as FHIR R4 (4.0.1) resources (DESIGN.md, "Coming next"): the holder as
`Patient`, an assistant as `RelatedPerson`, a document as `DocumentReference` (its bytes
as `Binary`), a journal line as `AuditEvent`, and as `Consent` what decides who reads
the record: the assistants' rights, the care relationships, the emergency accesses, the
blocks, the refusal of emergency access and the masked documents.

Logical ids are the rows' opaque public ids, never derived from the matricule; the
matricule is an identifier only for a caller granted the `matricule` scope. Codes are
LOINC and HL7's where one fits, else the agency's code systems (`codesystems`), which the
server publishes as CodeSystem resources."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from esante.professionals.models import Professional
from esante.records.majority import majority_date
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Assistant,
    Capacity,
    CareRecord,
    CareRelationship,
    Category,
    Confidentiality,
    Document,
    EmergencyAccess,
    ProfessionalBlock,
    RelationshipOrigin,
)
from esante.registry.models import InsuredPerson

Resource = dict[str, Any]

CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
LOINC = "http://loinc.org"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
AUDIT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type"

CONFIDENTIALITY_DISPLAY = {"N": "normal", "R": "restricted", "V": "very restricted"}

# LOINC document types, where one says what the category is.
CATEGORY_LOINC = {
    Category.LABORATORY: ("11502-2", "Laboratory report"),
    Category.HOSPITAL: ("34105-7", "Hospital Discharge summary"),
    Category.IMAGING: ("18748-4", "Diagnostic imaging study"),
    Category.PRESCRIPTION: ("57833-6", "Prescription for medication"),
    Category.VACCINATION: ("11369-6", "History of Immunization Narrative"),
}

# What each journal action is, as AuditEvent.action (C create, R read, U update, D delete,
# E execute).
ACTION_CODES = {
    AccessAction.READ_RECORD: "R",
    AccessAction.READ_JOURNAL: "R",
    AccessAction.READ_DOCUMENT: "R",
    AccessAction.ASSISTANT_SEARCH: "E",
    AccessAction.UPLOAD: "C",
    AccessAction.ADD_ASSISTANT: "C",
    AccessAction.GRANT: "C",
    AccessAction.DECLARE: "C",
    AccessAction.EMERGENCY_ACCESS: "C",
    AccessAction.REPLACE_DOCUMENT: "C",
    AccessAction.ORGAN_DECLARATION: "C",
    AccessAction.DELETE_DOCUMENT: "D",
    AccessAction.WITHDRAW_DOCUMENT: "D",
    AccessAction.REMOVE_ASSISTANT: "D",
    AccessAction.EXPORT: "R",
}


def code_system_url(name: str) -> str:
    """An agency code system's canonical URL (published at /fhir/CodeSystem/<name>)."""
    return f"{settings.ESANTE_PORTAL_URL.rstrip('/')}/fhir/CodeSystem/{name}"


# The agency's code systems: name → (title, {code: display}).
def code_systems() -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "document-category": (
            "Catégories de documents du DSP",
            {choice.value: str(choice.label) for choice in Category},
        ),
        "access-action": (
            "Actions de l'historique des accès du DSP",
            {choice.value: str(choice.label) for choice in AccessAction},
        ),
        "access-capacity": (
            "Qualités de qui accède au DSP",
            {choice.value: str(choice.label) for choice in Capacity},
        ),
        "consent-policy": (
            "Règles d'accès au DSP",
            {
                "assistant-dsp": "Assistant DSP (mêmes droits que le titulaire)",
                "care-granted": "Relation de soins accordée par le patient",
                "care-declared": "Relation de soins déclarée par le professionnel",
                "emergency-access": "Accès en urgence (bris de glace)",
                "professional-block": "Professionnel bloqué par le patient",
                "emergency-refusal": "Accès en urgence refusé par le patient",
                "masked-document": "Document masqué aux professionnels",
            },
        ),
        "assistant-type": ("Types d'assistant", {"assistant_dsp": "Assistant DSP"}),
    }


def coding(system_name: str, code: str, display: str = "") -> dict[str, str]:
    found = {"system": code_system_url(system_name), "code": code}
    if display:
        found["display"] = display
    return found


def instant(value: datetime.datetime) -> str:
    return timezone.localtime(value, datetime.UTC).isoformat().replace("+00:00", "Z")


def with_meta(
    resource: Resource, last_updated: datetime.datetime, *, security: list[Any] | None = None
) -> Resource:
    """`meta.versionId` is a digest of the resource's content: it changes whenever what a
    caller reads of it changes, and is what its ETag says (`W/"<versionId>"`)."""
    body = json.dumps(resource, sort_keys=True, ensure_ascii=False).encode()
    meta: dict[str, Any] = {
        "versionId": hashlib.sha256(body).hexdigest()[:16],
        "lastUpdated": instant(last_updated),
    }
    if security:
        meta["security"] = security
    ordered: Resource = {"resourceType": resource["resourceType"], "id": resource["id"]}
    ordered["meta"] = meta
    ordered.update(resource)
    return ordered


def reference(resource_type: str, public_id: object, display: str = "") -> dict[str, str]:
    found = {"reference": f"{resource_type}/{public_id}"}
    if display:
        found["display"] = display
    return found


def human_name(first_name: str, last_name: str) -> list[dict[str, Any]]:
    name: dict[str, Any] = {"use": "official", "family": last_name}
    if first_name:
        name["given"] = [first_name]
    return [name]


GENDERS = {"F": "female", "M": "male", "X": "other"}


def patient(record: CareRecord, *, with_matricule: bool) -> Resource:
    person: InsuredPerson = record.person
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(record.public_id),
        "active": record.closed_at is None,
        "name": human_name(person.first_name, person.last_name),
        "gender": GENDERS.get(person.sex, "unknown"),
        "birthDate": person.birth_date.isoformat(),
    }
    if with_matricule:
        resource["identifier"] = [
            {
                "use": "official",
                "system": settings.ESANTE_FHIR_MATRICULE_SYSTEM,
                "value": person.matricule,
            }
        ]
    if person.date_of_death is not None:
        resource["deceasedDateTime"] = person.date_of_death.isoformat()
    if person.language:
        language = {"coding": [{"system": "urn:ietf:bcp:47", "code": person.language}]}
        resource["communication"] = [{"language": language, "preferred": True}]
    changed = max(person.updated_at, record.created_at, record.closed_at or record.created_at)
    return with_meta(resource, changed)


def practitioner(professional: Professional) -> Resource:
    resource: Resource = {
        "resourceType": "Practitioner",
        "id": str(professional.public_id),
        "active": professional.is_active,
        "name": human_name(professional.first_name, professional.last_name),
        "qualification": [{"code": {"text": str(professional.get_profession_display())}}],
    }
    return with_meta(resource, professional.updated_at)


def assistant_rights(
    assistant: Assistant, record: CareRecord
) -> tuple[bool, datetime.datetime | None]:
    """Whether an assistant's rights stand, and when they end or ended, as the gate has it
    (esante.records.access.active_assistants): rights given during the holder's minority
    end at the 18th birthday (esante.records.majority), before the daily job ends the row."""
    if assistant.ended_at is not None:
        return False, assistant.ended_at
    if assistant.during_minority:
        birthday = majority_date(record.person.birth_date)
        end = datetime.datetime.combine(
            birthday, datetime.time(0), tzinfo=timezone.get_default_timezone()
        )
        return record.person.is_minor, end
    return True, None


def related_person(assistant: Assistant, record: CareRecord) -> Resource:
    person = assistant.person
    active, end = assistant_rights(assistant, record)
    resource: Resource = {
        "resourceType": "RelatedPerson",
        "id": str(assistant.public_id),
        "active": active,
        "patient": reference("Patient", record.public_id),
        "relationship": [
            {
                "coding": [coding("assistant-type", assistant.type, "Assistant DSP")],
                "text": assistant.role or "Assistant DSP",
            }
        ],
        "name": human_name(person.first_name, person.last_name),
        "period": _period(assistant.added_at, end),
    }
    return with_meta(resource, assistant.ended_at or assistant.added_at)


def confidentiality_coding(level: str) -> dict[str, str]:
    return {
        "system": CONFIDENTIALITY_SYSTEM,
        "code": level,
        "display": CONFIDENTIALITY_DISPLAY[level],
    }


def document_reference(document: Document, record: CareRecord, base: str) -> Resource:
    category = Category(document.category)
    resource: Resource = {
        "resourceType": "DocumentReference",
        "id": str(document.public_id),
        "status": "superseded" if document.superseded_at is not None else "current",
    }
    if category in CATEGORY_LOINC:
        code, display = CATEGORY_LOINC[category]
        resource["type"] = {"coding": [{"system": LOINC, "code": code, "display": display}]}
    resource["category"] = [
        {"coding": [coding("document-category", category.value, str(category.label))]}
    ]
    resource["subject"] = reference("Patient", record.public_id)
    resource["date"] = instant(document.added_at)
    if document.professional is not None:
        resource["author"] = [
            reference("Practitioner", document.professional.public_id, document.author)
        ]
    elif document.author:
        resource["author"] = [{"display": document.author}]
    resource["description"] = document.title
    resource["securityLabel"] = [{"coding": [confidentiality_coding(document.confidentiality)]}]
    resource["content"] = [
        {
            "attachment": {
                "contentType": document.content_type,
                "url": f"{base}/Binary/{document.public_id}",
                "size": document.size,
                "title": document.title,
                "creation": document.document_date.isoformat(),
            }
        }
    ]
    resource["context"] = {"period": {"start": document.document_date.isoformat()}}
    if document.previous is not None:
        resource["relatesTo"] = [
            {
                "code": "replaces",
                "target": reference("DocumentReference", document.previous.public_id),
            }
        ]
    return with_meta(
        resource,
        document.updated_at,
        security=[confidentiality_coding(document.confidentiality)],
    )


def binary(document: Document, data: bytes) -> Resource:
    resource: Resource = {
        "resourceType": "Binary",
        "id": str(document.public_id),
        "contentType": document.content_type,
        "data": base64.b64encode(data).decode(),
    }
    return with_meta(resource, document.updated_at)


@dataclass(frozen=True)
class Agents:
    """Who the journal's lines name, as FHIR references: the holder as the Patient, each
    assistant (past ones too) as their RelatedPerson."""

    record: CareRecord
    assistants: dict[int, Assistant]

    @classmethod
    def of(cls, record: CareRecord) -> Agents:
        assistants: dict[int, Assistant] = {}
        for row in record.assistants.select_related("person").order_by("added_at", "pk"):
            assistants[row.person_id] = row  # the latest row of each person
        return cls(record, assistants)

    def who(self, entry: AccessEntry) -> dict[str, str]:
        if entry.professional is not None:
            return reference(
                "Practitioner", entry.professional.public_id, entry.professional.full_name
            )
        if entry.actor_id is None:
            return {"display": str(Capacity.AGENCY.label)}
        if entry.actor_id == self.record.person_id:
            return reference("Patient", self.record.public_id, self.record.person.full_name)
        assistant = self.assistants.get(entry.actor_id)
        if assistant is not None:
            return reference("RelatedPerson", assistant.public_id, assistant.person.full_name)
        return {"display": entry.actor.full_name if entry.actor else ""}


def audit_event(entry: AccessEntry, agents: Agents) -> Resource:
    action = AccessAction(entry.action)
    capacity = Capacity(entry.capacity)
    record = agents.record
    entity: dict[str, Any] = {"what": reference("Patient", record.public_id)}
    if entry.target:
        entity["description"] = entry.target
    resource: Resource = {
        "resourceType": "AuditEvent",
        "id": str(entry.public_id),
        "type": {"system": AUDIT_TYPE_SYSTEM, "code": "rest", "display": "RESTful Operation"},
        "subtype": [coding("access-action", action.value, str(action.label))],
        "action": ACTION_CODES.get(action, "U"),
        "recorded": instant(entry.at),
        "outcome": "0",
        "agent": [
            {
                "role": [
                    {"coding": [coding("access-capacity", capacity.value, str(capacity.label))]}
                ],
                "who": agents.who(entry),
                "requestor": True,
            }
        ],
        "source": {"observer": {"display": "Plateforme eSanté"}},
        "entity": [entity],
    }
    return with_meta(resource, entry.at)


# Consents ----------------------------------------------------------------------------------


def _consent(
    consent_id: str,
    record: CareRecord,
    *,
    active: bool,
    policy: str,
    at: datetime.datetime,
    provision: dict[str, Any],
    changed: Iterable[datetime.datetime | None],
) -> Resource:
    policies = code_systems()["consent-policy"][1]
    resource: Resource = {
        "resourceType": "Consent",
        "id": consent_id,
        "status": "active" if active else "inactive",
        "scope": {
            "coding": [
                {
                    "system": CONSENT_SCOPE_SYSTEM,
                    "code": "patient-privacy",
                    "display": "Privacy Consent",
                }
            ]
        },
        "category": [
            {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}
        ],
        "patient": reference("Patient", record.public_id),
        "dateTime": instant(at),
        "policyRule": {"coding": [coding("consent-policy", policy, policies[policy])]},
        "provision": provision,
    }
    return with_meta(resource, max(each for each in changed if each is not None))


def _period(start: datetime.datetime, end: datetime.datetime | None) -> dict[str, str]:
    found = {"start": instant(start)}
    if end is not None:
        found["end"] = instant(end)
    return found


def _actor(ref: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "role": {
                "coding": [
                    {
                        "system": PARTICIPATION_SYSTEM,
                        "code": "IRCP",
                        "display": "information recipient",
                    }
                ]
            },
            "reference": ref,
        }
    ]


def _purpose(code: str, display: str) -> list[dict[str, str]]:
    return [{"system": ACT_REASON_SYSTEM, "code": code, "display": display}]


def assistant_consent(assistant: Assistant, record: CareRecord) -> Resource:
    active, end = assistant_rights(assistant, record)
    return _consent(
        f"assistant-{assistant.public_id}",
        record,
        active=active,
        policy="assistant-dsp",
        at=assistant.added_at,
        provision={
            "type": "permit",
            "period": _period(assistant.added_at, end),
            "actor": _actor(
                reference("RelatedPerson", assistant.public_id, assistant.person.full_name)
            ),
        },
        changed=(assistant.added_at, assistant.ended_at),
    )


def care_consent(
    relationship: CareRelationship, record: CareRecord, now: datetime.datetime
) -> Resource:
    end = relationship.ended_at or relationship.ends_at
    policy = (
        "care-granted" if relationship.origin == RelationshipOrigin.GRANTED else "care-declared"
    )
    professional = relationship.professional
    return _consent(
        f"care-{relationship.public_id}",
        record,
        active=relationship.is_current(now),
        policy=policy,
        at=relationship.started_at,
        provision={
            "type": "permit",
            "period": _period(relationship.started_at, end),
            "actor": _actor(
                reference("Practitioner", professional.public_id, professional.full_name)
            ),
            "purpose": _purpose("TREAT", "treatment"),
        },
        changed=(relationship.started_at, relationship.ended_at),
    )


def emergency_consent(
    emergency: EmergencyAccess, record: CareRecord, now: datetime.datetime
) -> Resource:
    professional = emergency.professional
    return _consent(
        f"emergency-{emergency.public_id}",
        record,
        active=emergency.is_current(now),
        policy="emergency-access",
        at=emergency.started_at,
        provision={
            "type": "permit",
            "period": _period(emergency.started_at, emergency.ends_at),
            "actor": _actor(
                reference("Practitioner", professional.public_id, professional.full_name)
            ),
            "purpose": _purpose("ETREAT", "Emergency Treatment"),
        },
        changed=(emergency.started_at,),
    )


def block_consent(block: ProfessionalBlock, record: CareRecord) -> Resource:
    professional = block.professional
    return _consent(
        f"block-{block.public_id}",
        record,
        active=block.lifted_at is None,
        policy="professional-block",
        at=block.blocked_at,
        provision={
            "type": "deny",
            "period": _period(block.blocked_at, block.lifted_at),
            "actor": _actor(
                reference("Practitioner", professional.public_id, professional.full_name)
            ),
        },
        changed=(block.blocked_at, block.lifted_at),
    )


def emergency_refusal_consent(record: CareRecord) -> Resource:
    """Dated by the journal's last line that set it (the record's opening, before any)."""
    decided = (
        record.journal.filter(action=AccessAction.EMERGENCY_SETTING)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    ) or record.created_at
    return _consent(
        f"emergency-refusal-{record.public_id}",
        record,
        active=True,
        policy="emergency-refusal",
        at=decided,
        provision={"type": "deny", "purpose": _purpose("ETREAT", "Emergency Treatment")},
        changed=(decided,),
    )


def mask_consent(document: Document, record: CareRecord) -> Resource:
    assert document.masked_at is not None  # noqa: S101 - only masked documents
    return _consent(
        f"mask-{document.public_id}",
        record,
        active=True,
        policy="masked-document",
        at=document.masked_at,
        provision={
            "type": "deny",
            "data": [
                {
                    "meaning": "instance",
                    "reference": reference("DocumentReference", document.public_id),
                }
            ],
        },
        changed=(document.masked_at,),
    )


def consents(record: CareRecord, now: datetime.datetime) -> Iterator[Resource]:
    """Every Consent of the record, one at a time and in no particular order: the
    assistants' rights (past ones too), the care relationships, the emergency accesses,
    the blocks, the refusal of emergency access, and the current masked documents."""
    for assistant in record.assistants.select_related("person"):
        yield assistant_consent(assistant, record)
    for relationship in record.care_relationships.select_related("professional"):
        yield care_consent(relationship, record, now)
    for emergency in record.emergency_accesses.select_related("professional"):
        yield emergency_consent(emergency, record, now)
    for block in record.blocks.select_related("professional"):
        yield block_consent(block, record)
    if record.refuses_emergency_access:
        yield emergency_refusal_consent(record)
    masked = record.documents.filter(
        masked_at__isnull=False, superseded_at__isnull=True, withdrawn_at__isnull=True
    )
    for document in masked.iterator(chunk_size=200):
        yield mask_consent(document, record)


def confidentiality_of(code: str) -> Confidentiality | None:
    try:
        return Confidentiality(code)
    except ValueError:
        return None
