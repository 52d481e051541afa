"""Paging a record of 1,000 documents: `_count` (clamped to ESANTE_FHIR_MAX_COUNT),
`_offset`, and the Bundle's `self`, `first`, `previous`, `next` and `last` links, which
followed to the end give every document exactly once, the `total` right on every page."""

from __future__ import annotations

import datetime
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from esante.records.models import CareRecord, Category, Document
from tests.fhir.conftest import Api, fhir_base, ids, refused, validated

pytestmark = pytest.mark.django_db

SIZE = 1000


@pytest.fixture
def many(alice_record: CareRecord) -> set[str]:
    """1,000 documents (no file: a search reads none), two categories, dates on each of
    the last 250 days: several share a date, which the order must still settle."""
    today = timezone.localdate()
    rows = [
        Document(
            record=alice_record,
            category=Category.LABORATORY if number % 2 else Category.HOSPITAL,
            title=f"Document {number}",
            author="Laboratoire",
            document_date=today - datetime.timedelta(days=number % 250),
            stored_name=f"xx/{uuid.uuid4().hex}",
            content_type="application/pdf",
            size=100,
        )
        for number in range(SIZE)
    ]
    return {str(each.public_id) for each in Document.objects.bulk_create(rows)}


def links(bundle: dict[str, Any]) -> dict[str, str]:
    found = {each["relation"]: each["url"] for each in bundle["link"]}
    assert len(found) == len(bundle["link"])
    return found


def path_of(url: str) -> str:
    """A link, as the test client asks it: the part after the API's base."""
    assert url.startswith(f"{fhir_base()}/"), url
    return url.removeprefix(f"{fhir_base()}/")


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def walk(api: Api, start: str, relation: str) -> list[dict[str, Any]]:
    """Every page from `start`, following `relation` links to the end."""
    pages = [validated(api.get(start))]
    while relation in links(pages[-1]):
        pages.append(validated(api.get(path_of(links(pages[-1])[relation]))))
        assert len(pages) <= SIZE
    return pages


def test_the_next_links_followed_to_the_end_give_every_document_once(
    alice_api: Api, many: set[str]
) -> None:
    pages = walk(alice_api, "DocumentReference?_count=200", "next")

    seen = [entry["resource"]["id"] for page in pages for entry in page["entry"]]
    assert len(seen) == SIZE and set(seen) == many
    assert [len(page["entry"]) for page in pages] == [200] * 5
    assert {page["total"] for page in pages} == {SIZE}
    first, second, last = links(pages[0]), links(pages[1]), links(pages[-1])
    assert "previous" not in first
    assert query_of(first["self"]) == {"_count": ["200"], "_offset": ["0"]}
    assert query_of(second["previous"]) == {"_count": ["200"], "_offset": ["0"]}
    assert query_of(first["last"]) == {"_count": ["200"], "_offset": ["800"]}
    assert last["self"] == first["last"] and "next" not in last
    assert {page_links["first"] for page_links in map(links, pages)} == {first["first"]}


def test_the_previous_links_from_the_last_page_give_them_all_again(
    alice_api: Api, many: set[str]
) -> None:
    start = path_of(links(validated(alice_api.get("DocumentReference?_count=150")))["last"])

    pages = walk(alice_api, start, "previous")

    # 1,000 by 150: six full pages and the last one of 100, from the last back.
    assert [len(page["entry"]) for page in pages] == [100] + [150] * 6
    assert ids({"entry": [entry for page in pages for entry in page["entry"]]}) == many


def test_a_count_above_the_maximum_is_clamped(alice_api: Api, many: set[str]) -> None:
    maximum = settings.ESANTE_FHIR_MAX_COUNT

    bundle = validated(alice_api.get(f"DocumentReference?_count={maximum * 10}"))

    assert len(bundle["entry"]) == maximum
    assert query_of(links(bundle)["next"])["_count"] == [str(maximum)]
    assert bundle["total"] == SIZE


def test_without_a_count_a_page_has_the_default_size(alice_api: Api, many: set[str]) -> None:
    bundle = validated(alice_api.get("DocumentReference"))

    assert len(bundle["entry"]) == settings.ESANTE_FHIR_DEFAULT_COUNT
    assert bundle["total"] == SIZE


def test_a_count_of_zero_gives_the_total_alone(alice_api: Api, many: set[str]) -> None:
    bundle = validated(alice_api.get("DocumentReference?_count=0"))

    assert bundle["entry"] == []
    assert bundle["total"] == SIZE
    assert set(links(bundle)) == {"self", "first"}


def test_the_links_keep_the_search_and_its_total(alice_api: Api, many: set[str]) -> None:
    pages = walk(alice_api, "DocumentReference?category=laboratory&_count=200", "next")

    assert {page["total"] for page in pages} == {SIZE // 2}
    assert sum(len(page["entry"]) for page in pages) == SIZE // 2
    for page in pages:
        assert query_of(links(page)["self"])["category"] == ["laboratory"]
        assert {
            entry["resource"]["category"][0]["coding"][0]["code"] for entry in page["entry"]
        } == {"laboratory"}


def test_an_offset_past_the_end_is_an_empty_page(alice_api: Api, many: set[str]) -> None:
    bundle = validated(alice_api.get("DocumentReference?_offset=5000&_count=100"))

    assert bundle["entry"] == [] and bundle["total"] == SIZE
    assert query_of(links(bundle)["previous"])["_offset"] == ["4900"]
    assert query_of(links(bundle)["last"])["_offset"] == ["900"]


@pytest.mark.parametrize("query", ["_count=abc", "_count=-1", "_offset=-1", "_offset=1e3"])
def test_paging_parameters_of_the_wrong_type_are_refused(alice_api: Api, query: str) -> None:
    refused(alice_api.get(f"DocumentReference?{query}"), 400, "invalid")
