"""The professionals' access matrix, at the one gate (esante.records.access): nine
professionals — the author, a related one, the médecin référent, one named for the
documents, an unrelated one, a blocked one, one in an emergency, one whose relationship
has expired, one made inactive in the register — against four documents — Normal,
Restreint, Très restreint, masked — plus a replaced and a withdrawn one. Each sees
exactly what issue 17 says: 0 leaks, whether the documents are listed
(`professional_documents`) or opened one by one (`open_document_as_professional`)."""

from __future__ import annotations

import datetime
import itertools
import uuid

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from esante.audit.models import AuditEvent, EventType
from esante.professionals.models import Profession, Professional
from esante.records.access import (
    ProfessionalAccess,
    open_document_as_professional,
    open_record_as_professional,
    professional_access,
    professional_documents,
    professional_records,
)
from esante.records.models import (
    Capacity,
    CareRecord,
    CareRelationship,
    Category,
    Confidentiality,
    Document,
    EmergencyAccess,
    ProfessionalBlock,
    RelationshipOrigin,
)
from esante.registry.models import InsuredPerson
from tests.factories import make_person

pytestmark = pytest.mark.django_db

_codes = itertools.count(20000001)
LEVELS = ("normal", "restreint", "tres_restreint", "masque")
ROLES = (
    "author",
    "related",
    "referent",
    "named",
    "unrelated",
    "blocked",
    "emergency",
    "expired",
    "inactive",
)
# What each role sees of LEVELS (issue 17, point 7); None: no access to the record at all.
EXPECTED: dict[str, set[str] | None] = {
    "author": {"normal", "restreint", "tres_restreint", "masque"},
    "related": {"normal"},
    "referent": {"normal", "restreint"},
    "named": {"normal", "restreint"},
    "unrelated": None,
    "blocked": None,
    "emergency": {"normal"},
    "expired": None,
    "inactive": None,
}


def professional(
    last_name: str, profession: Profession = Profession.PHYSICIAN, **fields: object
) -> Professional:
    return Professional.objects.create(
        national_code=str(next(_codes)),
        last_name=last_name,
        first_name="Test",
        profession=profession,
        address_line1="1, rue du Test",
        postal_code="L-1111",
        locality="Luxembourg",
        **fields,
    )


def relate(
    record: CareRecord, pro: Professional, *, ends_in: datetime.timedelta | None = None
) -> CareRelationship:
    now = timezone.now()
    return CareRelationship.objects.create(
        record=record,
        professional=pro,
        origin=RelationshipOrigin.DECLARED,
        reason="Consultation",
        started_at=now - datetime.timedelta(days=1),
        ends_at=now + (ends_in or datetime.timedelta(days=30)),
    )


def document(
    record: CareRecord, title: str, level: Confidentiality, author: Professional, **fields: object
) -> Document:
    return Document.objects.create(
        record=record,
        category=Category.HOSPITAL,
        title=title,
        author=author.full_name,
        professional=author,
        document_date=timezone.localdate(),
        stored_name=f"xx/{uuid.uuid4().hex}",
        content_type="application/pdf",
        size=100,
        confidentiality=level,
        author_confidentiality=level,
        **fields,
    )


@pytest.fixture
def world() -> tuple[CareRecord, dict[str, Professional], dict[str, Document]]:
    holder: InsuredPerson = make_person("Alice", "Martin")
    record = CareRecord.objects.create(person=holder)
    pros = {role: professional(role.capitalize()) for role in ROLES}
    pros["related"].profession = Profession.NURSE  # not only physicians
    pros["related"].save()
    for role in ("author", "related", "referent", "named", "blocked", "inactive"):
        relate(record, pros[role])
    relate(record, pros["expired"], ends_in=-datetime.timedelta(minutes=1))
    record.referent = pros["referent"]
    record.save()
    ProfessionalBlock.objects.create(record=record, professional=pros["blocked"], blocked_by=holder)
    Professional.objects.filter(pk=pros["inactive"].pk).update(is_active=False)
    pros["inactive"].refresh_from_db()
    now = timezone.now()
    EmergencyAccess.objects.create(
        record=record,
        professional=pros["emergency"],
        reason="Inconscient aux urgences",
        ends_at=now + datetime.timedelta(hours=24),
    )
    # The blocked professional's emergency access too: the block wins.
    EmergencyAccess.objects.create(
        record=record,
        professional=pros["blocked"],
        reason="Urgence",
        ends_at=now + datetime.timedelta(hours=24),
    )
    author = pros["author"]
    docs = {
        "normal": document(record, "Compte rendu normal", Confidentiality.NORMAL, author),
        "restreint": document(record, "Bilan restreint", Confidentiality.RESTRICTED, author),
        "tres_restreint": document(
            record, "Note très restreinte", Confidentiality.VERY_RESTRICTED, author
        ),
        "masque": document(
            record, "Résultat masqué", Confidentiality.NORMAL, author, masked_at=now
        ),
    }
    # Named for every document: naming opens a Restreint one, nothing more.
    for each in docs.values():
        each.named_professionals.add(pros["named"])
    # Neither a replaced version nor a withdrawn document is listed, even to its author.
    old = document(record, "Ancienne version", Confidentiality.NORMAL, author, superseded_at=now)
    gone = document(record, "Document retiré", Confidentiality.NORMAL, author, withdrawn_at=now)
    docs["_replaced"] = old
    docs["_withdrawn"] = gone
    return record, pros, docs


