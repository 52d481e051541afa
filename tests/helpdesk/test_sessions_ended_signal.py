"""The helpdesk's ways of ending a patient's sessions tell the apps above
(accounts.signals.patient_sessions_ended): *Déconnecter les sessions*, and the reset of
the code channel after a lost phone."""

from __future__ import annotations

import pytest
from django.test import Client

from esante.accounts.models import Account, PatientSession
from esante.accounts.signals import patient_sessions_ended
from esante.audit.models import AuditEvent, EventType
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import EMAIL, log_in
from tests.accounts.wizard import activate
from tests.helpdesk.test_agent import act
from tests.receiving import received

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


def two_sessions(account: Account) -> list[int]:
    for _browser in range(2):
        log_in(Client(), account)
    return list(PatientSession.objects.order_by("pk").values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("action", "reason"), [("sessions", "ended_by_helpdesk"), ("canal", "channel_reset")]
)
def test_an_agent_ending_the_sessions(
    agent_client: Client, account: Account, alice: InsuredPerson, action: str, reason: str
) -> None:
    sessions = two_sessions(account)

    with received(patient_sessions_ended) as sent:
        act(agent_client, alice, action)

    assert sent == [
        {"sender": PatientSession, "account": account, "session_ids": sessions, "reason": reason}
    ]
    assert not PatientSession.objects.filter(ended_at__isnull=True).exists()


def test_with_no_session_open_it_is_sent_all_the_same_for_what_outlives_sessions(
    agent_client: Client, account: Account, alice: InsuredPerson
) -> None:
    with received(patient_sessions_ended) as sent:
        act(agent_client, alice, "sessions")

    assert AuditEvent.objects.filter(
        event_type=EventType.HELPDESK_ACTION, details__action="end_sessions"
    ).exists()
    # The helpdesk's hand ends what the account opened beyond a session too (a service's
    # offline access: accounts.signals.ACCOUNT_WIDE), so the signal goes with no session.
    assert [(each["account"], each["session_ids"], each["reason"]) for each in sent] == [
        (account, [], "ended_by_helpdesk")
    ]
