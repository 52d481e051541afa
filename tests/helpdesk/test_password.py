"""*Mon mot de passe* of the helpdesk (ASVS 5.0 6.2.2): the current password, a new one
under the staff rules; the other sessions end, this one goes on with a new id."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.audit.models import AuditEvent, EventType
from tests.helpdesk.conftest import STAFF_PASSWORD, staff_log_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Une tasse de thé au guichet 2027"


def change(client: Client, current: str, new: str, confirm: str | None = None) -> Any:
    return client.post(
        reverse("helpdesk:password"),
        {"old_password": current, "new_password1": new, "new_password2": confirm or new},
    )


def test_a_staff_member_changes_their_password(agent: Any, agent_client: Client) -> None:
    elsewhere = Client()
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        staff_log_in(elsewhere, agent.username)  # the app's next code: no replay
    assert elsewhere.get(reverse("helpdesk:home")).status_code == 200
    before = agent_client.cookies["sessionid"].value
    assert agent_client.get(reverse("helpdesk:password")).status_code == 200

    done = change(agent_client, STAFF_PASSWORD, NEW_PASSWORD)

    assert done["Location"] == reverse("helpdesk:home")
    agent.refresh_from_db()
    assert agent.check_password(NEW_PASSWORD)
    assert agent_client.cookies["sessionid"].value != before
    assert agent_client.get(reverse("helpdesk:home")).status_code == 200
    assert elsewhere.get(reverse("helpdesk:home")).status_code == 302  # ended
    assert AuditEvent.objects.filter(
        event_type=EventType.STAFF_PASSWORD_CHANGED, actor=f"staff:{agent.pk}"
    ).exists()


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("pas le bon", NEW_PASSWORD, "ancien mot de passe est incorrect"),
        (STAFF_PASSWORD, "Court 2027", "au minimum 15 caractères"),
        (STAFF_PASSWORD, "Mon accès helpdesk 2027", "ne doit pas contenir le nom du service"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(
    agent: Any, agent_client: Client, current: str, new: str, message: str
) -> None:
    refused = change(agent_client, current, new)

    assert refused.status_code == 400
    assert message in refused.content.decode().replace("\u2019", "'")
    agent.refresh_from_db()
    assert agent.check_password(STAFF_PASSWORD)


def test_the_page_needs_a_staff_login(client: Client) -> None:
    assert client.get(reverse("helpdesk:password")).status_code == 302
