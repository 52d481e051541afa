"""The demo's health professionals: the authors of the demo documents, and a few others,
loaded by `esante load-demo` without changing anything the second time."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from esante.audit.models import AuditEvent, EventType
from esante.demo.documents import DOCUMENTS
from esante.demo.professionals import load_demo_professionals
from esante.professionals import national_code
from esante.professionals.models import Profession, Professional
from esante.records.models import Category
from tests.csv_files import counts

pytestmark = pytest.mark.django_db


def test_demo_professionals_have_valid_distinct_codes_and_practices_in_luxembourg() -> None:
    result = load_demo_professionals()

    professionals = list(Professional.objects.all())
    assert counts(result) == (len(professionals), 0, 0, 0)
    assert 10 <= len(professionals) <= 30
    for professional in professionals:
        assert national_code.validate(professional.national_code) == professional.national_code
        assert professional.is_active
        assert (professional.country, professional.postal_code[:2]) == ("LU", "L-")
        assert professional.address_line1 and professional.locality
    professions = {professional.profession for professional in professionals}
    assert {
        Profession.PHYSICIAN,
        Profession.LABORATORY,
        Profession.PHARMACIST,
        Profession.NURSE,
        Profession.PHYSIOTHERAPIST,
        Profession.MIDWIFE,
    } <= professions


def test_every_author_of_a_demo_document_is_a_demo_professional() -> None:
    load_demo_professionals()
    physicians = {
        f"Dr {professional.first_name} {professional.last_name}": professional
        for professional in Professional.objects.filter(profession=Profession.PHYSICIAN)
    }
    laboratories = set(
        Professional.objects.filter(profession=Profession.LABORATORY).values_list(
            "last_name", flat=True
        )
    )

    documents = [document for documents in DOCUMENTS.values() for document in documents]
    assert documents
    for document in documents:
        if document.category == Category.LABORATORY:
            assert document.author in laboratories, document.title
        else:
            # The author as the document writes it: « Dr Paul Reding, Cabinet médical… ».
            author = physicians[document.signatory.name]
            assert document.author == f"{document.signatory.name}, {document.provider.name}"
            # Their practice: one of the providers whose documents they sign.
            signed_at = {
                other.provider.name for other in documents if other.signatory == document.signatory
            }
            assert any(author.practice_name.startswith(name) for name in signed_at)


def test_loading_the_demo_twice_changes_nothing_and_audits_only_the_first_time(
    settings: Any,
) -> None:
    settings.ESANTE_DEMO = True
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    before = list(Professional.objects.order_by("pk").values())
    events = AuditEvent.objects.filter(event_type=EventType.PROFESSIONALS_IMPORTED)
    assert events.count() == 1
    assert events.get().details["created"] == len(before)
    assert f"{len(before)} professionnels de santé de démonstration" in out.getvalue()

    second = load_demo_professionals()

    assert counts(second) == (0, 0, len(before), 0)
    assert list(Professional.objects.order_by("pk").values()) == before
    assert events.count() == 1
