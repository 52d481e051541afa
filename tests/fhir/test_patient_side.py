"""Who a patient app reads for, through the API: the holder; an active assistant (a token
with `actor`), with the same rights; no one else — an ended assistant, an assistant whose
rights, given during the holder's minority, ended at majority, another person, the app
launched for another record, anyone but the holder once the record is closed. Refusals
read as missing resources (404), and are audited as the portal's."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from esante import ratelimit
from esante.accounts.models import Account
from esante.audit.models import AuditEvent, EventType
from esante.professionals.models import Professional
from esante.provider.models import Consent, Token
from esante.records.actions import ensure_care_record, remove_assistant
from esante.records.models import (
    Assistant,
    Capacity,
    CareRecord,
    Confidentiality,
    Document,
)
from esante.registry.models import InsuredPerson
from tests.factories import make_person, years_ago
from tests.fhir.conftest import (
    PDF,
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
from tests.records.care_people import make_sophie

pytestmark = pytest.mark.django_db

Docs = dict[str, Document]


@pytest.fixture
def docs(alice_record: CareRecord, paul: Professional) -> Docs:
    """What alice's record holds: a Normal, a Très restreint and a masked document (all
    hers to read), a replaced version, a withdrawn document."""
    now = timezone.now()
    old = stored_document(alice_record, "Ancienne version", professional=paul, superseded_at=now)
    return {
        "normal": stored_document(alice_record, "Normal"),
        "tres_restreint": stored_document(
            alice_record, "Très restreint", confidentiality=Confidentiality.VERY_RESTRICTED
        ),
        "masque": stored_document(alice_record, "Masqué", masked_at=now),
        "nouvelle": stored_document(
            alice_record, "Nouvelle version", professional=paul, previous=old
        ),
        "_replaced": old,
        "_withdrawn": stored_document(alice_record, "Retiré", professional=paul, withdrawn_at=now),
    }


CURRENT = {"normal", "tres_restreint", "masque", "nouvelle"}


def assistant(record: CareRecord, person: InsuredPerson, **fields: Any) -> Assistant:
    return Assistant.objects.create(record=record, person=person, added_by=record.person, **fields)


def seen(api: Api, record: CareRecord, docs: Docs) -> dict[str, Any]:
    """What the app gets of the record: the Patient, the documents searched, read and
    downloaded (Binary)."""
    names = {str(doc.public_id): name for name, doc in docs.items()}
    patient = api.get(f"Patient/{record.public_id}")
    search = api.get(f"DocumentReference?patient={record.public_id}")
    found: dict[str, Any] = {"patient": None, "search": None, "read": set(), "binary": set()}
    if patient.status_code == 200:
        found["patient"] = validated(patient)["id"]
    else:
        not_found(patient)
    if search.status_code == 200:
        found["search"] = {names[each] for each in ids(validated(search))}
    else:
        not_found(search)
    for name, doc in docs.items():
        read = api.get(f"DocumentReference/{doc.public_id}")
        if read.status_code == 200:
            validated(read)
            found["read"].add(name)
        else:
            not_found(read)
        raw = api.get(f"Binary/{doc.public_id}", Accept="*/*")
        if raw.status_code == 200:
            assert b"".join(raw.streaming_content) == PDF
            found["binary"].add(name)
        else:
            not_found(raw)
    return found


NOTHING: dict[str, Any] = {"patient": None, "search": None, "read": set(), "binary": set()}


def everything(record: CareRecord) -> dict[str, Any]:
    """All the holder sees: every current document, and the replaced version by id."""
    readable = CURRENT | {"_replaced"}
    return {
        "patient": str(record.public_id),
        "search": CURRENT,
        "read": readable,
        "binary": readable,
    }


def test_the_holder_sees_every_document_of_their_record(
    alice_api: Api, alice_record: CareRecord, docs: Docs
) -> None:
    assert seen(alice_api, alice_record, docs) == everything(alice_record)


def test_an_active_assistant_has_the_same_rights(
    alice: InsuredPerson, bob: InsuredPerson, alice_record: CareRecord, docs: Docs
) -> None:
    assistant(alice_record, bob)
    api = Api(issue_token(patient_app(), person=alice, actor=bob))

    assert seen(api, alice_record, docs) == everything(alice_record)


def test_an_ended_assistant_is_refused_at_the_next_request(
    alice: InsuredPerson, bob: InsuredPerson, alice_record: CareRecord, docs: Docs
) -> None:
    row = assistant(alice_record, bob)
    api = Api(issue_token(patient_app(), person=alice, actor=bob))
    Assistant.objects.filter(pk=row.pk).update(ended_at=timezone.now())

    assert seen(api, alice_record, docs) == NOTHING


def test_removing_an_assistant_revokes_the_apps_token(
    alice: InsuredPerson, bob: InsuredPerson, alice_record: CareRecord, docs: Docs
) -> None:
    """Removed in *Assistants*: the consent the assistant gave for alice is withdrawn and
    its tokens revoked (esante.provider.receivers): 401, not even the gate's 404."""
    Account.objects.create(
        person=bob, code_channel="email", cgu_version="1", cgu_accepted_at=timezone.now()
    )
    row = assistant(alice_record, bob)
    api = Api(issue_token(patient_app(), person=alice, actor=bob))

    remove_assistant(row, actor=alice, capacity=Capacity.OWNER, ip_address=None)

    refused(api.get(f"Patient/{alice_record.public_id}"), 401, "login")
    assert not Consent.objects.standing().filter(person=bob, on_behalf_of=alice).exists()


