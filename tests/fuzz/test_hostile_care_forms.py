"""Hostile input in the professionals' forms of the DSP (issue 17): declaring a care
relationship, an emergency access, adding, replacing and withdrawing a document. No
server error, no markup typed in reflected, and the record's gate still holds."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from esante.records.models import CareRecord, Document
from esante.registry.models import InsuredPerson
from tests.factories import forget_rate_limits
from tests.fuzz.hostile import (
    Value,
    assert_safe,
    form,
    fuzz_settings,
    hostile_text,
    matricule_text,
)
from tests.practice.conftest import (
    PAUL,
    PDF,
    professional_client,
    register,
    relate,
    stored_document,
)

pytestmark = pytest.mark.django_db

hostile_date = st.one_of(st.sampled_from(["2026-03-14", "1899-12-31", "2999-01-01"]), hostile_text)
hostile_level = st.one_of(st.sampled_from(["N", "R", "V", "X"]), hostile_text)
hostile_category = st.one_of(st.sampled_from(["hospital", "patient", "laboratory"]), hostile_text)
hostile_confirm = st.one_of(st.just("on"), hostile_text)
# A PDF, something that starts as one, anything, nothing.
pdf_or_not = st.one_of(
    st.just(PDF),
    st.binary(max_size=200).map(lambda tail: b"%PDF-" + tail),
    st.binary(max_size=200),
    st.just(b""),
)


@pytest.fixture
def paul_at_work(alice: InsuredPerson) -> dict[str, Any]:
    """Paul logged in, in a care relationship with Alice, one of his reports in her record."""
    paul = register(PAUL)
    record = CareRecord.objects.get_or_create(person=alice)[0]
    relate(record, paul)
    own = stored_document(record, title="Compte rendu", professional=paul)
    client = professional_client(paul)
    return {
        "client": client,
        "cookies": SimpleCookie(client.cookies.output(header="", sep="\n")),
        "record": record,
        "own": own,
        "alice": alice,
    }


def as_paul(world: dict[str, Any]) -> Client:
    """Paul's client as at the first example: his session only, no rate limit counted."""
    client: Client = world["client"]
    forget_rate_limits()
    client.cookies = SimpleCookie()
    client.cookies[settings.SESSION_COOKIE_NAME] = world["cookies"][
        settings.SESSION_COOKIE_NAME
    ].value
    return client


def names_and_matricules(world: dict[str, Any]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(world["alice"].matricule), matricule_text)


@fuzz_settings("care_declare")
@given(st.data())
def test_declare(paul_at_work: dict[str, Any], data: st.DataObject) -> None:
    body = data.draw(
        form(
            {
                "matricule": names_and_matricules(paul_at_work),
                "last_name": st.one_of(st.just("Martin"), hostile_text),
                "reason": hostile_text,
            }
        ),
        label="body",
    )
    response = as_paul(paul_at_work).post(reverse("practice:declare"), body)
    assert_safe(response, body)
    assert response.status_code in (302, 400), response.status_code


@fuzz_settings("care_emergency")
@given(st.data())
def test_emergency(paul_at_work: dict[str, Any], data: st.DataObject) -> None:
    body = data.draw(
        form(
            {
                "matricule": names_and_matricules(paul_at_work),
                "last_name": st.one_of(st.just("Martin"), hostile_text),
                "reason": hostile_text,
                "confirm": hostile_confirm,
            }
        ),
        label="body",
    )
    response = as_paul(paul_at_work).post(reverse("practice:emergency"), body)
    assert_safe(response, body)
    assert response.status_code in (302, 400), response.status_code


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or "x", content, content_type="application/pdf")


# (Names the test client can send: it refuses to build one it cannot name.)
hostile_file = st.builds(
    upload, pdf_or_not, st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=30)
)


@fuzz_settings("care_document")
@given(st.data(), hostile_file)
def test_add_document(
    paul_at_work: dict[str, Any], data: st.DataObject, file: SimpleUploadedFile
) -> None:
    body: dict[str, Any] = dict(
        data.draw(
            form(
                {
                    "category": hostile_category,
                    "title": hostile_text,
                    "document_date": hostile_date,
                    "confidentiality": hostile_level,
                }
            ),
            label="body",
        )
    )
    if data.draw(st.booleans(), label="with a file"):
        body["file"] = file
    record = paul_at_work["record"]
    url = reverse("practice:add_document", args=[record.public_id])
    response = as_paul(paul_at_work).post(url, body)
    assert_safe(response, {k: v for k, v in body.items() if k != "file"})
    assert response.status_code in (302, 400), response.status_code


@fuzz_settings("care_own_document")
@given(st.data(), hostile_file)
def test_replace_and_withdraw(
    paul_at_work: dict[str, Any], data: st.DataObject, file: SimpleUploadedFile
) -> None:
    record, paul = paul_at_work["record"], paul_at_work["own"].professional
    # His current report: a replaced or withdrawn one is no longer his to change.
    own = Document.objects.filter(
        record=record, professional=paul, superseded_at__isnull=True, withdrawn_at__isnull=True
    ).first() or stored_document(record, title="Compte rendu", professional=paul)
    action = data.draw(st.sampled_from(["practice:replace_document", "practice:withdraw_document"]))
    body: dict[str, Value | SimpleUploadedFile] = dict(
        data.draw(
            form(
                {
                    "title": hostile_text,
                    "document_date": hostile_date,
                    "confidentiality": hostile_level,
                    "confirm": hostile_confirm,
                }
            ),
            label="body",
        )
    )
    if data.draw(st.booleans(), label="with a file"):
        body["file"] = file
    url = reverse(action, args=[record.public_id, own.public_id])
    response = as_paul(paul_at_work).post(url, body)
    assert_safe(response, {k: v for k, v in body.items() if k != "file"})
    assert response.status_code in (302, 400), response.status_code


def test_the_forms_refuse_a_post_without_its_csrf_token(
    paul_at_work: dict[str, Any],
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies = paul_at_work["client"].cookies
    record, own = paul_at_work["record"], paul_at_work["own"]
    urls = [
        reverse("practice:declare"),
        reverse("practice:emergency"),
        reverse("practice:add_document", args=[record.public_id]),
        reverse("practice:replace_document", args=[record.public_id, own.public_id]),
        reverse("practice:withdraw_document", args=[record.public_id, own.public_id]),
    ]
    for url in urls:
        assert client.post(url, {"confirm": "on"}).status_code == 403, url
    own.refresh_from_db()
    assert own.is_current
