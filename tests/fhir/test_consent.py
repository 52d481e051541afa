"""Consent: what decides who reads the record — an assistant's rights, a care relationship
granted by the patient or declared by the professional, an emergency access, a block, the
refusal of emergency access, a masked document. Each kind is listed, filtered by
`status`, and read by its id; `active` says what the gate honours now."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from esante.fhir import resources
from esante.fhir.resources import code_system_url
from esante.professionals.models import Professional
from esante.records.actions import ensure_care_record
from esante.records.care import (
    block_professional,
    end_relationship,
    grant_relationship,
    set_emergency_refusal,
    unblock_professional,
)
from esante.records.majority import majority_date
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Assistant,
    Capacity,
    CareRecord,
    CareRelationship,
    Document,
    EmergencyAccess,
    RelationshipOrigin,
)
from esante.registry.models import InsuredPerson
from tests.factories import make_person, years_ago
from tests.fhir.conftest import (
    Api,
    ids,
    issue_token,
    not_found,
    patient_app,
    refused,
    stored_document,
    validated,
)
from tests.records.care_people import make_professional, make_sophie

pytestmark = pytest.mark.django_db

POLICIES = code_system_url("consent-policy")


def policy(consent: dict[str, Any]) -> str:
    coding = consent["policyRule"]["coding"][0]
    assert coding["system"] == POLICIES
    return str(coding["code"])


def actor(consent: dict[str, Any]) -> str:
    (one,) = consent["provision"]["actor"]
    assert one["role"]["coding"][0]["code"] == "IRCP"
    return str(one["reference"]["reference"])


@pytest.fixture
def consents(
    alice: InsuredPerson,
    bob: InsuredPerson,
    charlie: InsuredPerson,
    alice_record: CareRecord,
    paul: Professional,
) -> dict[str, str]:
    """One of each kind, active or not, by its expected Consent id."""
    now = timezone.now()
    owner: dict[str, Any] = {"actor": alice, "capacity": Capacity.OWNER, "ip_address": None}
    bob_row = Assistant.objects.create(record=alice_record, person=bob, added_by=alice)
    charlie_row = Assistant.objects.create(
        record=alice_record, person=charlie, added_by=alice, ended_at=now
    )
    granted = grant_relationship(alice_record, paul, **owner)
    sophie = make_sophie()
    declared = CareRelationship.objects.create(
        record=alice_record,
        professional=sophie,
        origin=RelationshipOrigin.DECLARED,
        reason="Soins à domicile",
        ends_at=now + datetime.timedelta(days=30),
    )
    ended = grant_relationship(alice_record, make_professional("Jean", "Ended"), **owner)
    end_relationship(ended, **owner)
    emergency = EmergencyAccess.objects.create(
        record=alice_record,
        professional=make_professional("Marc", "Urgence"),
        reason="Inconscient",
        ends_at=now + datetime.timedelta(hours=24),
    )
    past_emergency = EmergencyAccess.objects.create(
        record=alice_record,
        professional=make_professional("Luc", "Ancien"),
        reason="Chute",
        started_at=now - datetime.timedelta(days=3),
        ends_at=now - datetime.timedelta(days=2),
    )
    blocked = block_professional(alice_record, make_professional("Max", "Bloque"), **owner)
    lifted = block_professional(alice_record, make_professional("Leo", "Debloque"), **owner)
    unblock_professional(lifted, **owner)
    set_emergency_refusal(alice_record, True, **owner)
    masked = stored_document(alice_record, "Masqué", masked_at=now)
    stored_document(alice_record, "Pas masqué")
    return {
        f"assistant-{bob_row.public_id}": "active",
        f"assistant-{charlie_row.public_id}": "inactive",
        f"care-{granted.public_id}": "active",
        f"care-{declared.public_id}": "active",
        f"care-{ended.public_id}": "inactive",
        # Under way: the holder's refusal, a deny beside it, overrides it (deny wins).
        f"emergency-{emergency.public_id}": "active",
        f"emergency-{past_emergency.public_id}": "inactive",
        f"block-{blocked.public_id}": "active",
        f"block-{lifted.public_id}": "inactive",
        f"emergency-refusal-{alice_record.public_id}": "active",
        f"mask-{masked.public_id}": "active",
    }


def test_every_kind_is_listed_with_its_status(alice_api: Api, consents: dict[str, str]) -> None:
    bundle = validated(alice_api.get("Consent"))

    assert bundle["total"] == len(consents)
    assert {entry["resource"]["id"]: entry["resource"]["status"] for entry in bundle["entry"]} == (
        consents
    )


@pytest.mark.parametrize("status", ["active", "inactive"])
def test_the_status_parameter_filters(
    alice_api: Api, consents: dict[str, str], status: str
) -> None:
    bundle = validated(alice_api.get(f"Consent?status={status}"))

    assert ids(bundle) == {each for each, value in consents.items() if value == status}


def test_each_consent_reads_by_its_id_as_listed(alice_api: Api, consents: dict[str, str]) -> None:
    listed = {
        entry["resource"]["id"]: entry["resource"]
        for entry in validated(alice_api.get("Consent"))["entry"]
    }

    for consent_id in consents:
        assert validated(alice_api.get(f"Consent/{consent_id}")) == listed[consent_id]


def test_what_each_kind_says(
    alice_api: Api,
    alice_record: CareRecord,
    consents: dict[str, str],
    paul: Professional,
) -> None:
    by_id = {
        entry["resource"]["id"]: entry["resource"]
        for entry in validated(alice_api.get("Consent"))["entry"]
    }
    kinds = {consent_id: policy(resource) for consent_id, resource in by_id.items()}

    assert sorted(kinds.values()) == sorted(
        [
            "assistant-dsp",
            "assistant-dsp",
            "care-granted",
            "care-declared",
            "care-granted",
            "emergency-access",
            "emergency-access",
            "professional-block",
            "professional-block",
            "emergency-refusal",
            "masked-document",
        ]
    )
    for consent_id, resource in by_id.items():
        assert resource["patient"] == {"reference": f"Patient/{alice_record.public_id}"}
        assert resource["scope"]["coding"][0]["code"] == "patient-privacy"
        kind = kinds[consent_id]
        if kind in ("assistant-dsp", "care-granted", "care-declared", "emergency-access"):
            assert resource["provision"]["type"] == "permit"
        else:
            assert resource["provision"]["type"] == "deny"
        if kind == "assistant-dsp":
            assert actor(resource).startswith("RelatedPerson/")
        elif kind in ("care-granted", "care-declared", "professional-block"):
            assert actor(resource).startswith("Practitioner/")
        elif kind == "emergency-access":
            assert actor(resource).startswith("Practitioner/")
            assert resource["provision"]["purpose"][0]["code"] == "ETREAT"
        elif kind == "emergency-refusal":
            assert resource["provision"]["purpose"][0]["code"] == "ETREAT"
        else:
            (data,) = resource["provision"]["data"]
            assert data["meaning"] == "instance"
            assert data["reference"]["reference"].startswith("DocumentReference/")
    granted = next(
        resource
        for resource in by_id.values()
        if policy(resource) == "care-granted" and resource["status"] == "active"
    )
    assert actor(granted) == f"Practitioner/{paul.public_id}"
    assert granted["provision"]["purpose"][0]["code"] == "TREAT"
    assert "end" in granted["provision"]["period"]


def test_a_block_is_a_deny_beside_the_emergency_access_it_overrides(
    alice_api: Api, alice_record: CareRecord, alice: InsuredPerson
) -> None:
    """Consents combine as the gate does, a deny over a permit: the emergency access under
    way stays listed as it is, and the block stands beside it for the same Practitioner."""
    marc = make_professional("Marc", "Urgence")
    emergency = EmergencyAccess.objects.create(
        record=alice_record,
        professional=marc,
        reason="Inconscient",
        ends_at=timezone.now() + datetime.timedelta(hours=24),
    )

    block = block_professional(
        alice_record, marc, actor=alice, capacity=Capacity.OWNER, ip_address=None
    )

    permit = validated(alice_api.get(f"Consent/emergency-{emergency.public_id}"))
    deny = validated(alice_api.get(f"Consent/block-{block.public_id}"))
    assert (permit["status"], permit["provision"]["type"]) == ("active", "permit")
    assert (deny["status"], deny["provision"]["type"]) == ("active", "deny")
    assert actor(permit) == actor(deny) == f"Practitioner/{marc.public_id}"


def test_rights_given_during_minority_are_inactive_after_majority(
    alice_api: Api, alice_record: CareRecord, alice: InsuredPerson
) -> None:
    """Alice is an adult: rights given while she was a minor no longer stand."""
    row = Assistant.objects.create(
        record=alice_record,
        person=make_person("Dora", "Martin"),
        added_by=alice,
        during_minority=True,
    )

    assert validated(alice_api.get(f"Consent/assistant-{row.public_id}"))["status"] == "inactive"


def test_a_minors_assistant_consent_ends_at_majority(bob: InsuredPerson) -> None:
    """DESIGN.md: an assistant's Consent has a period ending at majority where it applies."""
    lea = make_person("Léa", "Martin", years_ago(9), sex="F")
    record = ensure_care_record(lea)
    row = Assistant.objects.create(record=record, person=bob, added_by=bob, during_minority=True)
    api = Api(issue_token(patient_app(), person=lea, actor=bob))

    consent = validated(api.get(f"Consent/assistant-{row.public_id}"))
    related = validated(api.get(f"RelatedPerson/{row.public_id}"))

    assert consent["status"] == "active"
    birthday = majority_date(lea.birth_date)
    end = datetime.datetime.fromisoformat(consent["provision"]["period"]["end"])
    assert timezone.localtime(end).date() == birthday
    assert timezone.localtime(end).time() == datetime.time(0)
    assert related["period"]["end"] == consent["provision"]["period"]["end"]


