"""What the server says of itself, without a token: the CapabilityStatement (`metadata`)
lists exactly the interactions and search parameters the views serve; SMART's
configuration; the agency's code systems, as CodeSystem resources."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante.fhir import views
from esante.fhir.resources import code_system_url, code_systems
from esante.records.models import AccessAction, Capacity, CareRecord, Category
from tests.fhir.conftest import Api, fhir_base, refused, validated

pytestmark = pytest.mark.django_db

# The handlers of each interaction (esante.fhir.views.TYPES).
INTERACTIONS = {"read": "read", "search-type": "search", "create": "create"}


@pytest.fixture
def statement(client: Client) -> dict[str, Any]:
    return validated(client.get("/fhir/metadata"))


def test_the_statement_is_an_r4_server_of_json(statement: dict[str, Any]) -> None:
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert statement["format"] == ["application/fhir+json", "json"]
    assert statement["implementation"]["url"] == fhir_base()
    (rest,) = statement["rest"]
    assert rest["mode"] == "server"
    assert rest["security"]["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = {each["url"]: each["valueUri"] for each in rest["security"]["extension"][0]["extension"]}
    assert set(uris) == {"authorize", "token", "revoke"}


def test_the_statement_lists_exactly_the_interactions_the_views_serve(
    statement: dict[str, Any],
) -> None:
    listed = {
        each["type"]: {INTERACTIONS[one["code"]] for one in each["interaction"]}
        for each in statement["rest"][0]["resource"]
    }
    served = {name: set(handlers) for name, handlers in views.TYPES.items()}
    served["CodeSystem"] = {"read"}  # at its own address: /fhir/CodeSystem/<name>

    assert listed == served


# A valid value of each search parameter, by its type; `author`, a Practitioner.
SAMPLES = {"reference": "Patient/{record}", "token": "current", "date": "ge2020"}
AUTHOR = "Practitioner/8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"


def test_each_listed_search_parameter_is_taken_and_no_other(
    statement: dict[str, Any], alice_api: Api, alice_record: CareRecord
) -> None:
    for resource in statement["rest"][0]["resource"]:
        if not any(each["code"] == "search-type" for each in resource["interaction"]):
            assert "searchParam" not in resource
            continue
        for param in resource["searchParam"]:
            value = {"_id": str(alice_record.public_id), "author": AUTHOR}.get(
                param["name"], SAMPLES[param["type"]].format(record=alice_record.public_id)
            )
            response = alice_api.get(f"{resource['type']}?{param['name']}={value}")
            validated(response)
        for name in ("name", "identifier", "_sort", "_include", "_summary", "_elements"):
            issue = refused(alice_api.get(f"{resource['type']}?{name}=x"), 400, "invalid")
            assert issue["diagnostics"] == f"Unknown search parameter '{name}'."


def test_the_statement_says_the_versions_it_gives(statement: dict[str, Any]) -> None:
    """Every resource has its meta.versionId (the ETag): `versioned`, with no history."""
    for resource in statement["rest"][0]["resource"]:
        assert resource["versioning"] == "versioned"
        assert resource["readHistory"] is False


def test_the_smart_configuration(client: Client) -> None:
    response = client.get("/fhir/.well-known/smart-configuration")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    # Never cached, as every answer of the platform (NeverCacheMiddleware).
    assert "no-store" in response["Cache-Control"]
    config = response.json()
    issuer = config["issuer"]
    assert config["authorization_endpoint"] == issuer + reverse("provider:authorize")
    assert config["token_endpoint"] == issuer + reverse("provider:token")
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {"launch-standalone", "permission-patient", "permission-user", "permission-v2"} <= set(
        config["capabilities"]
    )
    assert {"launch/patient", "patient/*.rs", "user/*.rs", "user/DocumentReference.cu"} <= set(
        config["scopes_supported"]
    )


def test_the_smart_configuration_matches_the_statements_oauth_uris(
    client: Client, statement: dict[str, Any]
) -> None:
    config = client.get("/fhir/.well-known/smart-configuration").json()
    uris = {
        each["url"]: each["valueUri"]
        for each in statement["rest"][0]["security"]["extension"][0]["extension"]
    }

    assert uris == {
        "authorize": config["authorization_endpoint"],
        "token": config["token_endpoint"],
        "revoke": config["revocation_endpoint"],
    }


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("document-category", {each.value for each in Category}),
        ("access-action", {each.value for each in AccessAction}),
        ("access-capacity", {each.value for each in Capacity}),
        ("consent-policy", None),
        ("assistant-type", {"assistant_dsp"}),
    ],
)
def test_each_code_system_reads_complete(client: Client, name: str, codes: set[str] | None) -> None:
    system = validated(client.get(f"/fhir/CodeSystem/{name}"))

    assert system["url"] == code_system_url(name)
    assert system["content"] == "complete"
    found = {concept["code"] for concept in system["concept"]}
    assert found == (codes if codes is not None else set(code_systems()[name][1]))
    assert system["count"] == len(found)


def test_the_statement_names_every_code_system(statement: dict[str, Any]) -> None:
    for name in code_systems():
        assert code_system_url(name) in statement["rest"][0]["documentation"]


@pytest.mark.parametrize(
    "path",
    ["CodeSystem/unknown", "CodeSystem/loinc", "", "Patient/", "patient", "Observation"],
)
def test_an_unknown_address_is_not_found(client: Client, path: str) -> None:
    refused(client.get(f"/fhir/{path}"), 404)


def test_conformance_answers_no_write(client: Client) -> None:
    for path in ("metadata", "CodeSystem/document-category"):
        response = client.post(f"/fhir/{path}", {}, content_type="application/fhir+json")
        refused(response, 405, "not-supported")
        assert response["Allow"] == "GET"
