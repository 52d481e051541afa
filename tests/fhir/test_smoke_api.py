from __future__ import annotations

import pytest

from esante.records.actions import ensure_care_record
from tests.factories import make_person
from tests.fhir.conftest import Api, issue_token, patient_app

pytestmark = pytest.mark.django_db


def test_a_patient_app_reads_its_patient_and_searches_documents() -> None:
    person = make_person()
    record = ensure_care_record(person)
    token = issue_token(patient_app(), person=person)
    api = Api(token)

    patient = api.get(f"Patient/{record.public_id}")
    found = api.get("DocumentReference")
    meta = Api("x").client.get("/fhir/metadata")

    assert patient.status_code == 200, patient.content
    assert patient.json()["id"] == str(record.public_id)
    assert found.status_code == 200, found.content
    assert found.json()["total"] == 0
    assert meta.status_code == 200