def test_a_masked_document_replaced_or_unmasked_is_no_consent(
    alice_api: Api, alice_record: CareRecord, paul: Professional
) -> None:
    now = timezone.now()
    old = stored_document(alice_record, professional=paul, masked_at=now, superseded_at=now)
    new = stored_document(alice_record, professional=paul, masked_at=now, previous=old)
    unmasked = stored_document(alice_record)

    assert ids(validated(alice_api.get("Consent"))) == {f"mask-{new.public_id}"}
    not_found(alice_api.get(f"Consent/mask-{old.public_id}"))
    not_found(alice_api.get(f"Consent/mask-{unmasked.public_id}"))


@pytest.mark.parametrize(
    "consent_id",
    [
        "assistant-8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00",
        "emergency-refusal-8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00",
        "other-8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00",
        "care-notauuid",
        "8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00",
        "mask",
    ],
)
def test_an_unknown_consent_is_not_found(alice_api: Api, consent_id: str) -> None:
    not_found(alice_api.get(f"Consent/{consent_id}"))


def test_the_refusal_of_emergency_access_is_a_consent_only_while_it_stands(
    alice_api: Api, alice_record: CareRecord
) -> None:
    not_found(alice_api.get(f"Consent/emergency-refusal-{alice_record.public_id}"))


