"""A professional's session: idle and absolute limits (as staff's), logout, and the
register making the professional inactive ends it at their next request."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.audit.models import AuditEvent, EventType
from esante.practice.models import ProfessionalSession
from esante.practice.sessions import SESSION_KEY
from esante.professionals.models import Professional
from tests.accounts.wizard import page_text
from tests.practice.conftest import PAUL, inactive, log_in_professional, register
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db

HOME = reverse("practice:home")


@pytest.fixture
def paul_client(pro_provider: OidcProvider, paul: Professional) -> Client:
    client = Client()
    log_in_professional(client, pro_provider, paul)
    return client


def ended_because() -> list[str]:
    return [
        event.details["reason"]
        for event in AuditEvent.objects.filter(
            event_type=EventType.PROFESSIONAL_LOGGED_OUT
        ).order_by("pk")
    ]


def assert_logged_out(client: Client) -> None:
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login_choice") + "#professionnel"
    assert SESSION_KEY not in client.session
    assert ProfessionalSession.objects.get().ended_at is not None


def test_the_frame_shows_the_professional_space_and_a_logout(paul_client: Client) -> None:
    page = paul_client.get(reverse("portal:home")).content.decode()

    assert f'href="{HOME}"' in page
    assert f'action="{reverse("practice:logout")}"' in page


def test_the_defaults_are_the_staffs(settings: Any) -> None:
    assert settings.ESANTE_PROFESSIONAL_IDLE_MINUTES == settings.ESANTE_STAFF_IDLE_MINUTES == 15
    assert settings.ESANTE_PROFESSIONAL_MAX_HOURS == settings.ESANTE_STAFF_MAX_HOURS == 10


def test_logout_ends_the_session(paul_client: Client) -> None:
    response = paul_client.post(reverse("practice:logout"))

    assert response["Location"] == reverse("portal:home")
    assert_logged_out(paul_client)
    assert ended_because() == ["logout"]


def test_a_session_idle_too_long_ends(paul_client: Client, settings: Any) -> None:
    idle = datetime.timedelta(minutes=settings.ESANTE_PROFESSIONAL_IDLE_MINUTES)
    with time_machine.travel(timezone.now() + idle - datetime.timedelta(minutes=1)):
        assert paul_client.get(HOME).status_code == 200
    with time_machine.travel(timezone.now() + 2 * idle):
        assert_logged_out(paul_client)
    assert ended_because() == ["idle"]


def test_an_active_session_ends_at_its_longest(paul_client: Client, settings: Any) -> None:
    settings.ESANTE_PROFESSIONAL_IDLE_MINUTES = 45
    settings.ESANTE_PROFESSIONAL_MAX_HOURS = 1
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(minutes=40)):
        assert paul_client.get(HOME).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=80)):
        assert_logged_out(paul_client)
    assert ended_because() == ["expired"]


def test_made_inactive_in_the_register_the_professional_is_out_at_the_next_request(
    paul_client: Client,
) -> None:
    assert paul_client.get(HOME).status_code == 200

    register(inactive(PAUL))

    page = paul_client.get(reverse("portal:home"))  # any page, not only theirs
    assert "Votre session professionnelle a pris fin" in page_text(page)
    assert_logged_out(paul_client)
    assert ended_because() == ["inactive"]


def test_a_session_ended_elsewhere_is_over_here(paul_client: Client) -> None:
    ProfessionalSession.objects.update(ended_at=timezone.now())

    response = paul_client.get(HOME)

    assert response.status_code == 302 and SESSION_KEY not in paul_client.session
