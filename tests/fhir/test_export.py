"""« Télécharger mon dossier » (issue 19, point 5): the holder's or an active assistant's
copy of a DSP, one ZIP — the documents' files, dossier.json (a FHIR R4 Bundle of type
collection), index.html — sent by a POST after a fresh second factor, streamed, journaled
and audited, rate-limited; 404 for anyone else."""

from __future__ import annotations

import datetime
import io
import json
import time
import tracemalloc
import uuid
import zipfile
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import time_machine
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from esante.audit.models import AuditEvent, EventType
from esante.professionals.models import Professional
from esante.records import care, documents
from esante.records.actions import add_assistant, close_record, remove_assistant
from esante.records.models import (
    AccessAction,
    AccessEntry,
    Capacity,
    CareRecord,
    Category,
    Confidentiality,
    Document,
)
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings
from tests.accounts.test_login import step_up
from tests.accounts.test_rate_limits import prefill
from tests.accounts.wizard import page_text
from tests.records.care_people import make_paul
from tests.records.conftest import logged_in

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["activation_settings"]

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(minutes=11)  # the second factor proven at login is stale then
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def alice_client(alice: InsuredPerson) -> Client:
    return logged_in(alice, "alice@example.lu")


@pytest.fixture
def bob_client(bob: InsuredPerson) -> Client:
    return logged_in(bob, "bob@example.lu")


@pytest.fixture
def record(alice_client: Client, alice: InsuredPerson) -> CareRecord:
    return CareRecord.objects.get(person=alice)


@pytest.fixture
def paul(db: None) -> Professional:
    return make_paul()


def page_url(record: CareRecord) -> str:
    return reverse("fhir:export", args=[record.public_id])


def stored(content: bytes = PDF) -> str:
    return documents.storage().save("test/document", io.BytesIO(content))


def document(record: CareRecord, title: str, content: bytes = PDF, **fields: Any) -> Document:
    values: dict[str, Any] = {
        "record": record,
        "category": Category.LABORATORY,
        "title": title,
        "author": "Laboratoires Réunis",
        "document_date": datetime.date(2026, 2, 1),
        "stored_name": stored(content),
        "content_type": "application/pdf",
        "size": len(content),
        **fields,
    }
    return Document.objects.create(**values)


def download(client: Client, record: CareRecord) -> tuple[StreamingHttpResponse, zipfile.ZipFile]:
    response = client.post(page_url(record))
    assert response.status_code == 200, response
    assert isinstance(response, StreamingHttpResponse)
    return response, zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def bundle_of(archive: zipfile.ZipFile) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(archive.read("dossier.json"))
    return data


def resources_of(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    ]


def test_mon_dsp_leads_to_a_page_that_says_what_the_zip_holds(
    alice_client: Client, record: CareRecord
) -> None:
    record_page = page_text(alice_client.get(reverse("records:record", args=[record.public_id])))
    page = alice_client.get(page_url(record))

    assert f'href="{page_url(record)}"' in record_page
    assert "Télécharger mon dossier" in record_page
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    text = page_text(page)
    for part in ("index.html", "dossier.json", "FHIR R4", "historique des accès"):
        assert part in text
    # The button is a form's POST, with its CSRF token: a GET never sends the ZIP.
    assert f'<form method="post" action="{page_url(record)}">' in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert not AccessEntry.objects.filter(action=AccessAction.EXPORT).exists()


def test_a_post_from_another_site_sends_nothing(alice_client: Client, record: CareRecord) -> None:
    """Without the page's CSRF token (a form on another site), no ZIP and no journal line."""
    alice_client.handler.enforce_csrf_checks = True

    response = alice_client.post(page_url(record))

    assert response.status_code == 403
    assert not isinstance(response, StreamingHttpResponse)
    assert not AccessEntry.objects.filter(action=AccessAction.EXPORT).exists()


def test_a_stale_second_factor_leads_to_the_step_up_then_back_to_the_page(
    alice_client: Client, record: CareRecord
) -> None:
    page = page_url(record)
    with time_machine.travel(timezone.now() + LATER):
        stale = alice_client.post(page)
        back = step_up(alice_client, back_to=page)
        _response, archive = download(alice_client, record)

    assert stale.status_code == 302
    assert stale["Location"] == f"{reverse('patient:step_up')}?suivant={quote(page, safe='')}"
    assert back["Location"] == page  # by GET, to the page: the person presses again
    assert "dossier.json" in archive.namelist()
    assert AccessEntry.objects.filter(action=AccessAction.EXPORT).count() == 1


