"""FHIR answers: JSON as `application/fhir+json`, and every error as an OperationOutcome
with its status (FHIR R4 http.html) — never a page, never a stack trace."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json; charset=utf-8"


def fhir_response(
    resource: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(
        json.dumps(resource, ensure_ascii=False, separators=(",", ":")),
        content_type=FHIR_JSON,
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class FhirError(Exception):
    """An answer that is an OperationOutcome: `code` from the FHIR issue-type value set
    (invalid, not-found, forbidden, login, throttled, not-supported…)."""

    def __init__(
        self, status: int, code: str, diagnostics: str, *, headers: dict[str, str] | None = None
    ):
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.headers = headers or {}

    def response(self) -> HttpResponse:
        return fhir_response(
            outcome(self.code, self.diagnostics), status=self.status, headers=self.headers
        )


def outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def not_found() -> FhirError:
    """The answer for what does not exist and for what the caller may not see alike."""
    return FhirError(404, "not-found", "No such resource.")


def invalid(diagnostics: str) -> FhirError:
    return FhirError(400, "invalid", diagnostics)
