"""Pages write dates as their language does in Luxembourg: the day first in English too
(18/09/2026, « 18 September 2026 »; never the ambiguous 09/18/2026), 18.09.2026 in German,
French unchanged."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import page_text
from tests.records.test_documents import provider_document

pytestmark = pytest.mark.django_db

DOCUMENT_DATE = datetime.date(2026, 9, 18)


def record_and_document_pages(client: Client, alice: InsuredPerson, language: str) -> list[str]:
    """The record's list of documents and the document's own page, in `language`."""
    response = client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code == 302
    record = CareRecord.objects.get(person=alice)
    document = provider_document(record, document_date=DOCUMENT_DATE)
    return [
        page_text(client.get(reverse("records:record", args=[record.public_id]))),
        page_text(
            client.get(reverse("records:document", args=[record.public_id, document.public_id]))
        ),
    ]


@pytest.mark.parametrize(
    ("language", "short", "long"),
    [
        ("en", "18/09/2026", "18 September 2026"),
        ("de", "18.09.2026", "18. September 2026"),
        ("fr", "18/09/2026", "18 septembre 2026"),
    ],
)
def test_a_page_writes_its_dates_as_its_language_does(
    alice_client: Client, alice: InsuredPerson, language: str, short: str, long: str
) -> None:
    record_page, document_page = record_and_document_pages(alice_client, alice, language)

    assert short in record_page
    assert long in document_page


def test_an_english_page_never_writes_the_month_first(
    alice_client: Client, alice: InsuredPerson
) -> None:
    record_page, document_page = record_and_document_pages(alice_client, alice, "en")

    assert "09/18/2026" not in record_page
    assert "Sept. 18, 2026" not in document_page