def test_the_holder_gets_every_listed_document_and_the_record_as_a_valid_bundle(
    alice_client: Client,
    alice: InsuredPerson,
    bob: InsuredPerson,
    record: CareRecord,
    paul: Professional,
) -> None:
    logged_in(bob, "bob@example.lu")  # an account, to be an assistant
    add_assistant(record, bob, role="Père", actor=alice, capacity=Capacity.OWNER, ip_address=None)
    care.grant_relationship(record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None)
    lab = document(record, "Bilan sanguin", professional=paul, author=paul.full_name)
    masked = document(
        record,
        "Consultation psychiatrique",
        b"%PDF-1.4 masked\n",
        category=Category.HOSPITAL,
        masked_at=timezone.now(),
        confidentiality=Confidentiality.VERY_RESTRICTED,
    )
    odd = document(record, "Radio / genou\u202egpj.exe", b"%PDF-1.4 odd\n")
    old = document(record, "Ancienne version", superseded_at=timezone.now())
    gone = document(record, "Document retiré", withdrawn_at=timezone.now())
    listed = [lab, masked, odd]

    response, archive = download(alice_client, record)

    assert response["Content-Type"] == "application/zip"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="dsp-martin-alice-{today}.zip"'
    assert {"private", "no-store"} <= {
        part.strip() for part in response["Cache-Control"].split(",")
    }
    names = archive.namelist()
    assert archive.testzip() is None
    files = [name for name in names if name.startswith("documents/")]
    assert sorted(names) == sorted(["dossier.json", "index.html", *files])
    assert len(files) == len(set(files)) == len(listed)

    bundle = bundle_of(archive)
    Bundle.model_validate(bundle)  # a valid R4 (R4B) Bundle
    assert bundle["type"] == "collection"
    assert bundle["timestamp"]
    (patient,) = resources_of(bundle, "Patient")
    assert patient["id"] == str(record.public_id)
    assert "identifier" not in patient  # no matricule in a file that may travel
    (assistant,) = resources_of(bundle, "RelatedPerson")
    assert assistant["name"][0]["given"] == ["Bob"]
    assert [each["id"] for each in resources_of(bundle, "Practitioner")] == [str(paul.public_id)]
    references = {each["id"]: each for each in resources_of(bundle, "DocumentReference")}
    assert set(references) == {str(each.public_id) for each in listed}
    for each in listed:
        path = references[str(each.public_id)]["content"][0]["attachment"]["url"]
        assert path.startswith("documents/2026-02-01-")
        assert path.isascii()
        assert path in names
        with documents.storage().open(each.stored_name, "rb") as handle:
            assert archive.read(path) == handle.read()
    assert str(old.public_id) not in references
    assert str(gone.public_id) not in references
    policies = {each["policyRule"]["coding"][0]["code"] for each in resources_of(bundle, "Consent")}
    assert policies == {"assistant-dsp", "care-granted", "masked-document"}
    events = resources_of(bundle, "AuditEvent")
    assert events[0]["subtype"][0]["code"] == "export"  # its own line, newest first
    assert len(events) == AccessEntry.objects.filter(record=record).count()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"].endswith(f"/fhir/{resource['resourceType']}/{resource['id']}")

    index = archive.read("index.html").decode()
    assert index.startswith("<!DOCTYPE html>")
    assert "<script" not in index
    assert '<html lang="fr">' in index
    for each in listed:
        assert each.title in index
        path = references[str(each.public_id)]["content"][0]["attachment"]["url"]
        assert f'<a href="{path}">' in index
    assert "Masqué" in index
    assert "Très restreint" in index
    assert "Bob Martin" in index
    assert "Paul Reding" in index
    assert "dossier.json" in index


def test_an_active_assistant_gets_the_copy_with_the_same_rights(
    alice: InsuredPerson, bob: InsuredPerson, bob_client: Client, record: CareRecord
) -> None:
    add_assistant(record, bob, role="", actor=alice, capacity=Capacity.OWNER, ip_address=None)
    masked = document(record, "Consultation psychiatrique", masked_at=timezone.now())

    page = page_text(bob_client.get(page_url(record)))
    _response, archive = download(bob_client, record)

    assert "Télécharger ce dossier" in page
    (reference,) = resources_of(bundle_of(archive), "DocumentReference")
    assert reference["id"] == str(masked.public_id)  # masked: hidden from professionals only
    assert reference["content"][0]["attachment"]["url"] in archive.namelist()
    assert "Copie téléchargée le" in archive.read("index.html").decode()
    assert "par Bob Martin." in archive.read("index.html").decode()
    entry = AccessEntry.objects.get(action=AccessAction.EXPORT)
    assert (entry.actor, entry.capacity) == (bob, Capacity.ASSISTANT)