@pytest.mark.parametrize(("age", "sees"), [(17, True), (18, False)])
def test_rights_given_during_minority_end_at_majority(
    bob: InsuredPerson, age: int, sees: bool
) -> None:
    """From the birth date itself, before the daily job has ended the rows."""
    lea = make_person("Léa", "Martin", years_ago(age), sex="F")
    record = ensure_care_record(lea)
    document = stored_document(record, "Carnet de vaccination")
    assistant(record, bob, during_minority=True)
    api = Api(issue_token(patient_app(), person=lea, actor=bob))

    found = seen(api, record, {"carnet": document})

    if sees:
        assert found == {
            "patient": str(record.public_id),
            "search": {"carnet"},
            "read": {"carnet"},
            "binary": {"carnet"},
        }
    else:
        assert found == NOTHING


def test_another_person_sees_nothing_and_is_audited(
    charlie: InsuredPerson, alice_record: CareRecord, docs: Docs
) -> None:
    ensure_care_record(charlie)
    api = Api(issue_token(patient_app(), person=charlie))

    assert seen(api, alice_record, docs) == NOTHING
    for path in (
        f"RelatedPerson?patient={alice_record.public_id}",
        f"AuditEvent?patient={alice_record.public_id}",
        f"Consent?patient={alice_record.public_id}",
    ):
        not_found(api.get(path))
    refusals = AuditEvent.objects.filter(
        event_type=EventType.ACCESS_DENIED, actor=f"person:{charlie.pk}"
    )
    assert refusals.exists()
    assert {event.details["reason"] for event in refusals} >= {"not_holder_nor_assistant"}


def test_an_app_launched_for_one_record_never_reads_another(
    alice: InsuredPerson, bob: InsuredPerson, alice_record: CareRecord, docs: Docs
) -> None:
    """Bob assists alice, and has his own record: an app he launched for himself does not
    read alice's, nor one he launched for alice his."""
    bob_record = ensure_care_record(bob)
    bobs = {"bob": stored_document(bob_record, "Le document de Bob")}
    assistant(alice_record, bob)
    for_bob = Api(issue_token(patient_app(), person=bob))
    for_alice = Api(issue_token(patient_app(), person=alice, actor=bob))

    assert seen(for_bob, alice_record, docs) == NOTHING
    assert seen(for_alice, bob_record, bobs) == NOTHING
    # Each one reads its own, and its search without `patient` is its launch patient's.
    assert ids(validated(for_bob.get("DocumentReference"))) == {str(bobs["bob"].public_id)}
    assert validated(for_alice.get("DocumentReference"))["total"] == len(CURRENT)
    assert ids(validated(for_bob.get("Patient"))) == {str(bob_record.public_id)}
    assert ids(validated(for_alice.get("Patient"))) == {str(alice_record.public_id)}


def test_a_closed_record_shows_its_holder_no_document_and_its_assistants_nothing(
    alice: InsuredPerson, bob: InsuredPerson, alice_record: CareRecord, docs: Docs
) -> None:
    assistant(alice_record, bob)
    holder = Api(issue_token(patient_app(), person=alice))
    helper = Api(issue_token(patient_app(), person=alice, actor=bob))
    CareRecord.objects.filter(pk=alice_record.pk).update(closed_at=timezone.now())

    assert seen(holder, alice_record, docs) == {
        "patient": str(alice_record.public_id),
        "search": set(),
        "read": set(),
        "binary": set(),
    }
    assert seen(helper, alice_record, docs) == NOTHING


@pytest.mark.parametrize(
    "path",
    [
        "RelatedPerson?patient={record}",
        "RelatedPerson/{assistant}",
        "AuditEvent?patient={record}",
        "AuditEvent/{entry}",
        "Consent?patient={record}",
        "Consent/assistant-{assistant}",
    ],
)
def test_professionals_never_read_the_patients_side(
    paul_api: Api, alice_record: CareRecord, bob: InsuredPerson, path: str
) -> None:
    """The assistants, the journal and the consents are the holder's and assistants'."""
    row = assistant(alice_record, bob)
    validated(paul_api.get(f"Patient/{alice_record.public_id}"))  # a journal line to ask for
    entry = alice_record.journal.first()
    assert entry is not None

    response = paul_api.get(
        path.format(record=alice_record.public_id, assistant=row.public_id, entry=entry.public_id)
    )

    refused(response, 403, "forbidden")


