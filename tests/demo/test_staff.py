"""`make run`'s demo staff: an agent, a superviseur and a print operator, printed at
start-up, who can log in."""

from __future__ import annotations

import io

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from esante.demo.staff import DEMO_PASSWORD, DEMO_STAFF
from tests.accounts.conftest import activation_settings

# Demo mode and the letters' folder, as the helpdesk tests have them.
__all__ = ["activation_settings"]

pytestmark = pytest.mark.django_db


def test_load_demo_makes_staff_who_can_log_in() -> None:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=io.StringIO())  # idempotent

    assert get_user_model().objects.filter(username__endswith=".demo").count() == 3
    assert "agent.demo (agent)" in out.getvalue() and DEMO_PASSWORD in out.getvalue()
    assert "impression.demo (impression)" in out.getvalue()
    agent = DEMO_STAFF[0]
    client = Client()
    client.post(reverse("helpdesk:login"), {"username": agent.username, "password": DEMO_PASSWORD})
    done = client.post(reverse("helpdesk:login_code"), {"code": pyotp.TOTP(agent.secret).now()})
    assert done["Location"] == reverse("helpdesk:home")
    printer = DEMO_STAFF[2]
    client = Client()
    client.post(
        reverse("helpdesk:login"), {"username": printer.username, "password": DEMO_PASSWORD}
    )
    client.post(reverse("helpdesk:login_code"), {"code": pyotp.TOTP(printer.secret).now()})
    assert client.get(reverse("helpdesk:home"))["Location"] == reverse("helpdesk:batches")