def test_an_outsider_and_an_ended_assistant_get_404(
    alice: InsuredPerson,
    bob: InsuredPerson,
    charlie: InsuredPerson,
    bob_client: Client,
    record: CareRecord,
) -> None:
    charlie_client = logged_in(charlie, "charlie@example.lu", declare=False)
    add_assistant(record, bob, role="", actor=alice, capacity=Capacity.OWNER, ip_address=None)
    assert bob_client.get(page_url(record)).status_code == 200
    remove_assistant(record.assistants.get(), actor=alice, capacity=Capacity.OWNER, ip_address=None)

    answers = [
        each(page_url(record)).status_code
        for each in (charlie_client.get, charlie_client.post, bob_client.get, bob_client.post)
    ]

    assert answers == [404, 404, 404, 404]
    assert not AccessEntry.objects.filter(action=AccessAction.EXPORT).exists()
    assert not AuditEvent.objects.filter(event_type=EventType.RECORD_EXPORTED).exists()


def test_the_download_is_journaled_once_and_audited(
    alice_client: Client, alice: InsuredPerson, record: CareRecord
) -> None:
    for number in range(3):
        document(record, f"Analyse {number}")

    download(alice_client, record)

    (entry,) = AccessEntry.objects.filter(record=record, action=AccessAction.EXPORT)
    assert (entry.actor, entry.capacity) == (alice, Capacity.OWNER)
    assert entry.get_action_display() == "Téléchargement du dossier"
    (event,) = AuditEvent.objects.filter(event_type=EventType.RECORD_EXPORTED)
    assert (event.person, event.actor) == (alice, f"person:{alice.pk}")
    assert event.ip_address == "127.0.0.1"
    assert event.details == {"capacity": "owner"}  # no title, no file name: staff read it


def test_the_rate_limit_answers_its_page(
    alice_client: Client, alice: InsuredPerson, record: CareRecord
) -> None:
    prefill("record.export", 10, key=f"person:{alice.pk}")

    response = alice_client.post(page_url(record))

    assert response.status_code == 429
    page = page_text(response)
    assert "Trop de copies de dossiers téléchargées pour ce compte" in page
    assert "Au plus 10 copies d'un DSP peuvent être téléchargées par jour" in page
    assert not AccessEntry.objects.filter(action=AccessAction.EXPORT).exists()


def test_the_index_is_in_the_persons_language(alice: InsuredPerson) -> None:
    client = logged_in(alice, "alice@example.lu", language="de")
    record = CareRecord.objects.get(person=alice)
    document(record, "Bilan sanguin", masked_at=timezone.now())

    _response, archive = download(client, record)

    index = archive.read("index.html").decode()
    assert '<html lang="de">' in index
    assert "Laborergebnisse" in index  # Category.LABORATORY
    assert "Masqué" not in index
    assert "Ce que contient cette copie" not in index


def test_a_missing_file_is_said_and_the_zip_stays_whole(
    alice_client: Client, record: CareRecord
) -> None:
    kept = document(record, "Bilan sanguin")
    lost = document(record, "Radiographie")
    documents.storage().delete(lost.stored_name)

    _response, archive = download(alice_client, record)

    assert archive.testzip() is None
    references = {
        each["id"]: each["content"][0]["attachment"]
        for each in resources_of(bundle_of(archive), "DocumentReference")
    }
    assert "url" not in references[str(lost.public_id)]
    assert references[str(kept.public_id)]["url"] in archive.namelist()
    assert len([name for name in archive.namelist() if name.startswith("documents/")]) == 1
    index = archive.read("index.html").decode()
    assert "Le fichier de 1 document n'a pas pu être copié" in index
    assert "Fichier non copié" in index


