"""ASVS 5.0 chapter V7 (Session management): what the other test modules do not show
already. docs/security.md names the requirement each test proves."""

from __future__ import annotations

import string
import time
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account, PatientSession
from esante.audit.models import AuditEvent, EventType
from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import PASSWORD, last_one_time_code, page_text
from tests.helpdesk.test_agent import act, person_url
from tests.records.conftest import logged_in
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db

SESSION_KEY_CHARACTERS = set(string.ascii_lowercase + string.digits)


def test_a_session_id_is_new_at_each_login_and_long_and_random(
    client: Client, account: Account
) -> None:
    """V7.2.3 and V7.2.4: 32 characters of 36 (165 bits, Django's CSPRNG), a new one at
    each login, never the one the visitor had before."""
    client.get(reverse("patient:login"))
    client.session.save()
    before = client.session.session_key
    log_in(client, account)
    first = client.cookies["sessionid"].value
    client.post(reverse("patient:logout"))
    log_in(client, account)
    second = client.cookies["sessionid"].value

    assert len({before, first, second}) == 3
    for key in (first, second):
        assert len(key) == 32 and set(key) <= SESSION_KEY_CHARACTERS
    assert PatientSession.objects.get(ended_at__isnull=True).session_key == second


def test_a_session_id_replayed_after_logout_opens_nothing(client: Client, account: Account) -> None:
    """V7.4.1: logout ends the session on the server, not only in the browser."""
    log_in(client, account)
    stolen = client.cookies["sessionid"].value
    client.post(reverse("patient:logout"))

    thief = Client()
    thief.cookies["sessionid"] = stolen
    response = thief.get(reverse("patient:services"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("patient:login"))
    assert thief.get(reverse("patient:account")).status_code == 302


def test_every_logged_in_page_offers_logout(
    alice: InsuredPerson, agent_client: Client, printer_client: Client
) -> None:
    """V7.4.4: the patient's pages and the helpdesk's pages carry the logout button."""
    patient = logged_in(alice, EMAIL)
    record = CareRecord.objects.get(person=alice)
    patient_pages = [
        reverse("patient:services"),
        reverse("patient:account"),
        reverse("patient:password"),
        reverse("patient:contact"),
        reverse("records:record", args=[record.public_id]),
        reverse("records:journal", args=[record.public_id]),
        reverse("records:others"),
    ]
    staff_pages = [
        reverse("helpdesk:home"),
        reverse("helpdesk:passkeys"),
        person_url(alice),
    ]
    print_pages = [reverse("helpdesk:batches"), reverse("helpdesk:passkeys")]

    for url in patient_pages:
        response = patient.get(url)
        assert response.status_code == 200, url
        assert f'action="{reverse("patient:logout")}"' in response.content.decode(), url
    for client, urls in ((agent_client, staff_pages), (printer_client, print_pages)):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert f'action="{reverse("helpdesk:logout")}"' in response.content.decode(), url


def test_a_deactivated_staff_member_is_out_at_the_next_request(
    agent_client: Client, agent: Any
) -> None:
    """V7.4.2 for staff: a disabled Django user's session opens nothing any more."""
    assert agent_client.get(reverse("helpdesk:home")).status_code == 200

    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = agent_client.get(reverse("helpdesk:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("helpdesk:login"))


def test_resetting_the_code_channel_ends_the_patients_sessions(
    agent_client: Client, account: Account, alice: InsuredPerson
) -> None:
    """V7.4.2 for patients: the helpdesk's "reset the channel" (lost phone: the account
    is unusable until a new letter) ends every session at once."""
    patient = Client()
    log_in(patient, account)
    assert patient.get(reverse("patient:services")).status_code == 200

    act(agent_client, alice, "canal", reason="Téléphone volé")

    assert patient.get(reverse("patient:services")).status_code == 302
    assert not PatientSession.objects.filter(account=account, ended_at__isnull=True).exists()


def test_a_provider_login_starts_only_from_a_button(oidc_provider: OidcProvider) -> None:
    """V7.6.2: no session from a link or a callback nobody asked for: the trip to the
    provider starts with a POST (CSRF-checked) from our own page."""
    start = reverse("patient:oidc_start", args=["luxtrust"])

    by_link = Client().get(start)
    forged = Client(enforce_csrf_checks=True).post(start, {"but": "login"})

    assert by_link.status_code == 405
    assert forged.status_code == 403


def test_after_a_password_change_the_other_sessions_can_be_ended(
    client: Client, account: Account
) -> None:
    """V7.4.3: the change lands on Mon compte, which says so and offers to end the other
    sessions; ended, they are refused at their next request."""
    other = Client()
    log_in(other, account)
    log_in(client, account)
    new_password = "Une autre phrase 2027"
    client.post(
        reverse("patient:password"),
        {"current": PASSWORD, "password1": new_password, "password2": new_password},
    )
    done = client.post(
        reverse("patient:password_code"), {"code": last_one_time_code(EMAIL)}, follow=True
    )

    page = page_text(done)
    assert "vous pouvez les déconnecter ci-dessous" in page
    assert 'name="end_others"' in page
    assert other.get(reverse("patient:services")).status_code == 200
    client.post(reverse("patient:account"), {"end_others": "1"})
    assert other.get(reverse("patient:services")).status_code == 302
    assert client.get(reverse("patient:services")).status_code == 200


def test_typing_the_password_again_gives_a_new_session_id(client: Client, account: Account) -> None:
    """V7.2.4 for re-authentication: the password typed again in Mon compte (here to
    end sessions; unlinking a provider, new recovery codes, changing the password or
    the channel go through the same check) gives the session a new id; the old one opens
    nothing, the session's row follows, a wrong password changes nothing."""
    log_in(client, account)
    before = client.cookies["sessionid"].value

    client.post(
        reverse("patient:account"), {"confirm_password": "sessions", "sessions-current": "faux"}
    )
    assert client.cookies["sessionid"].value == before
    client.post(
        reverse("patient:account"),
        {"confirm_password": "sessions", "sessions-current": PASSWORD},
    )
    after = client.cookies["sessionid"].value

    assert after != before
    assert client.get(reverse("patient:account")).status_code == 200
    session = PatientSession.objects.get(ended_at__isnull=True)
    assert session.session_key == after
    thief = Client()
    thief.cookies["sessionid"] = before
    assert thief.get(reverse("patient:services")).status_code == 302


def test_a_staff_session_ends_10_hours_after_the_login_however_active(
    agent_client: Client, agent: Any
) -> None:
    """V7.3.2 for staff: ESANTE_STAFF_MAX_HOURS (10) after the login, a staff member
    active every few minutes is logged out all the same, and told why."""
    logged_in_at = time.time()
    for minutes in range(14, 600, 14):
        with time_machine.travel(logged_in_at + minutes * 60):
            assert agent_client.get(reverse("helpdesk:home")).status_code == 200, minutes

    with time_machine.travel(logged_in_at + 600 * 60 + 5):
        after = agent_client.get(reverse("helpdesk:home"))
        page = page_text(agent_client.get(after["Location"]))

    assert after["Location"].startswith(reverse("helpdesk:login"))
    assert "Une session du helpdesk dure au plus 10 heures" in page
    assert AuditEvent.objects.filter(
        event_type=EventType.STAFF_LOGOUT, actor=f"staff:{agent.pk}", details__reason="expired"
    ).exists()


def test_the_staff_session_lifetime_is_a_setting(agent_client: Client, settings: Any) -> None:
    """V7.3.2: ESANTE_STAFF_MAX_HOURS sets the lifetime."""
    settings.ESANTE_STAFF_MAX_HOURS = 1
    logged_in_at = time.time()
    for minutes in (14, 28, 42, 56):
        with time_machine.travel(logged_in_at + minutes * 60):
            assert agent_client.get(reverse("helpdesk:home")).status_code == 200
    with time_machine.travel(logged_in_at + 61 * 60):
        assert agent_client.get(reverse("helpdesk:home")).status_code == 302
