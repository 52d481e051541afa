"""Staff login: password, then the app's code (never the same twice), idle timeout, and
no way in for a patient."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from esante.audit.models import AuditEvent, EventType
from tests.accounts.wizard import page_text
from tests.helpdesk.conftest import SECRETS, STAFF_PASSWORD, staff_log_in

pytestmark = pytest.mark.django_db


def test_password_then_code_opens_the_helpdesk(agent: Any) -> None:
    client = Client()
    assert client.get(reverse("helpdesk:home"))["Location"].startswith(reverse("helpdesk:login"))

    staff_log_in(client, agent.username)

    assert client.get(reverse("helpdesk:home")).status_code == 200
    assert AuditEvent.objects.filter(
        event_type=EventType.STAFF_LOGIN, actor=f"staff:{agent.pk}"
    ).exists()


def test_a_wrong_password_or_code_is_refused_and_audited(agent: Any) -> None:
    client = Client()
    wrong = client.post(reverse("helpdesk:login"), {"username": agent.username, "password": "x"})
    assert wrong.status_code == 400
    assert "L'identifiant ou le mot de passe est incorrect." in page_text(wrong)

    client.post(reverse("helpdesk:login"), {"username": agent.username, "password": STAFF_PASSWORD})
    code = client.post(reverse("helpdesk:login_code"), {"code": "000000"})

    assert code.status_code == 400
    assert client.get(reverse("helpdesk:home")).status_code == 302
    assert AuditEvent.objects.filter(event_type=EventType.STAFF_LOGIN_FAILED).count() == 2


def test_a_failed_login_names_only_an_existing_username(agent: Any) -> None:
    """A password typed in the username box must not reach the audit log."""
    client = Client()
    client.post(reverse("helpdesk:login"), {"username": agent.username.upper(), "password": "x"})
    client.post(reverse("helpdesk:login"), {"username": STAFF_PASSWORD, "password": "x"})

    failed = AuditEvent.objects.filter(event_type=EventType.STAFF_LOGIN_FAILED).order_by("pk")
    assert [event.details["username"] for event in failed] == [
        agent.username.upper(),
        "(inconnu)",
    ]
    assert STAFF_PASSWORD not in str(list(failed.values_list("details", flat=True)))


def test_the_password_alone_opens_nothing(agent: Any) -> None:
    client = Client()
    client.post(reverse("helpdesk:login"), {"username": agent.username, "password": STAFF_PASSWORD})

    assert client.get(reverse("helpdesk:home")).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_a_code_never_serves_twice(agent: Any) -> None:
    code = pyotp.TOTP(SECRETS[agent.username]).now()
    first, second = Client(), Client()
    for client in (first, second):
        client.post(
            reverse("helpdesk:login"), {"username": agent.username, "password": STAFF_PASSWORD}
        )

    assert first.post(reverse("helpdesk:login_code"), {"code": code}).status_code == 302
    assert second.post(reverse("helpdesk:login_code"), {"code": code}).status_code == 400


def test_the_code_step_lasts_five_minutes_from_the_password_however_active(agent: Any) -> None:
    client = Client()
    started = time.time()
    client.post(reverse("helpdesk:login"), {"username": agent.username, "password": STAFF_PASSWORD})
    with time_machine.travel(started + 4 * 60):
        assert client.get(reverse("helpdesk:login_code")).status_code == 200

    with time_machine.travel(started + 5 * 60 + 5):
        code = pyotp.TOTP(SECRETS[agent.username]).now()
        late = client.post(reverse("helpdesk:login_code"), {"code": code}, follow=True)

    assert late.redirect_chain[0][0] == reverse("helpdesk:login")
    assert "Saisissez d'abord votre identifiant et votre mot de passe." in page_text(late)
    assert client.get(reverse("helpdesk:home")).status_code == 302


def test_a_staff_login_begun_before_the_deploy_starts_again(agent: Any) -> None:
    """The password step as the earlier code kept it, or a state of another shape: the
    code page sends back to the password, never an error."""
    for key, old in [
        ("esante.staff.pending", {"user": agent.pk, "at": time.time()}),
        ("flow:staff_login", {"user": agent.pk, "at": time.time()}),
    ]:
        client = Client()
        session = client.session
        session[key] = old
        session.save()

        response = client.get(reverse("helpdesk:login_code"))

        assert response["Location"] == reverse("helpdesk:login")


def test_fifteen_idle_minutes_end_the_staff_session(agent_client: Client, agent: Any) -> None:
    assert agent_client.get(reverse("helpdesk:home")).status_code == 200

    with time_machine.travel(time.time() + 16 * 60):
        after = agent_client.get(reverse("helpdesk:home"))

    assert after["Location"].startswith(reverse("helpdesk:login"))
    assert AuditEvent.objects.filter(
        event_type=EventType.STAFF_LOGOUT, details__reason="idle"
    ).exists()


def test_django_admin_is_for_superusers_only(agent_client: Client, agent: Any) -> None:
    response = agent_client.get("/admin/", follow=True)

    # /admin/ → /admin/login/ → the helpdesk: an agent is no superuser.
    assert response.redirect_chain[-1][0].startswith("/helpdesk/")
    anonymous = Client().get("/admin/", follow=True)
    assert anonymous.redirect_chain[-1][0].startswith(reverse("helpdesk:login"))
    assert agent_client.get("/admin/registry/insuredperson/").status_code == 302


def test_the_page_asked_for_comes_back_whole_after_the_two_steps(superviseur: Any) -> None:
    """`suivant` with its own query string (the journal filtered by dates)."""
    asked = reverse("helpdesk:audit_log") + "?du=2026-01-01&au=2026-01-31"
    client = Client()
    login_page = client.get(asked)["Location"]

    password = client.post(
        login_page, {"username": superviseur.username, "password": STAFF_PASSWORD}
    )
    code = pyotp.TOTP(SECRETS[superviseur.username]).now()
    done = client.post(password["Location"], {"code": code})

    assert done["Location"] == asked
