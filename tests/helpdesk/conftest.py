"""Staff for the tests: an agent, a superviseur and a print operator (the letter
batches), each with an authenticator app, logged in through the real two-step login."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from esante.accounts.authenticators import totp
from esante.helpdesk.models import StaffDevice
from tests.accounts.conftest import activation_settings

__all__ = ["activation_settings"]

STAFF_PASSWORD = "Bureau du guichet 42"
SECRETS: dict[str, str] = {}


def make_staff(username: str, role: str) -> Any:
    user = get_user_model().objects.create_user(username=username, password=STAFF_PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    secret = pyotp.random_base32()
    SECRETS[username] = secret
    StaffDevice.objects.create(user=user, totp_secret=totp.seal(secret))
    return user


def staff_log_in(client: Client, username: str) -> None:
    client.post(reverse("helpdesk:login"), {"username": username, "password": STAFF_PASSWORD})
    code = pyotp.TOTP(SECRETS[username]).now()
    done = client.post(reverse("helpdesk:login_code"), {"code": code})
    assert done.status_code == 302, done.content.decode()[:500]
    assert done["Location"] == reverse("helpdesk:home")


@pytest.fixture
def agent(db: None) -> Any:
    return make_staff("agent.dupont", "agent")


@pytest.fixture
def superviseur(db: None) -> Any:
    return make_staff("sup.weber", "superviseur")


@pytest.fixture
def printer(db: None) -> Any:
    return make_staff("impression.muller", "impression")


@pytest.fixture
def agent_client(agent: Any) -> Client:
    client = Client()
    staff_log_in(client, agent.username)
    return client


@pytest.fixture
def superviseur_client(superviseur: Any) -> Client:
    client = Client()
    staff_log_in(client, superviseur.username)
    return client


@pytest.fixture
def printer_client(printer: Any) -> Client:
    client = Client()
    staff_log_in(client, printer.username)
    return client


StaffFactory = Callable[[str, str], Any]
