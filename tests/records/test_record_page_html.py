"""The record page prints the very bytes it printed before its rendering was made cheaper
(issue 16): every case of the page against a copy saved under record_pages/.

The holder and an assistant; a closed record; masked, restricted and very restricted
documents, one with markup in its title; German and English; with and without assistants;
with and without the organ-donation answer; the category filter (a match, none, a bogus
value); the new-assistant row, a search's refusal and its candidate; an upload's errors.
Only what differs between runs is replaced before comparing: the CSRF tokens, and the
identifiers and dates the test data gets (public ids, eSanté ids, matricules). After a
deliberate change to the page, write the copies again:

    RECORD_PAGES_WRITE=1 .venv/bin/pytest tests/records/test_record_page_html.py
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.records.models import Assistant, CareRecord, Category, Confidentiality, Document
from esante.registry.models import InsuredPerson
from tests.factories import make_person
from tests.records.conftest import logged_in
from tests.records.test_documents import provider_document

pytestmark = pytest.mark.django_db

PAGES = Path(__file__).parent / "record_pages"
WRITE = os.environ.get("RECORD_PAGES_WRITE") == "1"
LUXEMBOURG = datetime.timezone(datetime.timedelta(hours=1))
MOMENT = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=LUXEMBOURG)
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")')


class Pages:
    """Each page normalised, then compared with (or written to) its saved copy."""

    def __init__(self) -> None:
        self.replacements: list[tuple[str, str]] = []
        self.mismatches: list[str] = []

    def name(self, value: object, placeholder: str) -> None:
        self.replacements.append((str(value), placeholder))

    def person(self, person: InsuredPerson, label: str) -> None:
        self.name(person.esante_id, f"ESANTE-ID-{label}")
        self.name(person.matricule, f"MATRICULE-{label}")

    def record(self, record: CareRecord, label: str) -> None:
        self.name(record.public_id, f"RECORD-{label}")
        for number, document in enumerate(record.documents.order_by("pk")):
            self.name(document.public_id, f"DOCUMENT-{label}-{number}")

    def check(self, case: str, html: str) -> None:
        html = CSRF.sub(r"\1CSRF\2", html)
        for value, placeholder in self.replacements:
            html = html.replace(value, placeholder)
        path = PAGES / f"{case}.html"
        if WRITE:
            PAGES.mkdir(exist_ok=True)
            path.write_text(html, encoding="utf-8")
        else:
            saved = path.read_text(encoding="utf-8")
            if saved != html:
                diff = difflib.unified_diff(saved.splitlines(), html.splitlines(), lineterm="")
                self.mismatches.append(f"{case}:\n" + "\n".join(list(diff)[2:12]))


def page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def posted(client: Client, url: str, data: dict[str, object], status: int) -> str:
    response = client.post(url, data)
    assert response.status_code == status, url
    return response.content.decode()


def in_language(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture
def moment() -> Iterator[None]:
    with time_machine.travel(MOMENT, tick=True):
        yield


def test_the_record_page_prints_the_same_html_in_every_case(
    moment: None, alice: InsuredPerson, bob: InsuredPerson, charlie: InsuredPerson
) -> None:
    pages = Pages()
    pages.person(alice, "ALICE")
    pages.person(bob, "BOB")
    pages.person(charlie, "CHARLIE")
    alice_client = logged_in(alice, "alice@example.lu")  # answered: accepts
    bob_client = logged_in(bob, "bob@example.lu", declare=False)
    record = CareRecord.objects.get(person=alice)
    url = reverse("records:record", args=[record.public_id])

    pages.record(record, "ALICE")
    pages.check("holder_empty_first_view", page(alice_client, url))  # with its message
    pages.check("holder_empty", page(alice_client, url))

    provider_document(record)
    provider_document(
        record,
        title="Radio <thorax> & « face »",
        category=Category.IMAGING,
        author="Hôpital Kirchberg",
        document_date=datetime.date(2026, 5, 3),
        masked_at=timezone.now(),
    )
    provider_document(
        record,
        title="Ordonnance",
        category=Category.PRESCRIPTION,
        confidentiality=Confidentiality.RESTRICTED,
    )
    provider_document(
        record,
        title="Compte rendu",
        category=Category.HOSPITAL,
        confidentiality=Confidentiality.VERY_RESTRICTED,
        masked_at=timezone.now(),
        document_date=datetime.date(2025, 12, 31),
    )
    own = provider_document(record, title="Certificat", category=Category.PATIENT)
    Document.objects.filter(pk=own.pk).update(uploaded_by=alice)
    pages.record(record, "ALICE")

    pages.check("holder_documents", page(alice_client, url))
    pages.check("holder_filter_match", page(alice_client, url + "?categorie=laboratory"))
    pages.check("holder_filter_none", page(alice_client, url + "?categorie=vaccination"))
    pages.check("holder_filter_bogus", page(alice_client, url + "?categorie=bogus"))
    pages.check("holder_adding", page(alice_client, url + "?ajouter=1"))

    search = reverse("records:assistant_search", args=[record.public_id])
    pages.check("holder_search_refused", posted(alice_client, search, {"numero": "12"}, 400))
    found = posted(alice_client, search, {"numero": bob.matricule}, 200)
    pages.check("holder_search_found", found)
    upload = reverse("records:upload", args=[record.public_id])
    refused = posted(alice_client, upload, {"title": "", "document_date": "2099-01-01"}, 400)
    pages.check("holder_upload_refused", refused)

    ended = make_person("Paul", "Kieffer", datetime.date(1980, 3, 2))
    pages.person(ended, "PAUL")
    Assistant.objects.create(record=record, person=ended, added_by=alice, ended_at=timezone.now())
    pages.check("holder_ended_assistant_only", page(alice_client, url))
    husband = Assistant.objects.create(record=record, person=bob, added_by=alice, role="Époux <b>")
    friend = Assistant.objects.create(record=record, person=charlie, added_by=alice)  # no account
    for assistant, label in ((husband, "BOB"), (friend, "CHARLIE")):
        pages.name(f"/assistants/{assistant.pk}/", f"/assistants/ASSISTANT-{label}/")
    pages.check("holder_assistants", page(alice_client, url))
    pages.check("assistant", page(bob_client, url))
    pages.check("assistant_filter", page(bob_client, url + "?categorie=imaging"))
    pages.check("assistant_de", page(in_language(bob_client, "de"), url))
    pages.check("holder_de", page(in_language(alice_client, "de"), url))
    pages.check("holder_en", page(in_language(alice_client, "en"), url))
    pages.check("holder_en_adding", page(alice_client, url + "?ajouter=1"))
    in_language(alice_client, "fr")

    organ = reverse("records:organ_donation", args=[record.public_id])
    alice_client.post(organ, {"refuses_removal": "1"})
    pages.check("holder_refuses_first_view", page(alice_client, url))
    pages.check("holder_refuses", page(alice_client, url))

    alice_client.post(reverse("records:close", args=[record.public_id]), {"confirm": "on"})
    pages.check("holder_closed_first_view", page(alice_client, url))
    pages.check("holder_closed", page(alice_client, url + "?categorie=laboratory"))
    pages.check("holder_closed_de", page(in_language(alice_client, "de"), url))
    page(bob_client, url, status=404)  # closed: no assistant
    in_language(alice_client, "fr")

    # Bob's own record, never answered: « plus tard » lets him in.
    bob_record = CareRecord.objects.get(person=bob)
    pages.record(bob_record, "BOB")
    bob_url = reverse("records:record", args=[bob_record.public_id])
    bob_organ = reverse("records:organ_donation", args=[bob_record.public_id])
    bob_client.post(bob_organ, {"refuses_removal": "later"})
    pages.check("holder_unanswered_en", page(in_language(bob_client, "en"), bob_url))

    # A minor's record, opened by her parent, assistant since her birth.
    lea = make_person("Léa", "Martin", datetime.date(2017, 11, 16), sex="F")
    pages.person(lea, "LEA")
    lea_record = CareRecord.objects.create(person=lea)
    pages.record(lea_record, "LEA")
    parent = Assistant.objects.create(
        record=lea_record, person=bob, added_by=lea, during_minority=True
    )
    pages.name(f"/assistants/{parent.pk}/", "/assistants/ASSISTANT-LEA-BOB/")
    provider_document(lea_record, title="Carnet de vaccination", category=Category.VACCINATION)
    pages.record(lea_record, "LEA")
    lea_url = reverse("records:record", args=[lea_record.public_id])
    pages.check("assistant_of_a_minor", page(in_language(bob_client, "fr"), lea_url))

    assert not pages.mismatches, "pages not as saved:\n" + "\n".join(pages.mismatches)


def test_the_blank_forms_kept_per_language_follow_the_language_and_the_size_limit(
    alice: InsuredPerson, settings: Any
) -> None:
    """The upload form's fields, the filter's select and the close box are printed once per
    language (records.views): another language or another size limit prints its own."""
    client = logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    url = reverse("records:record", args=[record.public_id])
    settings.ESANTE_UPLOAD_MAX_BYTES = 3 * 1024 * 1024

    french = page(client, url + "?categorie=imaging")
    settings.ESANTE_UPLOAD_MAX_BYTES = 7 * 1024 * 1024
    german = page(in_language(client, "de"), url + "?categorie=imaging")

    assert "PDF, JPEG ou PNG, 3 Mo au plus." in french
    assert "Je confirme vouloir fermer mon DSP." in french
    assert '<option value="imaging" selected>Imagerie médicale</option>' in french
    assert "7 MB" in german and "3 MB" not in german
    assert "Je confirme" not in german
    assert '<option value="imaging" selected>' in german
    assert "Imagerie médicale" not in german
