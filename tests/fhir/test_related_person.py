"""RelatedPerson: an assistant of the DSP (« Assistant DSP », the holder's rights). The
search lists the assistants whose rights stand; a read gives any of them, past ones too
(the journal names them), saying whether their rights stand."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from esante.fhir.resources import code_system_url
from esante.records.actions import ensure_care_record
from esante.records.models import AccessAction, AccessEntry, Assistant, Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.factories import make_person
from tests.fhir.conftest import Api, ids, issue_token, not_found, patient_app, validated

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(
    alice_record: CareRecord, bob: InsuredPerson, charlie: InsuredPerson
) -> dict[str, Assistant]:
    """bob, active; charlie, whose rights were ended; dora, given rights while alice was a
    minor (they ended at her majority, before the daily job ended the row)."""
    now = timezone.now()

    def add(person: InsuredPerson, **fields: object) -> Assistant:
        return Assistant.objects.create(
            record=alice_record, person=person, added_by=alice_record.person, **fields
        )

    return {
        "bob": add(bob, role="Conjoint", added_at=now - datetime.timedelta(days=3)),
        "charlie": add(charlie, added_at=now - datetime.timedelta(days=9), ended_at=now),
        "dora": add(make_person("Dora", "Martin"), during_minority=True),
    }


def test_the_search_lists_the_assistants_whose_rights_stand(
    alice_api: Api, rows: dict[str, Assistant]
) -> None:
    bundle = validated(alice_api.get("RelatedPerson"))

    assert bundle["total"] == 1
    assert ids(bundle) == {str(rows["bob"].public_id)}


def test_an_assistant_reads_as_a_related_person(
    alice_api: Api, alice_record: CareRecord, rows: dict[str, Assistant]
) -> None:
    bob = rows["bob"]

    resource = validated(alice_api.get(f"RelatedPerson/{bob.public_id}"))

    assert resource["active"] is True
    assert resource["patient"] == {"reference": f"Patient/{alice_record.public_id}"}
    assert resource["name"] == [{"use": "official", "family": "Martin", "given": ["Bob"]}]
    assert resource["relationship"] == [
        {
            "coding": [
                {
                    "system": code_system_url("assistant-type"),
                    "code": "assistant_dsp",
                    "display": "Assistant DSP",
                }
            ],
            "text": "Conjoint",
        }
    ]
    assert datetime.datetime.fromisoformat(resource["period"]["start"]) == bob.added_at
    assert "end" not in resource["period"]


def test_a_past_assistant_reads_as_inactive_with_the_end_of_their_rights(
    alice_api: Api, rows: dict[str, Assistant]
) -> None:
    charlie = rows["charlie"]

    resource = validated(alice_api.get(f"RelatedPerson/{charlie.public_id}"))

    assert resource["active"] is False
    assert datetime.datetime.fromisoformat(resource["period"]["end"]) == charlie.ended_at


def test_rights_ended_at_majority_read_as_inactive(
    alice_api: Api, rows: dict[str, Assistant]
) -> None:
    """The gate no longer honours them (`active_assistants`): nor does the resource."""
    resource = validated(alice_api.get(f"RelatedPerson/{rows['dora'].public_id}"))

    assert resource["active"] is False


def test_an_assistant_reads_the_assistants_too(
    alice: InsuredPerson, bob: InsuredPerson, rows: dict[str, Assistant]
) -> None:
    api = Api(issue_token(patient_app(), person=alice, actor=bob))

    assert ids(validated(api.get("RelatedPerson"))) == {str(rows["bob"].public_id)}
    validated(api.get(f"RelatedPerson/{rows['charlie'].public_id}"))


def test_another_records_assistant_is_not_found(
    alice_api: Api, bob: InsuredPerson, charlie: InsuredPerson
) -> None:
    other = ensure_care_record(charlie)
    row = Assistant.objects.create(record=other, person=bob, added_by=charlie)

    not_found(alice_api.get(f"RelatedPerson/{row.public_id}"))
    not_found(alice_api.get("RelatedPerson/8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"))
    not_found(alice_api.get(f"RelatedPerson?patient={other.public_id}"))


def test_reading_the_assistants_is_journaled_as_a_read_of_the_record(
    alice_api: Api, alice_record: CareRecord, rows: dict[str, Assistant]
) -> None:
    validated(alice_api.get("RelatedPerson"))
    validated(alice_api.get(f"RelatedPerson/{rows['bob'].public_id}"))

    lines = list(AccessEntry.objects.filter(record=alice_record).order_by("pk"))
    assert [(line.action, line.capacity, line.actor_id) for line in lines] == [
        (AccessAction.READ_RECORD, Capacity.OWNER, alice_record.person_id),
    ] * 2
    assert {line.target for line in lines} == {"API FHIR : Mon appli santé (test)"}
