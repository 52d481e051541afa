"""The professionals' side costs a patient's request nothing: on the record page the
same SQL statements with and without ProfessionalMiddleware, and neither a patient's page
nor a patient's login reads the professionals' sessions."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from esante.accounts.models import Account
from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import activate
from tests.records.conftest import logged_in

pytestmark = pytest.mark.django_db

MIDDLEWARE = "esante.practice.middleware.ProfessionalMiddleware"
TABLE = "practice_professionalsession"


def statements(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_the_record_page_runs_the_same_statements_without_the_middleware(
    alice: InsuredPerson, settings: Any
) -> None:
    client = logged_in(alice, EMAIL)
    url = reverse("records:record", args=[CareRecord.objects.get(person=alice).public_id])
    client.get(url)  # the first visit's journal line and notices out of the way

    with_it = statements(client, url)
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != MIDDLEWARE]
    without_it = statements(client, url)

    assert len(with_it) == len(without_it)
    assert not any(TABLE in sql for sql in with_it)


def test_a_patients_login_reads_nothing_of_the_professionals(alice: InsuredPerson) -> None:
    activate(Client(), alice, EMAIL)
    account = Account.objects.get(person=alice)
    client = Client()

    with CaptureQueriesContext(connection) as queries:
        log_in(client, account)
        client.get(reverse("patient:services"))

    assert not any(TABLE in query["sql"] for query in queries.captured_queries)
