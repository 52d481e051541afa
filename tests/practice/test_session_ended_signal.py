"""Every end of a professional's session tells the apps above
(practice.signals.professional_session_ended: the professional, the session, why): logout,
idle, too old, made inactive in the register, another identity in the browser."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.practice.models import ProfessionalSession
from esante.practice.signals import professional_session_ended
from esante.professionals.models import Professional
from tests.helpdesk.conftest import make_staff, staff_log_in
from tests.practice.conftest import PAUL, inactive, log_in_professional, register
from tests.receiving import received
from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db

HOME = reverse("practice:home")


@pytest.fixture
def paul_client(pro_provider: OidcProvider, paul: Professional) -> Client:
    client = Client()
    log_in_professional(client, pro_provider, paul)
    return client


def ended(professional: Professional, reason: str) -> dict[str, Any]:
    return {
        "sender": ProfessionalSession,
        "professional": professional,
        "session_id": ProfessionalSession.objects.get().pk,
        "reason": reason,
    }


def test_logging_out(paul_client: Client, paul: Professional) -> None:
    with received(professional_session_ended) as sent:
        paul_client.post(reverse("practice:logout"))

    assert sent == [ended(paul, "logout")]


def test_idle_found_at_the_next_request(
    paul_client: Client, paul: Professional, settings: Any
) -> None:
    idle = datetime.timedelta(minutes=settings.ESANTE_PROFESSIONAL_IDLE_MINUTES)

    with (
        received(professional_session_ended) as sent,
        time_machine.travel(timezone.now() + 2 * idle),
    ):
        assert paul_client.get(HOME).status_code == 302

    assert sent == [ended(paul, "idle")]


def test_too_old_found_at_the_next_request(
    paul_client: Client, paul: Professional, settings: Any
) -> None:
    settings.ESANTE_PROFESSIONAL_IDLE_MINUTES = 45
    settings.ESANTE_PROFESSIONAL_MAX_HOURS = 1
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(minutes=40)):
        assert paul_client.get(HOME).status_code == 200

    with (
        received(professional_session_ended) as sent,
        time_machine.travel(start + datetime.timedelta(minutes=80)),
    ):
        assert paul_client.get(HOME).status_code == 302

    assert sent == [ended(paul, "expired")]


def test_made_inactive_in_the_register(paul_client: Client, paul: Professional) -> None:
    register(inactive(PAUL))

    with received(professional_session_ended) as sent:
        paul_client.get(reverse("portal:home"))

    assert sent == [ended(paul, "inactive")]


def test_another_identity_logging_in_in_the_same_browser(
    paul_client: Client, paul: Professional
) -> None:
    make_staff("agent.dupont", "agent")

    with received(professional_session_ended) as sent:
        staff_log_in(paul_client, "agent.dupont")

    assert sent == [ended(paul, "other_identity")]
