"""What the server says of itself: the CapabilityStatement (`metadata`), SMART's
configuration (`.well-known/smart-configuration`), and the agency's code systems."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from esante.fhir import resources
from esante.provider import keys
from esante.services import smart

SMART_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

# Per type: the interactions, and the search parameters with their types.
SUPPORTED: dict[str, tuple[list[str], dict[str, str], str]] = {
    "Patient": (
        ["read", "search-type"],
        {"_id": "token"},
        "The holder of a DSP. A patient app: the patient chosen at launch. Practice software: "
        "the patients of its professional's current care relationships and emergency accesses.",
    ),
    "Practitioner": (["read"], {}, "A health professional: the author of documents, fhirUser."),
    "DocumentReference": (
        ["read", "search-type", "create"],
        {
            "patient": "reference",
            "category": "token",
            "date": "date",
            "period": "date",
            "author": "reference",
            "status": "token",
        },
        "A document of the DSP; its bytes at content.attachment.url (Binary). Created by "
        "practice software (a PDF in attachment.data); relatesTo 'replaces' a new version.",
    ),
    "Binary": (["read"], {}, "A document's bytes; journaled as a download."),
    "RelatedPerson": (
        ["read", "search-type"],
        {"patient": "reference"},
        "The active assistants of a DSP (the holder's side only).",
    ),
    "AuditEvent": (
        ["read", "search-type"],
        {"patient": "reference", "date": "date"},
        "The DSP's access journal (the holder's side only).",
    ),
    "Consent": (
        ["read", "search-type"],
        {"patient": "reference", "status": "token"},
        "Assistant rights, care relationships, emergency accesses, blocks, the refusal of "
        "emergency access, masked documents (the holder's side only).",
    ),
    "CodeSystem": (
        ["read"],
        {},
        "The agency's code systems, read without a token at CodeSystem/<name>.",
    ),
}

SCOPES = ["openid", "fhirUser", "offline_access", *smart.SUPPORTED]


def _oidc(issuer: str, name: str) -> str:
    return issuer + reverse(f"provider:{name}")


def statement(base: str, issuer: str) -> dict[str, Any]:
    rest_resources = []
    for resource_type, (interactions, params, documentation) in SUPPORTED.items():
        entry: dict[str, Any] = {
            "type": resource_type,
            "documentation": documentation,
            "interaction": [{"code": each} for each in interactions],
            # meta.versionId, the ETag, is given (no history: no vread).
            "versioning": "versioned",
            "readHistory": False,
            "updateCreate": False,
        }
        if params:
            entry["searchParam"] = [{"name": name, "type": kind} for name, kind in params.items()]
        rest_resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "esante",
        "url": f"{base}/metadata",
        "name": "eSanteDSP",
        "title": "API FHIR du DSP eSanté",
        "status": "active",
        "date": "2026-12-07",
        "publisher": "Agence eSanté",
        "kind": "instance",
        "software": {"name": "eSanté"},
        "implementation": {"description": "Le DSP (Dossier de Soins Partagé)", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Search parameters not listed are refused (400). Paging: _count (at most "
                    f"{settings.ESANTE_FHIR_MAX_COUNT}) and the Bundle's links. Agency code "
                    "systems: "
                    + ", ".join(
                        resources.code_system_url(name) for name in resources.code_systems()
                    )
                ),
                "security": {
                    "cors": True,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": SMART_OAUTH_URIS,
                            "extension": [
                                {"url": "authorize", "valueUri": _oidc(issuer, "authorize")},
                                {"url": "token", "valueUri": _oidc(issuer, "token")},
                                {"url": "revoke", "valueUri": _oidc(issuer, "revoke")},
                            ],
                        }
                    ],
                },
                "resource": rest_resources,
            }
        ],
    }


def smart_configuration(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "jwks_uri": _oidc(issuer, "jwks"),
        "authorization_endpoint": _oidc(issuer, "authorize"),
        "token_endpoint": _oidc(issuer, "token"),
        "revocation_endpoint": _oidc(issuer, "revoke"),
        "userinfo_endpoint": _oidc(issuer, "userinfo"),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "capabilities": [
            "launch-standalone",
            "client-public",
            "client-confidential-symmetric",
            "context-standalone-patient",
            "permission-patient",
            "permission-user",
            "permission-offline",
            "permission-v1",
            "permission-v2",
            "sso-openid-connect",
        ],
    }


def code_system(name: str) -> dict[str, Any] | None:
    found = resources.code_systems().get(name)
    if found is None:
        return None
    title, concepts = found
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "url": resources.code_system_url(name),
        "name": "".join(part.capitalize() for part in name.split("-")),
        "title": title,
        "status": "active",
        "publisher": "Agence eSanté",
        "content": "complete",
        "caseSensitive": True,
        "count": len(concepts),
        "concept": [{"code": code, "display": display} for code, display in concepts.items()],
    }
