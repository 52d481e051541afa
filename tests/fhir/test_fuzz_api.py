"""Hostile requests to the API (hypothesis, as tests/fuzz): query strings of every search,
ids of every type, bodies of a create, and headers — never a server error, and every
answer FHIR JSON both model libraries accept (a Bundle, a resource or an
OperationOutcome), whatever was sent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esante.fhir.resources import CONFIDENTIALITY_SYSTEM, code_system_url
from esante.professionals.models import Professional
from esante.records.models import CareRecord, Category, Document
from tests.factories import forget_rate_limits
from tests.fhir.conftest import FHIR_JSON, Api, check_resource, stored_document
from tests.fhir.test_create_document import document_reference
from tests.fuzz.hostile import PAYLOADS, any_character, hostile_text

pytestmark = pytest.mark.django_db


def fuzz(examples: int) -> settings:
    """Deterministic (derandomized, no example database), no deadline: as tests/fuzz."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


def answered_well(response: Any, *sent: Any) -> None:
    """No server error; a body, if any, is FHIR JSON both libraries accept (a Binary's
    file aside)."""
    assert response.status_code < 500, (response.status_code, sent)
    if response.status_code in (201, 304) and not response.content:
        return
    if response["Content-Type"] == "application/pdf":
        return
    assert response["Content-Type"].split(";")[0] == FHIR_JSON, (response["Content-Type"], sent)
    body = json.loads(response.content)
    check_resource(body)
    if response.status_code >= 400:
        assert body["resourceType"] == "OperationOutcome", sent


# The world the requests land in: alice's record, a document, paul with a relationship.


@pytest.fixture
def document(alice_record: CareRecord, paul: Professional) -> Document:
    return stored_document(alice_record, professional=paul)


SEARCHES = {
    "Patient": ["_id"],
    "DocumentReference": ["patient", "category", "date", "period", "author", "status"],
    "RelatedPerson": ["patient"],
    "AuditEvent": ["patient", "date"],
    "Consent": ["patient", "status"],
}
COMMON = ["_count", "_offset", "_format", "_total"]

digits = st.integers(min_value=0, max_value=10_000)
date_text = st.builds(
    lambda prefix, year, month, day, time: f"{prefix}{year:04d}{month}{day}{time}",
    st.sampled_from(["", "eq", "ne", "lt", "le", "gt", "ge", "sa", "eb", "ap", "xx"]),
    st.integers(min_value=0, max_value=10_000),
    st.one_of(st.just(""), st.integers(min_value=0, max_value=13).map(lambda m: f"-{m:02d}")),
    st.one_of(st.just(""), st.integers(min_value=0, max_value=32).map(lambda d: f"-{d:02d}")),
    st.sampled_from(
        ["", "T10:00:00Z", "T23:59:59+01:00", "T10:00", "T99:99:99Z", "T10:00:00.5-14:00"]
    ),
)
token_text = st.builds(
    lambda system, code: f"{system}{code}",
    st.sampled_from(["", "|", f"{code_system_url('document-category')}|", "http://x|"]),
    st.one_of(st.sampled_from([*Category.values, "current", "active", "inactive"]), hostile_text),
)


def reference_text(record: CareRecord, paul: Professional) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            [
                f"Patient/{record.public_id}",
                str(record.public_id),
                f"Practitioner/{paul.public_id}",
                f"http://x/fhir/Patient/{record.public_id}",
                "Patient/",
                "/",
            ]
        ),
        st.uuids().map(str),
        hostile_text,
    )


def query(record: CareRecord, paul: Professional, names: list[str]) -> st.SearchStrategy[str]:
    name = st.one_of(
        st.sampled_from(names + COMMON),
        st.sampled_from(names + COMMON).map(lambda each: f"{each}:exact"),
        st.text(any_character, max_size=12),
    )
    value = st.one_of(
        date_text,
        token_text,
        reference_text(record, paul),
        st.lists(date_text, min_size=2, max_size=3).map(",".join),
        digits.map(str),
        hostile_text,
    )
    return st.lists(st.tuples(name, value), max_size=4).map(urlencode)