def test_a_closed_record_is_copied_without_its_documents(
    alice_client: Client, alice: InsuredPerson, record: CareRecord
) -> None:
    document(record, "Bilan sanguin")
    close_record(record, actor=alice)

    page = page_text(alice_client.get(page_url(record)))
    _response, archive = download(alice_client, record)

    assert "Ce DSP est fermé" in page
    assert not [name for name in archive.namelist() if name.startswith("documents/")]
    bundle = bundle_of(archive)
    assert not resources_of(bundle, "DocumentReference")
    assert resources_of(bundle, "AuditEvent")
    assert "Ce DSP est fermé" in archive.read("index.html").decode()


def test_names_are_unique_even_when_date_title_and_short_id_agree(
    alice_client: Client, record: CareRecord
) -> None:
    twins = [
        document(record, "Bilan", public_id=uuid.UUID(f"12345678-0000-4000-8000-00000000000{n}"))
        for n in (1, 2)
    ]

    _response, archive = download(alice_client, record)

    files = [name for name in archive.namelist() if name.startswith("documents/")]
    assert len(files) == len(set(files)) == 2
    references = resources_of(bundle_of(archive), "DocumentReference")
    assert {each["content"][0]["attachment"]["url"] for each in references} == set(files)
    assert {each["id"] for each in references} == {str(each.public_id) for each in twins}


def test_what_changes_during_the_download_changes_none_of_its_parts(
    alice_client: Client, alice: InsuredPerson, record: CareRecord
) -> None:
    """The three parts are made one after the other: all show the record as it stood when
    the download started."""
    big = b"%PDF-1.4\n" + bytes(range(256)) * 400  # 100 KB: the first piece goes out alone
    first = document(record, "Compte rendu", big, document_date=datetime.date(2026, 3, 1))
    second = document(record, "Ordonnance", big, document_date=datetime.date(2026, 2, 1))
    response = alice_client.post(page_url(record))
    assert isinstance(response, StreamingHttpResponse)
    pieces = iter(response.streaming_content)
    head = [next(pieces)]  # the first document is on its way

    document(record, "Ajouté pendant le téléchargement")
    Document.objects.filter(pk=second.pk).update(withdrawn_at=timezone.now())
    archive = zipfile.ZipFile(io.BytesIO(b"".join([*head, *pieces])))

    expected = {str(first.public_id), str(second.public_id)}
    references = resources_of(bundle_of(archive), "DocumentReference")
    assert {each["id"] for each in references} == expected
    files = {name for name in archive.namelist() if name.startswith("documents/")}
    assert {each["content"][0]["attachment"]["url"] for each in references} == files
    index = archive.read("index.html").decode()
    assert "Ordonnance" in index
    assert "Ajouté pendant" not in index


def test_a_record_of_1000_documents_streams_in_a_fraction_of_its_size(
    alice_client: Client, alice: InsuredPerson, record: CareRecord, tmp_path: Path
) -> None:
    """1,000 documents of 20 KB and 1,000 journal lines: the response is a stream, and
    copying it out holds a small fraction of the ZIP in memory at any time."""
    files = [stored(b"%PDF-1.4\n" + bytes([n]) * 20_000) for n in range(4)]
    Document.objects.bulk_create(
        Document(
            record=record,
            category=Category.LABORATORY,
            title=f"Analyse de sang numéro {number}",
            author="Laboratoires Réunis",
            document_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=number),
            stored_name=files[number % 4],
            content_type="application/pdf",
            size=20_009,
        )
        for number in range(1000)
    )
    AccessEntry.objects.bulk_create(
        AccessEntry(
            record=record, actor=alice, capacity=Capacity.OWNER, action=AccessAction.READ_RECORD
        )
        for _number in range(1000)
    )
    response = alice_client.post(page_url(record))
    assert isinstance(response, StreamingHttpResponse)
    copy = tmp_path / "copy.zip"

    started = time.monotonic()
    tracemalloc.start()
    try:
        with copy.open("wb") as out:
            for piece in response.streaming_content:
                out.write(piece)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    seconds = time.monotonic() - started

    size = copy.stat().st_size
    print(f"1,000 documents: ZIP {size:,} bytes, peak {peak:,} bytes traced, {seconds:.1f} s")
    assert size > 20_000_000
    assert peak < size / 4
    with zipfile.ZipFile(copy) as archive:
        names = archive.namelist()
        assert len(names) == 1002
        bundle = json.loads(archive.read("dossier.json"))
    assert len(resources_of(bundle, "DocumentReference")) == 1000
    assert (
        len(resources_of(bundle, "AuditEvent")) == AccessEntry.objects.filter(record=record).count()
    )
