"""SMART on FHIR at the provider: the scopes a service may be registered for and ask
(esante.services.smart), what the consent page says of them, the token response's
`patient` (launch/patient), `aud` naming this FHIR server, `fhirUser` for patients and
assistants, `esante create-service` with SMART scopes and browser origins, and CORS on
the API and the provider's endpoints only, for the registered origins only."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests
from django.core.management import CommandError, call_command
from django.test import Client

from esante.fhir import cors
from esante.records.models import Assistant, CareRecord
from esante.registry.models import InsuredPerson
from esante.services import smart
from esante.services.models import Audience, Service
from tests.factories import make_person, years_ago
from tests.provider.conftest import authorize, logged_in, make_rp, register
from tests.provider.test_flow import consent_and_code

PATIENT_APP_SCOPES = ["openid", "fhirUser", "launch/patient", "patient/*.rs"]


# The scopes themselves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "context", "resource_type", "rights"),
    [
        ("patient/*.rs", "patient", "*", {"r", "s"}),
        ("user/DocumentReference.cu", "user", "DocumentReference", {"c", "u"}),
        ("patient/*.read", "patient", "*", {"r", "s"}),  # SMART 1.0
        ("user/Binary.write", "user", "Binary", {"c", "u", "d"}),
        ("patient/Patient.*", "patient", "Patient", set("cruds")),
    ],
)
def test_resource_scopes_are_parsed_in_both_versions(
    scope: str, context: str, resource_type: str, rights: set[str]
) -> None:
    parsed = smart.parse(scope)
    assert parsed is not None
    assert (parsed.context, parsed.resource_type, set(parsed.rights)) == (
        context,
        resource_type,
        rights,
    )


@pytest.mark.parametrize(
    "scope",
    ["openid", "patient/*.sr", "patient/*.rr", "system/*.rs", "patient/document.rs", "patient/*."],
)
def test_what_is_not_a_resource_scope(scope: str) -> None:
    assert smart.parse(scope) is None


def test_a_registered_scope_covers_the_narrower_ones_only() -> None:
    registered = ["openid", "patient/*.rs"]
    assert smart.covered_by("patient/DocumentReference.rs", registered)
    assert smart.covered_by("patient/AuditEvent.s", registered)
    assert not smart.covered_by("patient/DocumentReference.c", registered)
    assert not smart.covered_by("user/*.rs", registered)
    assert not smart.covered_by("launch/patient", registered)
    assert smart.permits(["patient/DocumentReference.rs"], "patient", "DocumentReference", "s")
    assert not smart.permits(["patient/DocumentReference.rs"], "patient", "Patient", "r")
    assert not smart.permits(["patient/*.rs"], "user", "Patient", "r")


# The authorization ---------------------------------------------------------------------------


@pytest.fixture
def alice_browser(alice: InsuredPerson, transactional_db: None) -> Client:
    return logged_in(alice, "alice@example.lu")


def patient_app() -> Service:
    return register(
        name="Mon appli (test)",
        scopes=PATIENT_APP_SCOPES,
        token_endpoint_auth_method=Service.AuthMethod.NONE,
        client_secret_hash="",
    )


def test_a_patient_app_gets_its_patient_in_the_token_response_and_said_on_the_consent_page(
    issuer: str, alice: InsuredPerson, alice_browser: Client
) -> None:
    service = patient_app()
    rp = make_rp(issuer, service, secret="", scope="launch/patient patient/*.rs user/*.rs")
    rp.session.token_endpoint_auth_method = "none"
    url = rp.authorization_url(aud=f"{issuer}/fhir")
    page = authorize(alice_browser, url).content.decode()
    assert "le dossier choisi en ouvrant le service" in page
    assert "ni votre DSP" not in page  # it reads the record: the page must not say otherwise
    assert "lire le DSP choisi" in page
    assert "lire, comme vous" not in page  # user/*.rs: not registered, not granted

    answer = authorize(alice_browser, url, decision="accept")
    token = rp.fetch_token(answer["Location"])

    assert token["patient"] == str(CareRecord.objects.get(person=alice).public_id)
    assert token["scope"].split() == ["launch/patient", "patient/*.rs"]
    assert "id_token" not in token  # no openid asked


def test_aud_must_name_this_fhir_server(issuer: str, alice_browser: Client) -> None:
    rp = make_rp(issuer, patient_app(), secret="", scope="openid patient/*.rs")
    for aud in ("https://elsewhere.example/fhir", ""):
        answer = authorize(alice_browser, rp.authorization_url(aud=aud))
        assert "error=invalid_request" in answer["Location"]


def test_a_narrower_scope_than_registered_is_granted(
    issuer: str, alice: InsuredPerson, alice_browser: Client
) -> None:
    rp = make_rp(issuer, patient_app(), secret="", scope="openid patient/DocumentReference.rs")
    rp.session.token_endpoint_auth_method = "none"
    token = rp.fetch_token(consent_and_code(alice_browser, rp, aud=f"{issuer}/fhir"))
    assert token["scope"].split() == ["openid", "patient/DocumentReference.rs"]
    assert "patient" not in token  # no launch/patient asked


def test_fhir_user_names_the_patient_or_the_assistants_related_person(
    issuer: str, alice: InsuredPerson, alice_browser: Client
) -> None:
    child = make_person("Léa", "Martin", years_ago(8), sex="F")
    child_record = CareRecord.objects.get_or_create(person=child)[0]
    assistant = Assistant.objects.create(
        record=child_record, person=alice, added_by=alice, during_minority=True
    )
    service = patient_app()
    rp = make_rp(issuer, service, secret="", scope="openid fhirUser launch/patient")
    rp.session.token_endpoint_auth_method = "none"

    own = rp.authorization_url(aud=f"{issuer}/fhir")
    authorize(alice_browser, own, pour="moi")
    mine = rp.fetch_token(authorize(alice_browser, own, pour="moi", decision="accept")["Location"])
    for_child = rp.authorization_url(aud=f"{issuer}/fhir")
    authorize(alice_browser, for_child, pour=str(child_record.public_id))
    theirs = rp.fetch_token(
        authorize(alice_browser, for_child, pour=str(child_record.public_id), decision="accept")[
            "Location"
        ]
    )

    def user_of(token: dict[str, Any]) -> str:
        claims = requests.get(
            f"{issuer}/oidc/userinfo",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=5,
        ).json()
        return str(claims["fhirUser"])

    alice_record = CareRecord.objects.get(person=alice)
    assert user_of(mine) == f"{issuer}/fhir/Patient/{alice_record.public_id}"
    assert user_of(theirs) == f"{issuer}/fhir/RelatedPerson/{assistant.public_id}"
    assert theirs["patient"] == str(child_record.public_id)


# Registration ----------------------------------------------------------------------------------


def create_service(*args: str) -> str:
    out = io.StringIO()
    call_command("create_service", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_service_takes_smart_scopes_for_its_audience_and_browser_origins() -> None:
    create_service(
        "Mon appli (test)",
        "--redirect-uri",
        "https://app.example.lu/retour",
        "--public",
        "--scope",
        "launch/patient",
        "--scope",
        "patient/*.rs",
        "--origin",
        "https://app.example.lu/",
        "--origin",
        "https://app.example.lu",
    )
    service = Service.objects.get(name="Mon appli (test)")
    assert service.scopes == ["launch/patient", "openid", "patient/*.rs"]
    assert service.allowed_origins == ["https://app.example.lu"]

    with pytest.raises(CommandError, match="logiciel de professionnels"):
        create_service("X", "--redirect-uri", "https://x.example/r", "--scope", "user/*.rs")
    with pytest.raises(CommandError, match="app de patients"):
        create_service(
            "Y",
            "--redirect-uri",
            "https://y.example/r",
            "--audience",
            Audience.PROFESSIONALS,
            "--scope",
            "patient/*.rs",
        )
    with pytest.raises(CommandError, match="Origine refusée"):
        create_service(
            "Z", "--redirect-uri", "https://z.example/r", "--origin", "https://z.example/app"
        )
    with pytest.raises(CommandError):
        create_service("W", "--redirect-uri", "https://w.example/r", "--scope", "patient/*.xx")


# CORS ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cors_answers_registered_origins_on_the_api_and_the_provider_only(client: Client) -> None:
    register(allowed_origins=["https://app.example.lu"])
    cors.forget()
    preflight = {
        "Origin": "https://app.example.lu",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }

    for path in (
        "/fhir/metadata",
        "/fhir/DocumentReference",
        "/fhir/.well-known/smart-configuration",
        "/oidc/jeton",
        "/.well-known/openid-configuration",
    ):
        answer = client.options(path, headers=preflight)
        assert answer["Access-Control-Allow-Origin"] == "https://app.example.lu", path
        assert "authorization" in answer["Access-Control-Allow-Headers"]
        assert "Access-Control-Allow-Credentials" not in answer

    got = client.get("/fhir/metadata", headers={"Origin": "https://app.example.lu"})
    assert got["Access-Control-Allow-Origin"] == "https://app.example.lu"
    elsewhere = client.get("/fhir/metadata", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in elsewhere
    portal = client.get("/connexion/", headers={"Origin": "https://app.example.lu"})
    assert "Access-Control-Allow-Origin" not in portal
    authorize_page = client.options("/oidc/autoriser", headers=preflight)
    assert "Access-Control-Allow-Origin" not in authorize_page
