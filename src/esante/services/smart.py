"""SMART on FHIR scopes (SMART App Launch 2.x, with the 1.0 `read`/`write` forms): what a
service may be registered for and ask, and what a token's scopes let it do in the FHIR
API (esante.fhir).

`patient/<Type>.<rs|cu…>` acts for the patient chosen at launch (`launch/patient`): a
patient app, for the person or a record they assist. `user/<Type>.<…>` acts as the user
who logged in: practice software, as the professional, within the care rules. A low
floor: the provider (what a service may ask, the consent page) and the FHIR API read it."""

from __future__ import annotations

import re
from dataclasses import dataclass

LAUNCH_PATIENT = "launch/patient"
FHIR_USER = "fhirUser"

# The SMART scopes the FHIR API understands (any narrower one too), as the provider's
# discovery and SMART's configuration list them.
SUPPORTED = [
    LAUNCH_PATIENT,
    "patient/*.rs",
    "patient/Patient.rs",
    "patient/DocumentReference.rs",
    "patient/Binary.r",
    "patient/RelatedPerson.rs",
    "patient/AuditEvent.rs",
    "patient/Consent.rs",
    "user/*.rs",
    "user/Patient.rs",
    "user/DocumentReference.rs",
    "user/DocumentReference.cu",
    "user/Binary.r",
]

_RESOURCE = re.compile(
    r"^(?P<context>patient|user)/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<rights>[cruds]+|read|write|\*)$"
)
# SMART 1.0 → 2.0: `read` is `rs`, `write` is `cud`, `*` is all.
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


@dataclass(frozen=True)
class ResourceScope:
    context: str  # "patient" or "user"
    resource_type: str  # a FHIR type, or "*"
    rights: frozenset[str]  # among c, r, u, d, s

    def covers(self, other: ResourceScope) -> bool:
        return (
            self.context == other.context
            and self.resource_type in ("*", other.resource_type)
            and other.rights <= self.rights
        )


def parse(scope: str) -> ResourceScope | None:
    """A resource scope, or None (`openid`, `launch/patient`… or not a SMART scope)."""
    match = _RESOURCE.match(scope)
    if match is None:
        return None
    rights = _V1.get(match["rights"], match["rights"])
    if list(rights) != sorted(set(rights), key="cruds".index):
        return None  # SMART 2.0: each letter once, in the order c r u d s
    return ResourceScope(match["context"], match["type"], frozenset(rights))


def is_smart(scope: str) -> bool:
    return scope == LAUNCH_PATIENT or parse(scope) is not None


def covered_by(scope: str, registered: list[str]) -> bool:
    """`scope` is one of `registered`, or a resource scope one of them covers (a service
    registered for `patient/*.rs` may ask `patient/DocumentReference.rs`)."""
    if scope in registered:
        return True
    asked = parse(scope)
    if asked is None:
        return False
    return any((held := parse(each)) is not None and held.covers(asked) for each in registered)


def permits(scopes: list[str], context: str, resource_type: str, right: str) -> bool:
    """A token with `scopes` may do `right` (c, r, u, d, s) on `resource_type` for `context`."""
    wanted = ResourceScope(context, resource_type, frozenset(right))
    return any((held := parse(each)) is not None and held.covers(wanted) for each in scopes)


def asks_fhir(scopes: list[str]) -> bool:
    return any(is_smart(each) for each in scopes)
