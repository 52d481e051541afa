"""Tests that prove requirements of OWASP ASVS 5.0 (docs/security.md maps each one).

They run with the activation tests' settings (demo mode, so the outbox shows codes in
clear; the captcha's test mode) and the helpdesk's staff fixtures."""

from __future__ import annotations

import pytest
from django.test import Client

from esante.accounts.models import Account
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings
from tests.accounts.test_login import EMAIL
from tests.accounts.wizard import activate
from tests.helpdesk.conftest import agent, agent_client, printer, printer_client

__all__ = ["activation_settings", "agent", "agent_client", "printer", "printer_client"]


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    """Alice's account, activated with her e-mail address as the code channel."""
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)