def test_a_professional_with_no_access_gets_no_patient_side_either(
    alice_record: CareRecord,
) -> None:
    """An earlier refusal (the type) than the gate's: it says nothing of the record."""
    api = Api(issue_token(practice_software(), professional=make_sophie()))

    refused(api.get(f"Consent?patient={alice_record.public_id}"), 403, "forbidden")
    refused(api.get("Consent?patient=8d9b5c8e-2f0b-4a8e-9a55-5a0d5c1d1f00"), 403, "forbidden")


# The token itself ---------------------------------------------------------------------------


def test_a_request_without_a_token_is_asked_for_one(alice_record: CareRecord) -> None:
    response = Api("").client.get(f"/fhir/Patient/{alice_record.public_id}")

    refused(response, 401, "login")
    assert response["WWW-Authenticate"] == 'Bearer realm="eSante FHIR"'


@pytest.mark.parametrize("how", ["expired", "revoked", "unknown", "consent_withdrawn"])
def test_a_dead_token_is_refused_with_a_challenge(
    alice: InsuredPerson, alice_record: CareRecord, how: str
) -> None:
    token = issue_token(patient_app(), person=alice)
    if how == "expired":
        Token.objects.update(issued_at=timezone.now() - datetime.timedelta(seconds=601))
    elif how == "revoked":
        Token.objects.update(revoked_at=timezone.now())
    elif how == "unknown":
        token = "not-a-token-of-ours"
    else:
        Consent.objects.update(withdrawn_at=timezone.now())

    response = Api(token).get(f"Patient/{alice_record.public_id}")

    refused(response, 401, "login")
    assert response["WWW-Authenticate"] == 'Bearer realm="eSante FHIR", error="invalid_token"'


def test_a_token_not_issued_for_fhir_is_forbidden(
    alice: InsuredPerson, alice_record: CareRecord
) -> None:
    app = patient_app(scopes=["openid", "profile"])
    api = Api(issue_token(app, person=alice))

    refused(api.get(f"Patient/{alice_record.public_id}"), 403, "forbidden")


@pytest.mark.parametrize(
    ("scopes", "allowed", "forbidden"),
    [
        (["patient/Patient.rs"], ["Patient/{record}", "Patient"], ["DocumentReference"]),
        (
            ["patient/DocumentReference.r"],
            ["DocumentReference/{document}"],
            ["DocumentReference", "Binary/{document}", "Patient/{record}"],
        ),
        (
            ["patient/DocumentReference.s", "patient/Binary.r"],
            ["DocumentReference", "Binary/{document}"],
            ["DocumentReference/{document}"],
        ),
        (["patient/*.read"], ["DocumentReference", "Patient/{record}"], []),  # SMART 1.0
        (["user/*.rs"], [], ["Patient/{record}", "DocumentReference"]),  # a professional's
        (["patient/*.rs"], ["Consent", "AuditEvent", "RelatedPerson"], []),
        (["patient/AuditEvent.rs"], ["AuditEvent"], ["Consent", "RelatedPerson"]),
    ],
)
def test_each_scope_allows_its_type_and_right_only(
    alice: InsuredPerson,
    alice_record: CareRecord,
    scopes: list[str],
    allowed: list[str],
    forbidden: list[str],
) -> None:
    document = stored_document(alice_record)
    api = Api(issue_token(patient_app(), person=alice, scopes=["openid", *scopes]))

    def path(each: str) -> str:
        return each.format(record=alice_record.public_id, document=document.public_id)

    for each in allowed:
        response = api.get(path(each), Accept="application/fhir+json")
        validated(response)
    for each in forbidden:
        response = api.get(path(each))
        refused(response, 403, "forbidden")
        assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_a_professionals_token_with_patient_scopes_reads_nothing(
    paul: Professional, alice_record: CareRecord, paul_api: Api
) -> None:
    """Paul has a care relationship (`paul_api`); `patient/` scopes are no `user/` ones."""
    software = practice_software(scopes=["openid", "patient/*.rs"])
    api = Api(issue_token(software, professional=paul))

    refused(api.get(f"Patient/{alice_record.public_id}"), 403, "forbidden")


def test_refused_tokens_are_counted_per_address(
    monkeypatch: pytest.MonkeyPatch, alice: InsuredPerson, alice_record: CareRecord
) -> None:
    """As at userinfo: an address that sent too many bad tokens waits, a good one too."""
    monkeypatch.setitem(
        ratelimit.RATE_LIMITS, "oidc.bearer.failed", (ratelimit.Rule("ip", 2, ratelimit.HOUR),)
    )
    for _ in range(2):
        refused(Api("guessed").get(f"Patient/{alice_record.public_id}"), 401, "login")

    response = Api(issue_token(patient_app(), person=alice)).get(
        f"Patient/{alice_record.public_id}"
    )

    refused(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