def request() -> object:
    return RequestFactory().get("/professionnel/dsp/")


@pytest.mark.parametrize("role", ROLES)
def test_each_professional_sees_exactly_what_the_rules_say(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]], role: str
) -> None:
    record, pros, docs = world
    pro = pros[role]
    access = professional_access(record, pro)
    expected = EXPECTED[role]
    if expected is None:
        assert access is None
        with pytest.raises(Http404):
            open_record_as_professional(pro, record.public_id, request=request())  # type: ignore[arg-type]
        return
    assert access is not None
    assert access.capacity is (Capacity.EMERGENCY if role == "emergency" else Capacity.CARE)
    listed = {doc.public_id for doc in professional_documents(access)}
    assert listed == {docs[level].public_id for level in expected}
    for name, doc in docs.items():
        if name in expected:
            opened = open_document_as_professional(access, doc.public_id, request=request())  # type: ignore[arg-type]
            assert opened.pk == doc.pk
        else:
            with pytest.raises(Http404):
                open_document_as_professional(access, doc.public_id, request=request())  # type: ignore[arg-type]


def test_the_matrix_has_no_leak_in_numbers(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]],
) -> None:
    """36 cells (9 professionals × 4 levels): each one seen exactly when allowed."""
    record, pros, docs = world
    leaks, misses = [], []
    for role, level in itertools.product(ROLES, LEVELS):
        access = professional_access(record, pros[role])
        seen = (
            access is not None and professional_documents(access).filter(pk=docs[level].pk).exists()
        )
        allowed = level in (EXPECTED[role] or set())
        if seen and not allowed:
            leaks.append((role, level))
        if allowed and not seen:
            misses.append((role, level))
    assert leaks == [] and misses == []


def test_a_refusal_is_audited_and_answers_as_for_no_record(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]],
) -> None:
    record, pros, _docs = world
    for public_id in (record.public_id, uuid.uuid4()):
        with pytest.raises(Http404):
            open_record_as_professional(pros["unrelated"], public_id, request=request())  # type: ignore[arg-type]
    refusals = AuditEvent.objects.filter(
        event_type=EventType.ACCESS_DENIED, actor=f"professional:{pros['unrelated'].pk}"
    )
    assert sorted(event.details["reason"] for event in refusals) == [
        "no_care_access",
        "unknown_record",
    ]


def test_a_closed_record_is_open_to_no_professional(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]],
) -> None:
    record, pros, _docs = world
    record.closed_at = timezone.now()
    record.save()
    assert all(professional_access(record, pros[role]) is None for role in ROLES)
    assert not professional_records(pros["related"]).exists()


def test_the_holder_can_refuse_emergency_access_altogether(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]],
) -> None:
    record, pros, _docs = world
    record.refuses_emergency_access = True
    record.save()
    assert professional_access(record, pros["emergency"]) is None
    # A care relationship is no emergency: it stands.
    assert professional_access(record, pros["related"]) is not None


def test_emergency_access_is_for_physicians_and_lasts_its_hours(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]],
) -> None:
    record, pros, _docs = world
    nurse = professional("Infirmiere", Profession.NURSE)
    EmergencyAccess.objects.create(
        record=record,
        professional=nurse,
        reason="x",
        ends_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert professional_access(record, nurse) is None
    EmergencyAccess.objects.filter(professional=pros["emergency"]).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert professional_access(record, pros["emergency"]) is None


def test_the_organ_donation_declaration_is_for_physicians_only(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]],
) -> None:
    record, pros, _docs = world
    physician = professional_access(record, pros["author"])
    nurse = professional_access(record, pros["related"])
    assert isinstance(physician, ProfessionalAccess) and physician.sees_organ_declaration
    assert isinstance(nurse, ProfessionalAccess) and not nurse.sees_organ_declaration


def test_a_referent_in_an_emergency_sees_only_normal_documents(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]],
) -> None:
    record, pros, docs = world
    record.referent = pros["emergency"]
    record.save()
    access = professional_access(record, pros["emergency"])
    assert access is not None and access.capacity is Capacity.EMERGENCY
    assert set(professional_documents(access)) == {docs["normal"]}


def test_professionals_list_only_their_current_relationships(
    world: tuple[CareRecord, dict[str, Professional], dict[str, Document]],
) -> None:
    record, pros, _docs = world
    for role in ROLES:
        listed = [row.record_id for row in professional_records(pros[role])]
        has = role in ("author", "related", "referent", "named")
        assert listed == ([record.pk] if has else []), role
