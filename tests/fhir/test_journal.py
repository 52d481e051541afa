"""The access journal (*Historique des accès*) and the API: every read through the API is
a line of it exactly as the portal writes it (its action, the capacity, the holder or
assistant or professional), the target naming the app; the journal itself is read as
AuditEvent (by patient and date), the read of it journaled too. Also: the per-token rate
limit (429 with Retry-After) and conditional reads (ETag, If-None-Match → 304)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from esante import ratelimit
from esante.fhir.resources import code_system_url
from esante.professionals.models import Professional
from esante.records.actions import ensure_care_record, journal, set_confidentiality
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Assistant,
    Capacity,
    CareRecord,
    Confidentiality,
    EmergencyAccess,
)
from esante.registry.models import InsuredPerson
from tests.fhir.conftest import (
    Api,
    ids,
    issue_token,
    not_found,
    patient_app,
    practice_software,
    refused,
    stored_document,
    validated,
)
from tests.records.care_people import make_professional

pytestmark = pytest.mark.django_db

APP = "API FHIR : Mon appli santé (test)"
SOFTWARE = "API FHIR : Logiciel de cabinet (test)"


def new_lines(record: CareRecord, since: int) -> list[tuple[Any, ...]]:
    """The journal lines written after line `since`, oldest first: (action, capacity,
    actor, professional, target)."""
    return [
        (line.action, line.capacity, line.actor_id, line.professional_id, line.target)
        for line in AccessEntry.objects.filter(record=record, pk__gt=since).order_by("pk")
    ]


def last_line(record: CareRecord) -> int:
    return (
        AccessEntry.objects.filter(record=record)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )


# Every read, journaled ------------------------------------------------------------------------


def test_a_holders_reads_are_journaled_as_the_portals(
    alice_api: Api, alice_record: CareRecord, alice: InsuredPerson
) -> None:
    document = stored_document(alice_record, "Bilan")
    since = last_line(alice_record)

    validated(alice_api.get(f"Patient/{alice_record.public_id}"))
    validated(alice_api.get("DocumentReference"))
    validated(alice_api.get(f"DocumentReference/{document.public_id}"))
    assert alice_api.get(f"Binary/{document.public_id}", Accept="*/*").status_code == 200
    validated(alice_api.get(f"Binary/{document.public_id}"))
    validated(alice_api.get("RelatedPerson"))
    validated(alice_api.get("Consent"))
    validated(alice_api.get("AuditEvent"))

    owner = (Capacity.OWNER, alice.pk, None)
    assert new_lines(alice_record, since) == [
        (AccessAction.READ_RECORD, *owner, APP),
        (AccessAction.READ_RECORD, *owner, APP),
        (AccessAction.READ_DOCUMENT, *owner, f"Bilan ({APP})"),
        (AccessAction.READ_DOCUMENT, *owner, f"Bilan ({APP})"),
        (AccessAction.READ_DOCUMENT, *owner, f"Bilan ({APP})"),
        (AccessAction.READ_RECORD, *owner, APP),
        (AccessAction.READ_RECORD, *owner, APP),
        (AccessAction.READ_JOURNAL, *owner, APP),
    ]


def test_a_patient_apps_patient_search_is_journaled_as_its_read(
    alice_api: Api, alice_record: CareRecord, alice: InsuredPerson
) -> None:
    since = last_line(alice_record)

    validated(alice_api.get("Patient"))
    validated(alice_api.get(f"Patient?_id={alice_record.public_id}"))
    assert validated(alice_api.get("Patient?_id=another"))["total"] == 0

    owner = (Capacity.OWNER, alice.pk, None)
    assert new_lines(alice_record, since) == [(AccessAction.READ_RECORD, *owner, APP)] * 2


def test_an_assistants_reads_are_journaled_in_their_name(
    alice: InsuredPerson, bob: InsuredPerson, alice_record: CareRecord
) -> None:
    Assistant.objects.create(record=alice_record, person=bob, added_by=alice)
    api = Api(issue_token(patient_app(), person=alice, actor=bob))
    since = last_line(alice_record)

    validated(api.get(f"Patient/{alice_record.public_id}"))
    validated(api.get("AuditEvent"))

    assert new_lines(alice_record, since) == [
        (AccessAction.READ_RECORD, Capacity.ASSISTANT, bob.pk, None, APP),
        (AccessAction.READ_JOURNAL, Capacity.ASSISTANT, bob.pk, None, APP),
    ]


def test_a_professionals_reads_are_journaled_in_their_capacity(
    paul_api: Api, paul: Professional, alice_record: CareRecord
) -> None:
    document = stored_document(alice_record, "Bilan")
    marc = make_professional("Marc", "Urgence")
    EmergencyAccess.objects.create(
        record=alice_record,
        professional=marc,
        reason="Urgence",
        ends_at=timezone.now() + datetime.timedelta(hours=24),
    )
    marc_api = Api(issue_token(practice_software(), professional=marc))
    since = last_line(alice_record)

    validated(paul_api.get(f"Patient/{alice_record.public_id}"))
    validated(paul_api.get(f"DocumentReference?patient={alice_record.public_id}"))
    validated(paul_api.get(f"DocumentReference/{document.public_id}"))
    assert paul_api.get(f"Binary/{document.public_id}", Accept="*/*").status_code == 200
    validated(marc_api.get(f"DocumentReference/{document.public_id}"))

    assert new_lines(alice_record, since) == [
        (AccessAction.READ_RECORD, Capacity.CARE, None, paul.pk, SOFTWARE),
        (AccessAction.READ_RECORD, Capacity.CARE, None, paul.pk, SOFTWARE),
        (AccessAction.READ_DOCUMENT, Capacity.CARE, None, paul.pk, f"Bilan ({SOFTWARE})"),
        (AccessAction.READ_DOCUMENT, Capacity.CARE, None, paul.pk, f"Bilan ({SOFTWARE})"),
        (AccessAction.READ_DOCUMENT, Capacity.EMERGENCY, None, marc.pk, f"Bilan ({SOFTWARE})"),
    ]


def test_what_reads_no_record_writes_no_line(
    alice_api: Api, paul_api: Api, alice_record: CareRecord, paul: Professional
) -> None:
    """The server's own resources, the register's Practitioner, a professional's list of
    patients: no record is read."""
    since = last_line(alice_record)

    validated(alice_api.get("metadata"))
    validated(alice_api.get("CodeSystem/document-category"))
    validated(alice_api.get(f"Practitioner/{paul.public_id}"))
    validated(paul_api.get("Patient"))

    assert new_lines(alice_record, since) == []


@pytest.mark.parametrize(
    "query",
    ["_count=abc", "_offset=-1", "date=notadate", "category=", "_sort=date", "_count=1&status="],
)
def test_a_refused_search_writes_no_line(
    alice_api: Api, alice_record: CareRecord, query: str
) -> None:
    since = last_line(alice_record)

    refused(alice_api.get(f"DocumentReference?{query}"), 400, "invalid")
    refused(alice_api.get(f"AuditEvent?{query.replace('category=', 'date=')}"), 400, "invalid")

    assert new_lines(alice_record, since) == []


# The journal as AuditEvent ------------------------------------------------------------------


@pytest.fixture
def lines(
    alice: InsuredPerson, bob: InsuredPerson, alice_record: CareRecord, paul: Professional
) -> dict[str, AccessEntry]:
    """A line of each kind of agent, in January and February 2025; bob assists alice."""
    Assistant.objects.create(record=alice_record, person=bob, added_by=alice)

    def line(at: datetime.datetime, **fields: Any) -> AccessEntry:
        entry = AccessEntry(record=alice_record, at=at, **fields)
        entry.save()
        return entry

    utc = datetime.UTC
    return {
        "holder": line(
            datetime.datetime(2025, 1, 10, 9, tzinfo=utc),
            actor=alice,
            capacity=Capacity.OWNER,
            action=AccessAction.READ_RECORD,
        ),
        "assistant": line(
            datetime.datetime(2025, 1, 20, 9, tzinfo=utc),
            actor=bob,
            capacity=Capacity.ASSISTANT,
            action=AccessAction.UPLOAD,
            target="Ordonnance",
        ),
        "professional": line(
            datetime.datetime(2025, 2, 3, 9, tzinfo=utc),
            professional=paul,
            capacity=Capacity.CARE,
            action=AccessAction.READ_DOCUMENT,
            target="Bilan",
        ),
        "agency": line(
            datetime.datetime(2025, 2, 28, 9, tzinfo=utc),
            capacity=Capacity.AGENCY,
            action=AccessAction.MAJORITY_END,
        ),
    }


def test_the_journal_reads_as_audit_events_with_this_read_first(
    alice_api: Api,
    alice_record: CareRecord,
    lines: dict[str, AccessEntry],
    paul: Professional,
    bob: InsuredPerson,
) -> None:
    bundle = validated(alice_api.get(f"AuditEvent?patient={alice_record.public_id}"))

    assert bundle["total"] == 5
    first = bundle["entry"][0]["resource"]
    assert first["subtype"][0]["code"] == AccessAction.READ_JOURNAL
    assert first["entity"][0]["description"] == APP
    assert first["agent"][0]["who"]["reference"] == f"Patient/{alice_record.public_id}"
    events = {entry["resource"]["id"]: entry["resource"] for entry in bundle["entry"][1:]}
    assert list(events) == [
        str(lines[name].public_id) for name in ("agency", "professional", "assistant", "holder")
    ]
    by_name = {
        name: events[str(lines[name].public_id)]
        for name in ("holder", "assistant", "professional", "agency")
    }
    assert by_name["holder"]["agent"][0]["who"]["reference"] == f"Patient/{alice_record.public_id}"
    assert by_name["assistant"]["agent"][0]["who"]["reference"] == (
        f"RelatedPerson/{Assistant.objects.get(person=bob).public_id}"
    )
    assert by_name["professional"]["agent"][0]["who"] == {
        "reference": f"Practitioner/{paul.public_id}",
        "display": paul.full_name,
    }
    assert by_name["agency"]["agent"][0]["who"] == {"display": "Agence eSanté (automatique)"}
    actions = [by_name[name]["action"] for name in ("holder", "assistant", "professional")]
    assert actions == ["R", "C", "R"]
    role = by_name["professional"]["agent"][0]["role"][0]["coding"][0]
    assert role == {
        "system": code_system_url("access-capacity"),
        "code": "care",
        "display": "Relation de soins",
    }
    assert by_name["professional"]["entity"][0] == {
        "what": {"reference": f"Patient/{alice_record.public_id}"},
        "description": "Bilan",
    }
    assert by_name["holder"]["recorded"] == "2025-01-10T09:00:00Z"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date=2025-01", {"holder", "assistant"}),
        ("date=2025-02-03", {"professional"}),
        ("date=ge2025-02&date=lt2025-03", {"professional", "agency"}),
        ("date=lt2025-01-20T09:00:00Z", {"holder"}),
        ("date=2024", set()),
    ],
)
def test_the_journal_searched_by_date(
    alice_api: Api, lines: dict[str, AccessEntry], query: str, expected: set[str]
) -> None:
    bundle = validated(alice_api.get(f"AuditEvent?{query}"))

    names = {str(entry.public_id): name for name, entry in lines.items()}
    assert {names[each] for each in ids(bundle)} == expected


def test_one_line_reads_by_id_and_that_read_is_journaled(
    alice_api: Api, alice_record: CareRecord, lines: dict[str, AccessEntry], alice: InsuredPerson
) -> None:
    since = last_line(alice_record)

    event = validated(alice_api.get(f"AuditEvent/{lines['professional'].public_id}"))

    assert event["id"] == str(lines["professional"].public_id)
    assert new_lines(alice_record, since) == [
        (AccessAction.READ_JOURNAL, Capacity.OWNER, alice.pk, None, APP)
    ]


def test_another_records_line_is_not_found(alice_api: Api, charlie: InsuredPerson) -> None:
    other = ensure_care_record(charlie)
    entry = journal(other, actor=charlie, capacity=Capacity.OWNER, action=AccessAction.READ_RECORD)

    not_found(alice_api.get(f"AuditEvent/{entry.public_id}"))


# The rate limit, and conditional reads ---------------------------------------------------------


def test_each_token_has_its_own_rate_limit(
    monkeypatch: pytest.MonkeyPatch, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    monkeypatch.setitem(
        ratelimit.RATE_LIMITS, "fhir.request", (ratelimit.Rule("key", 3, ratelimit.HOUR),)
    )
    app = patient_app()
    api = Api(issue_token(app, person=alice))
    other = Api(issue_token(app, person=alice))

    for _ in range(3):
        validated(api.get(f"Patient/{alice_record.public_id}"))
    response = api.get(f"Patient/{alice_record.public_id}")

    refused(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600
    validated(other.get(f"Patient/{alice_record.public_id}"))


def test_a_read_the_app_has_already_answers_not_modified(
    alice_api: Api, alice_record: CareRecord, alice: InsuredPerson
) -> None:
    document = stored_document(alice_record)
    path = f"DocumentReference/{document.public_id}"
    first = alice_api.get(path)
    etag = first["ETag"]
    validated(first)

    again = alice_api.get(path, **{"If-None-Match": etag})
    other = alice_api.get(path, **{"If-None-Match": 'W/"0000"'})
    set_confidentiality(document, Confidentiality.RESTRICTED, actor=alice, capacity=Capacity.OWNER)
    changed = alice_api.get(path, **{"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    validated(other)
    assert validated(changed)["securityLabel"][0]["coding"][0]["code"] == "R"
    assert changed["ETag"] != etag
