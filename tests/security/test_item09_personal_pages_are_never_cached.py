"""Issue 13, item 9: no page showing personal or health data may be kept by a browser's or
a shared cache (ASVS 5.0 14.3.2, 14.2.2). Every answer of the application says
`Cache-Control: no-store, private` — the record, a document, the access journal, *Mon
compte*, the helpdesk's person page, every code page and every step of a flow — and the
sweep below walks every URL of the URLconf, so that a page added later is covered (or
the sweep asks for the sample value of its new URL parameter). Static files keep their
long cache."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from esante.accounts.models import Account
from esante.records.models import CareRecord, Document
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.wizard import (
    last_one_time_code,
    reach_one_time_code_step,
    reach_password_step,
    submit_one_time_code,
    submit_password,
)
from tests.helpdesk.conftest import STAFF_PASSWORD, make_staff, staff_log_in
from tests.records.test_documents import provider_document

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


def assert_never_cached(response: Response, what: str) -> None:
    directives = {
        part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")
    }
    assert {"no-store", "private", "no-cache"} <= directives, (what, response.get("Cache-Control"))
    assert "public" not in directives, what
    assert "max-age=0" in response["Cache-Control"], what
    assert response.has_header("Expires"), what
    assert response.get("Pragma") == "no-cache", what


@pytest.fixture
def document(account: Account) -> Document:
    return provider_document(CareRecord.objects.get(person=account.person))


@pytest.fixture
def patient(account: Account) -> Client:
    client = Client()
    log_in(client, account)
    return client


def test_the_record_documents_journal_and_mon_compte_are_never_cached(
    patient: Client, account: Account, document: Document
) -> None:
    record = CareRecord.objects.get(person=account.person)
    holder_pages = {
        "Mes services": reverse("patient:services"),
        "Mon compte": reverse("patient:account"),
        "Mon DSP": reverse("records:record", args=[record.public_id]),
        "a document's page": reverse(
            "records:document", args=[record.public_id, document.public_id]
        ),
        "a document's file": reverse(
            "records:document_file", args=[record.public_id, document.public_id]
        ),
        "a download": reverse("records:document_file", args=[record.public_id, document.public_id])
        + "?telecharger=1",
        "the access journal": reverse("records:journal", args=[record.public_id]),
        "Accéder aux autres dossiers patient": reverse("records:others"),
    }
    # The organ-donation question comes first at the first access: it shows the name too.
    first = patient.get(holder_pages["Mon DSP"])
    assert_never_cached(first, "the organ-donation question")
    patient.post(
        reverse("records:organ_donation", args=[record.public_id]), {"refuses_removal": "0"}
    )

    for what, url in holder_pages.items():
        response = patient.get(url)
        assert response.status_code == 200, (what, response.status_code)
        assert_never_cached(response, what)


def test_every_code_page_and_flow_step_is_never_cached(
    account: Account, bob: InsuredPerson, charlie: InsuredPerson
) -> None:
    # Activation: from step 2 on, the pages show the person's name.
    activation = Client()
    reach_password_step(activation, bob)
    step_2 = activation.get(reverse("activation:password"))
    submit_password(activation)
    step_3 = activation.get(reverse("activation:contact"))
    other = Client()
    reach_one_time_code_step(other, charlie, "charlie@example.lu")
    step_3_code = other.get(reverse("activation:otp"))
    wrong_code = submit_one_time_code(other, "000000")
    submit_one_time_code(other, last_one_time_code("charlie@example.lu"))
    step_4 = other.get(reverse("activation:authenticators"))
    # Login: the code page names the channel the code went to.
    login = Client()
    submit_credentials(login, account.person.matricule)
    login_code = login.get(reverse("patient:login_code"))
    # Mot de passe oublié: the code page, then the new password.
    recovery = Client()
    recovery.post(
        reverse("patient:recovery"),
        {"matricule": account.person.matricule, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    recovery_code = recovery.get(reverse("patient:recovery_code"))
    recovery.post(reverse("patient:recovery_code"), {"code": last_one_time_code(EMAIL)})
    recovery_password = recovery.get(reverse("patient:recovery_password"))
    # The helpdesk's code step.
    staff = make_staff("agent.code", "agent")
    helpdesk = Client()
    helpdesk.post(
        reverse("helpdesk:login"), {"username": staff.username, "password": STAFF_PASSWORD}
    )
    helpdesk_code = helpdesk.get(reverse("helpdesk:login_code"))

    for what, response in {
        "activation step 2": step_2,
        "activation step 3": step_3,
        "activation step 3, the code": step_3_code,
        "activation step 3, a wrong code": wrong_code,
        "activation step 4": step_4,
        "the login code": login_code,
        "the recovery code": recovery_code,
        "the recovery's new password": recovery_password,
        "the helpdesk's code": helpdesk_code,
    }.items():
        assert response.status_code in (200, 400), (what, response.status_code)
        assert_never_cached(response, what)


def test_the_helpdesk_person_page_and_journal_are_never_cached(
    account: Account, agent_client: Client
) -> None:
    supervisor = make_staff("sup.cache", "superviseur")
    supervisor_client = Client()
    staff_log_in(supervisor_client, supervisor.username)
    for what, client, url in [
        (
            "the person page",
            agent_client,
            reverse("helpdesk:person", args=[account.person.esante_id]),
        ),
        ("the helpdesk's home", agent_client, reverse("helpdesk:home")),
        ("the audit log", supervisor_client, reverse("helpdesk:audit_log")),
        ("the statistics", supervisor_client, reverse("helpdesk:statistics")),
        ("the emergency accesses", supervisor_client, reverse("helpdesk:emergency_report")),
    ]:
        response = client.get(url)
        assert response.status_code == 200, (what, response.status_code)
        assert_never_cached(response, what)


# --- Every URL of the URLconf, for a visitor, a patient and a staff member --------------


def url_patterns(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = ""
) -> Iterator[tuple[str, Any]]:
    """(the pattern's text, the pattern) for every URL the application answers."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def sample_url(route: str, samples: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in samples, f"add a sample value for the URL parameter {name!r} ({route})"
        return samples[name]

    return "/" + PARAMETER.sub(value, route).replace("^", "").replace("$", "")


def test_no_url_of_the_application_answers_without_no_store(
    patient: Client, account: Account, document: Document
) -> None:
    record = CareRecord.objects.get(person=account.person)
    superuser = make_staff("admin.cache", "superviseur")
    get_user_model().objects.filter(pk=superuser.pk).update(is_staff=True, is_superuser=True)
    staff = Client()
    staff_log_in(staff, superuser.username)
    samples = {
        "public_id": str(record.public_id),
        "document_id": str(document.public_id),
        "esante_id": account.person.esante_id,
        "action": "note",
        "slug": "luxtrust",
        "passkey_id": "1",
        "assistant_id": "1",
        "professional_id": "1",
        "relationship_id": str(uuid.UUID(int=1)),
        "batch_id": "1",
        "key": "0" * 40,
        "app_label": "auth",
        "content_type_id": "1",
        "object_id": str(superuser.pk),
        "id": str(superuser.pk),
        "url": "nothing-here/",
        "request_id": "1",
        "token": "x" * 43,
        "client_id": "esante-unknown",
        "consent_id": "1",
        "name": "document-category",
        "resource_type": "Patient",
        "resource_id": str(record.public_id),
        "rest": "nothing-here",
    }
    visitors = {"a visitor": Client(), "a patient": patient, "a staff member": staff}
    answered = 0
    for route, pattern in url_patterns():
        url = sample_url(route, samples)
        resolve(url.split("?")[0])  # the sample reaches a view
        for who, client in visitors.items():
            # GET only: a POST would act (log out, delete); the answers to posted forms
            # are checked above, and the middleware does not look at the method.
            response = client.get(url)
            assert response.status_code != 500, (who, url)
            assert_never_cached(response, f"GET {url} for {who} ({pattern.name})")
            answered += 1
    assert answered > 3 * 100  # the whole URLconf, not an empty walk


def test_static_files_keep_their_long_cache(client: Client) -> None:
    response = client.get("/static/esante/css/portal.css")

    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert "max-age=" in response["Cache-Control"]