@fuzz(300)
@given(data=st.data())
def test_search_query_strings(
    data: st.DataObject,
    alice_api: Api,
    paul_api: Api,
    alice_record: CareRecord,
    paul: Professional,
) -> None:
    resource_type = data.draw(st.sampled_from(sorted(SEARCHES)), label="type")
    api = data.draw(st.sampled_from([alice_api, paul_api]), label="caller")
    sent = data.draw(query(alice_record, paul, SEARCHES[resource_type]), label="query")
    forget_rate_limits()

    answered_well(api.get(f"{resource_type}?{sent}"), resource_type, sent)


TYPES = [*SEARCHES, "Practitioner", "Binary", "CodeSystem", "Observation", "patient"]


@fuzz(200)
@given(data=st.data())
def test_ids_of_every_type(
    data: st.DataObject, alice_api: Api, paul_api: Api, document: Document
) -> None:
    resource_type = data.draw(st.sampled_from(TYPES), label="type")
    resource_id = data.draw(
        st.one_of(
            st.just(str(document.public_id)),
            st.uuids().map(str),
            st.sampled_from(["assistant-", "mask-", "emergency-refusal-"]).map(
                lambda prefix: prefix + str(document.public_id)
            ),
            hostile_text,
        ),
        label="id",
    )
    api = data.draw(st.sampled_from([alice_api, paul_api]), label="caller")
    forget_rate_limits()

    response = api.get(f"{resource_type}/{quote(resource_id, safe='')}")

    answered_well(response, resource_type, resource_id)


json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(any_character, max_size=10), children, max_size=3),
    ),
    max_leaves=10,
)
# Paths into a DocumentReference, for values put in the wrong places.
PLACES = [
    ("status",),
    ("subject",),
    ("subject", "reference"),
    ("description",),
    ("category",),
    ("securityLabel",),
    ("content",),
    ("content", 0, "attachment"),
    ("content", 0, "attachment", "data"),
    ("content", 0, "attachment", "contentType"),
    ("content", 0, "attachment", "creation"),
    ("context", "period", "start"),
    ("relatesTo",),
    ("resourceType",),
    ("id",),
    ("meta",),
]


def put(body: Any, place: tuple[Any, ...], value: Any) -> Any:
    """`body` with `value` at `place`, where the path exists."""
    target = body
    for step in place[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return body
    if isinstance(target, dict):
        target[place[-1]] = value
    return body


@fuzz(200)
@given(data=st.data())
def test_create_bodies(data: st.DataObject, paul_api: Api, alice_record: CareRecord) -> None:
    valid = document_reference(
        alice_record,
        securityLabel=[{"coding": [{"system": CONFIDENTIALITY_SYSTEM, "code": "N"}]}],
    )
    body = data.draw(
        st.one_of(
            json_value,
            st.tuples(st.sampled_from(PLACES), json_value).map(
                lambda change: put(json.loads(json.dumps(valid)), *change)
            ),
            st.sampled_from(PAYLOADS).map(str.encode),
        ),
        label="body",
    )
    content_type = data.draw(
        st.sampled_from(["application/fhir+json", "application/json", "text/plain"]),
        label="content_type",
    )
    forget_rate_limits()

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = paul_api.post("DocumentReference", raw, content_type=content_type)

    answered_well(response, body)


@fuzz(150)
@given(
    headers=st.fixed_dictionaries(
        {},
        optional={
            "Accept": st.one_of(
                st.sampled_from(["application/fhir+json", "*/*", "application/pdf"]), hostile_text
            ),
            "If-None-Match": hostile_text,
            "Prefer": hostile_text,
            "Authorization": st.one_of(
                st.just("Bearer"), hostile_text.map(lambda value: f"Bearer {value}"), hostile_text
            ),
        },
    ),
    path=st.sampled_from(["Patient", "DocumentReference", "Binary/{document}", "metadata"]),
)
def test_hostile_headers(
    alice_api: Api, document: Document, headers: dict[str, str], path: str
) -> None:
    forget_rate_limits()
    sent = {
        name: value.replace("\r", "").replace("\n", "")
        for name, value in {**alice_api.headers(), **headers}.items()
    }

    response = alice_api.client.get(
        f"/fhir/{path.format(document=document.public_id)}", headers=sent
    )

    answered_well(response, sent)