def test_another_records_consents_are_not_found(
    alice_api: Api, charlie: InsuredPerson, paul: Professional
) -> None:
    other = ensure_care_record(charlie)
    granted = grant_relationship(
        other, paul, actor=charlie, capacity=Capacity.OWNER, ip_address=None
    )

    not_found(alice_api.get(f"Consent/care-{granted.public_id}"))
    not_found(alice_api.get(f"Consent?patient={other.public_id}"))


def test_reading_the_consents_is_journaled(
    alice_api: Api, alice_record: CareRecord, consents: dict[str, str]
) -> None:
    before = AccessEntry.objects.filter(record=alice_record).count()

    validated(alice_api.get("Consent"))
    validated(alice_api.get(f"Consent/{next(iter(consents))}"))
    refused(alice_api.get("Consent?status="), 400, "invalid")

    lines = AccessEntry.objects.filter(record=alice_record).order_by("-pk")[:2]
    assert AccessEntry.objects.filter(record=alice_record).count() == before + 2
    assert {line.action for line in lines} == {AccessAction.READ_RECORD}
    assert {line.target for line in lines} == {"API FHIR : Mon appli santé (test)"}


def test_consents_of_the_document_kind_name_their_document(
    alice_api: Api, alice_record: CareRecord
) -> None:
    masked: Document = stored_document(alice_record, masked_at=timezone.now())

    consent = validated(alice_api.get(f"Consent/mask-{masked.public_id}"))

    assert consent["provision"]["data"][0]["reference"] == {
        "reference": f"DocumentReference/{masked.public_id}"
    }


def test_the_refusal_of_emergency_access_is_dated_when_it_was_decided(
    alice_api: Api, alice_record: CareRecord, alice: InsuredPerson
) -> None:
    owner: dict[str, Any] = {"actor": alice, "capacity": Capacity.OWNER, "ip_address": None}
    with time_machine.travel(timezone.now() + datetime.timedelta(days=40), tick=False):
        set_emergency_refusal(alice_record, True, **owner)
        decided = timezone.now()

    refusal = validated(alice_api.get(f"Consent/emergency-refusal-{alice_record.public_id}"))

    assert refusal["dateTime"] == resources.instant(decided)
    assert refusal["meta"]["lastUpdated"] == resources.instant(decided)
