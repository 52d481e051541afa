"""A person can be a patient, a professional and a staff member, but one browser session
holds one of them: whoever logs in puts the other out first (esante.identities), and a
professional's request passes neither the patients' nor the staff's guards."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account, PatientSession
from esante.accounts.patient_sessions import SESSION_KEY as PATIENT_KEY
from esante.audit.models import AuditEvent, EventType
from esante.helpdesk.auth import VERIFIED_KEY
from esante.practice.models import ProfessionalSession
from esante.practice.sessions import SESSION_KEY as PROFESSIONAL_KEY
from esante.professionals.models import Professional
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import activate
from tests.helpdesk.conftest import make_staff, staff_log_in
from tests.practice.conftest import log_in_professional
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db

SERVICES = reverse("patient:services")
PRACTICE = reverse("practice:home")
HELPDESK = reverse("helpdesk:home")


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


@pytest.fixture
def agent(db: None) -> Any:
    return make_staff("agent.dupont", "agent")


def is_patient(client: Client) -> bool:
    return client.get(SERVICES).status_code == 200


def is_professional(client: Client) -> bool:
    return client.get(PRACTICE).status_code == 200


def is_staff(client: Client) -> bool:
    return client.get(HELPDESK).status_code == 200


def reasons(event_type: EventType) -> list[str]:
    return [
        event.details["reason"]
        for event in AuditEvent.objects.filter(event_type=event_type).order_by("pk")
    ]


def test_a_patient_who_logs_in_as_a_professional_is_out_of_the_patient_side(
    account: Account, pro_provider: OidcProvider, paul: Professional
) -> None:
    client = Client()
    log_in(client, account)
    assert is_patient(client)

    log_in_professional(client, pro_provider, paul)

    assert is_professional(client) and not is_patient(client)
    assert PATIENT_KEY not in client.session
    assert PatientSession.objects.get().ended_at is not None
    assert reasons(EventType.LOGGED_OUT) == ["other_identity"]


def test_a_professional_who_logs_in_as_a_patient_is_out_of_the_professional_side(
    account: Account, pro_provider: OidcProvider, paul: Professional
) -> None:
    client = Client()
    log_in_professional(client, pro_provider, paul)

    log_in(client, account)

    assert is_patient(client) and not is_professional(client)
    assert PROFESSIONAL_KEY not in client.session
    assert ProfessionalSession.objects.get().ended_at is not None
    assert reasons(EventType.PROFESSIONAL_LOGGED_OUT) == ["other_identity"]


def test_staff_who_log_in_as_a_professional_are_out_of_the_helpdesk(
    agent: Any, pro_provider: OidcProvider, paul: Professional
) -> None:
    client = Client()
    staff_log_in(client, agent.username)
    assert is_staff(client)

    log_in_professional(client, pro_provider, paul)

    assert is_professional(client) and not is_staff(client)
    assert VERIFIED_KEY not in client.session
    assert reasons(EventType.STAFF_LOGOUT) == ["other_identity"]


def test_a_professional_who_logs_in_to_the_helpdesk_is_out_of_the_professional_side(
    agent: Any, pro_provider: OidcProvider, paul: Professional
) -> None:
    client = Client()
    log_in_professional(client, pro_provider, paul)

    staff_log_in(client, agent.username)

    assert is_staff(client) and not is_professional(client)
    assert reasons(EventType.PROFESSIONAL_LOGGED_OUT) == ["other_identity"]


def test_a_professional_passes_neither_the_patients_nor_the_staffs_guards(
    account: Account, pro_provider: OidcProvider, paul: Professional
) -> None:
    client = Client()
    log_in_professional(client, pro_provider, paul)

    services = client.get(SERVICES)
    helpdesk = client.get(HELPDESK)
    home = client.get(reverse("portal:home")).content.decode()

    assert services["Location"].startswith(reverse("patient:login"))
    assert helpdesk["Location"].startswith(reverse("helpdesk:login"))
    assert f'action="{reverse("patient:logout")}"' not in home  # request.patient: no one
    assert reverse("practice:logout") in home


def test_neither_a_patient_nor_staff_pass_the_professionals_guard(
    account: Account, agent: Any, pro_provider: OidcProvider
) -> None:
    patient = Client()
    log_in(patient, account)
    staff = Client()
    staff_log_in(staff, agent.username)

    for client in (patient, staff):
        assert client.get(PRACTICE)["Location"] == reverse("portal:login_choice") + "#professionnel"
