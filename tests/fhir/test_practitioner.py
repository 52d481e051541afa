"""Practitioner: a health professional of the register — the author of documents, the
fhirUser of practice software. Read by id, by either kind of app: the register is public,
and reading it reads no record."""

from __future__ import annotations

import pytest

from esante.professionals.models import Professional
from tests.fhir.conftest import Api, not_found, refused, validated
from tests.records.care_people import make_sophie

pytestmark = pytest.mark.django_db


def test_a_professional_reads_as_a_practitioner(alice_api: Api, paul: Professional) -> None:
    response = alice_api.get(f"Practitioner/{paul.public_id}")
    resource = validated(response)

    assert resource["id"] == str(paul.public_id)
    assert resource["active"] is True
    assert resource["name"] == [{"use": "official", "family": "Reding", "given": ["Paul"]}]
    assert resource["qualification"] == [{"code": {"text": "Médecin"}}]
    assert response["ETag"] == f'W/"{resource["meta"]["versionId"]}"'


def test_practice_software_reads_any_practitioner_of_the_register(paul_api: Api) -> None:
    sophie = make_sophie()

    resource = validated(paul_api.get(f"Practitioner/{sophie.public_id}"))

    assert resource["name"][0]["family"] == "Müller"
    assert resource["qualification"] == [{"code": {"text": "Infirmier"}}]


def test_a_professional_who_left_the_register_reads_as_inactive(
    alice_api: Api, paul: Professional
) -> None:
    Professional.objects.filter(pk=paul.pk).update(is_active=False)

    assert validated(alice_api.get(f"Practitioner/{paul.public_id}"))["active"] is False


def test_an_unknown_practitioner_is_not_found(alice_api: Api) -> None:
    not_found(alice_api.get("Practitioner/8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"))
    not_found(alice_api.get("Practitioner/20000001"))  # never by the national code


def test_practitioners_are_read_by_id_only(alice_api: Api) -> None:
    response = alice_api.get("Practitioner")

    refused(response, 405, "not-supported")
