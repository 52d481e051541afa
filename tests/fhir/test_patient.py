"""Patient: the holder of a DSP. A patient app reads the patient chosen at launch; practice
software reads its professional's patients (current care relationships and emergency
accesses). The matricule is an identifier only with the `matricule` scope."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from esante.professionals.models import Professional
from esante.records.actions import ensure_care_record
from esante.records.care import block_professional, end_relationship
from esante.records.models import (
    Capacity,
    CareRecord,
    CareRelationship,
    EmergencyAccess,
)
from esante.registry.models import InsuredPerson
from tests.factories import make_person
from tests.fhir.conftest import (
    PATIENT_SCOPES,
    PRACTICE_SCOPES,
    Api,
    ids,
    issue_token,
    not_found,
    patient_app,
    practice_software,
    validated,
)
from tests.records.care_people import make_professional, make_sophie

pytestmark = pytest.mark.django_db


def test_a_patient_app_reads_its_patient(alice_api: Api, alice_record: CareRecord) -> None:
    patient = validated(alice_api.get(f"Patient/{alice_record.public_id}"))

    assert patient["id"] == str(alice_record.public_id)
    assert patient["active"] is True
    assert patient["name"] == [{"use": "official", "family": "Martin", "given": ["Alice"]}]
    assert patient["gender"] == "female"
    assert patient["birthDate"] == alice_record.person.birth_date.isoformat()
    assert "identifier" not in patient  # no `matricule` scope
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "fr"


def test_the_matricule_is_an_identifier_only_with_its_scope(
    alice: InsuredPerson, alice_record: CareRecord
) -> None:
    app = patient_app(scopes=[*PATIENT_SCOPES, "matricule"])
    api = Api(issue_token(app, person=alice))

    patient = validated(api.get(f"Patient/{alice_record.public_id}"))
    found = validated(api.get("Patient"))

    expected = [
        {
            "use": "official",
            "system": settings.ESANTE_FHIR_MATRICULE_SYSTEM,
            "value": alice.matricule,
        }
    ]
    assert patient["identifier"] == expected
    assert found["entry"][0]["resource"]["identifier"] == expected
    # The logical id says nothing of the matricule.
    assert alice.matricule not in patient["id"]


def test_a_patient_apps_search_is_its_patient_with_or_without_id(
    alice_api: Api, alice_record: CareRecord
) -> None:
    everyone = validated(alice_api.get("Patient"))
    by_id = validated(alice_api.get(f"Patient?_id={alice_record.public_id}"))
    other = validated(alice_api.get(f"Patient?_id={ensure_care_record(make_person()).public_id}"))

    assert everyone["type"] == "searchset"
    assert everyone["total"] == 1 and ids(everyone) == {str(alice_record.public_id)}
    assert by_id["total"] == 1 and ids(by_id) == {str(alice_record.public_id)}
    assert other["total"] == 0 and other["entry"] == []


def test_a_professionals_search_lists_the_patients_of_their_relationships_and_emergencies(
    paul: Professional, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    bob_record = ensure_care_record(make_person("Bob", "Muller"))
    carl_record = ensure_care_record(make_person("Carl", "Zeimet"))
    dora_record = ensure_care_record(make_person("Dora", "Weis"))  # none of his
    ended_record = ensure_care_record(make_person("Emil", "Faber"))
    blocked_record = ensure_care_record(make_person("Fanny", "Goerens"))
    refusing_record = ensure_care_record(make_person("Gilles", "Hansen"))
    now = timezone.now()

    def relate(record: CareRecord) -> CareRelationship:
        return CareRelationship.objects.create(
            record=record,
            professional=paul,
            origin="declared",
            reason="Consultation",
            ends_at=now + datetime.timedelta(days=30),
        )

    def emergency(record: CareRecord) -> None:
        EmergencyAccess.objects.create(
            record=record, professional=paul, reason="Urgence", ends_at=now + datetime.timedelta(1)
        )

    relate(alice_record)
    relate(bob_record)
    emergency(bob_record)  # listed once
    emergency(carl_record)
    end_relationship(relate(ended_record), actor=alice, capacity=Capacity.OWNER, ip_address=None)
    relate(blocked_record)
    block_professional(
        blocked_record,
        paul,
        actor=blocked_record.person,
        capacity=Capacity.OWNER,
        ip_address=None,
    )
    emergency(refusing_record)
    CareRecord.objects.filter(pk=refusing_record.pk).update(refuses_emergency_access=True)
    api = Api(issue_token(practice_software(), professional=paul))

    found = validated(api.get("Patient"))
    one = validated(api.get(f"Patient?_id={carl_record.public_id}"))
    not_his = validated(api.get(f"Patient?_id={dora_record.public_id}"))

    expected = {str(each.public_id) for each in (alice_record, bob_record, carl_record)}
    assert found["total"] == 3 and ids(found) == expected
    assert ids(one) == {str(carl_record.public_id)}
    assert not_his["total"] == 0
    # Another professional's software lists none of them.
    sophie_api = Api(issue_token(practice_software(), professional=make_sophie()))
    assert validated(sophie_api.get("Patient"))["total"] == 0


def test_a_professional_reads_a_patient_of_theirs_and_no_other(
    paul_api: Api, alice_record: CareRecord
) -> None:
    other = ensure_care_record(make_person("Bob", "Muller"))

    patient = validated(paul_api.get(f"Patient/{alice_record.public_id}"))

    assert patient["id"] == str(alice_record.public_id)
    assert "identifier" not in patient
    not_found(paul_api.get(f"Patient/{other.public_id}"))


def test_a_professional_with_the_matricule_scope_gets_the_identifier(
    alice_record: CareRecord, alice: InsuredPerson
) -> None:
    paul = make_professional()
    CareRelationship.objects.create(
        record=alice_record,
        professional=paul,
        origin="declared",
        ends_at=timezone.now() + datetime.timedelta(days=1),
    )
    software = practice_software(scopes=[*PRACTICE_SCOPES, "matricule"])
    api = Api(issue_token(software, professional=paul))

    patient = validated(api.get(f"Patient/{alice_record.public_id}"))

    assert patient["identifier"][0]["value"] == alice.matricule
    assert patient["identifier"][0]["system"] == settings.ESANTE_FHIR_MATRICULE_SYSTEM


def test_a_closed_record_reads_as_an_inactive_patient_to_its_holder(
    alice_api: Api, alice_record: CareRecord
) -> None:
    CareRecord.objects.filter(pk=alice_record.pk).update(closed_at=timezone.now())

    patient = validated(alice_api.get(f"Patient/{alice_record.public_id}"))

    assert patient["active"] is False


def test_a_deceased_patient_says_so(alice_api: Api, alice_record: CareRecord) -> None:
    InsuredPerson.objects.filter(pk=alice_record.person_id).update(
        date_of_death=datetime.date(2026, 1, 2)
    )

    patient = validated(alice_api.get(f"Patient/{alice_record.public_id}"))

    assert patient["deceasedDateTime"] == "2026-01-02"


def test_a_missing_or_malformed_patient_id_is_not_found(alice_api: Api) -> None:
    not_found(alice_api.get("Patient/8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"))
    not_found(alice_api.get("Patient/not-a-uuid"))


def test_the_meta_says_the_version_and_the_etag_repeats_it(
    alice_api: Api, alice_record: CareRecord
) -> None:
    response = alice_api.get(f"Patient/{alice_record.public_id}")
    patient = validated(response)

    assert response["ETag"] == f'W/"{patient["meta"]["versionId"]}"'
    assert response["Last-Modified"].endswith(" GMT")
    assert "no-store" in response["Cache-Control"]
