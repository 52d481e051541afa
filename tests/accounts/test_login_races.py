"""Wrong passwords sent at once for one matricule: no more of them are checked than the
lock and the rate limits allow, however they interleave.

A password check (Argon2) is slow; before it, each attempt claims its place atomically
(esante.accounts.patient_sessions.claim_attempt, esante.ratelimit.reserve), so that attempts in
flight together see each other. The deterministic tests make every attempt arrive while
the previous one is hashing (the worst interleaving); the PostgreSQL tests run real
threads, each with its own connection, as app servers would.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from esante import ratelimit
from esante.accounts import patient_sessions as login_rules
from esante.accounts.authenticators.one_time_codes import CodeVerification
from esante.accounts.models import Account, KnownDevice
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry import matricule as matricule_rules
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import PASSWORD, activate, last_one_time_code
from tests.concurrency import in_threads, needs_postgresql
from tests.factories import make_person, years_ago

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

EMAIL = "alice@example.lu"
WRONG = "wrong password 1"
CAPTCHA = {"captcha_0": "x", "captcha_1": "PASSED"}
AT_ONCE = 12


def make_account(person: InsuredPerson) -> Account:
    activate(Client(), person, EMAIL)
    return Account.objects.get(person=person)


def submit(number: str, password: str = WRONG) -> Response:
    return submit_in(Client(), number, password)


def submit_in(client: Client, number: str, password: str = WRONG) -> Response:
    return client.post(
        reverse("patient:login"), {"matricule": number, "password": password, **CAPTCHA}
    )


def prefill_matricule(number: str, *, left: int) -> None:
    """The matricule's login failures counted up to `left` tries from its limit (from
    another address: the limit follows the matricule)."""
    rule = next(r for r in ratelimit.RATE_LIMITS["login.failed"] if r.scope == "key")
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9")
    for _hit in range(rule.limit - left):
        ratelimit.hit("login.failed", request, key=number)


class ChecksWhileOthersArrive:
    """A stand-in for check_password: while one attempt is hashing, the next arrives (up
    to `count` in flight together); records which hashes were checked."""

    def __init__(self, count: int, arrive: Callable[[], Any]):
        self.count = count
        self.arrive = arrive
        self.arrived = 1
        self.checked: list[str] = []

    def __call__(self, password: str, encoded: str) -> bool:
        self.checked.append(encoded)
        if self.arrived < self.count:
            self.arrived += 1
            self.arrive()
        return check_password(password, encoded)


# Deterministic: every attempt in flight at once (any database).


@pytest.mark.django_db
def test_wrong_passwords_in_flight_together_get_no_more_checks_than_the_lock_allows(
    alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(alice)
    spy = ChecksWhileOthersArrive(
        AT_ONCE, lambda: login_rules.check_credentials(alice.matricule, WRONG, ip_address=None)
    )
    monkeypatch.setattr(login_rules, "check_password", spy)

    login_rules.check_credentials(alice.matricule, WRONG, ip_address=None)

    assert spy.arrived == AT_ONCE
    assert spy.checked.count(account.password) == login_rules.LOCK_FROM_FAILURE
    # The others cost the same work, against the dummy hash.
    assert spy.checked.count(login_rules.dummy_hash()) == AT_ONCE - login_rules.LOCK_FROM_FAILURE
    account.refresh_from_db()
    assert account.failed_logins == login_rules.LOCK_FROM_FAILURE
    assert account.locked_until is not None
    assert AuditEvent.objects.filter(event_type=EventType.ACCOUNT_LOCKED).count() == 1
    reasons = [
        event.details["reason"]
        for event in AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED)
    ]
    assert sorted(reasons) == sorted(
        ["wrong_password"] * login_rules.LOCK_FROM_FAILURE
        + ["locked"] * (AT_ONCE - login_rules.LOCK_FROM_FAILURE)
    )
    notices = OutboundMessage.objects.filter(
        recipient=EMAIL, subject="Votre compte eSanté est bloqué temporairement"
    )
    assert notices.count() == 1


@pytest.mark.django_db
def test_after_a_lock_ends_one_attempt_in_flight_is_checked_before_the_next_lock(
    alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(alice)
    Account.objects.filter(pk=account.pk).update(
        failed_logins=login_rules.LOCK_FROM_FAILURE, locked_until=None
    )
    spy = ChecksWhileOthersArrive(
        4, lambda: login_rules.check_credentials(alice.matricule, WRONG, ip_address=None)
    )
    monkeypatch.setattr(login_rules, "check_password", spy)

    login_rules.check_credentials(alice.matricule, WRONG, ip_address=None)

    assert spy.checked.count(account.password) == 1
    account.refresh_from_db()
    assert account.failed_logins == login_rules.LOCK_FROM_FAILURE + 1
    assert account.locked_until is not None


@pytest.mark.django_db
def test_the_right_password_gives_its_claim_back(alice: InsuredPerson) -> None:
    account = make_account(alice)
    Account.objects.filter(pk=account.pk).update(failed_logins=2)

    assert login_rules.check_credentials(alice.matricule, PASSWORD, ip_address=None) is not None

    account.refresh_from_db()
    assert account.failed_logins == 2 and account.locked_until is None


@pytest.mark.django_db
def test_the_right_password_on_the_last_free_try_takes_no_lock(alice: InsuredPerson) -> None:
    """The 5th try claims the lock while it is checked; the right password lifts it."""
    account = make_account(alice)
    Account.objects.filter(pk=account.pk).update(failed_logins=login_rules.LOCK_FROM_FAILURE - 1)

    assert login_rules.check_credentials(alice.matricule, PASSWORD, ip_address=None) is not None

    account.refresh_from_db()
    assert account.failed_logins == login_rules.LOCK_FROM_FAILURE - 1
    assert account.locked_until is None
    assert not AuditEvent.objects.filter(event_type=EventType.ACCOUNT_LOCKED).exists()


@pytest.mark.django_db
def test_the_right_password_after_an_expired_lock_keeps_the_expired_lock(
    alice: InsuredPerson,
) -> None:
    account = make_account(alice)
    expired = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Account.objects.filter(pk=account.pk).update(
        failed_logins=login_rules.LOCK_FROM_FAILURE + 2, locked_until=expired
    )

    assert login_rules.check_credentials(alice.matricule, PASSWORD, ip_address=None) is not None

    account.refresh_from_db()
    assert account.failed_logins == login_rules.LOCK_FROM_FAILURE + 2
    assert account.locked_until == expired


@pytest.mark.django_db
def test_wrong_passwords_in_flight_together_stay_within_the_matricules_rate_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A matricule without an account (so that no lock stops the burst): its rate limit
    alone is left, one try from its end, and every try arrives while the first hashes."""
    unknown = matricule_rules.make(years_ago(40, days=17), 977)
    prefill_matricule(unknown, left=1)
    statuses: list[int] = []
    # Three more arrive while the first one hashes.
    spy = ChecksWhileOthersArrive(
        2, lambda: statuses.extend(submit(unknown).status_code for _other in range(3))
    )
    monkeypatch.setattr(login_rules, "check_password", spy)

    first = submit(unknown)

    assert first.status_code == 400
    assert statuses == [429, 429, 429]
    assert len(spy.checked) == 1


@pytest.mark.django_db
def test_wrong_codes_in_flight_together_stay_within_the_persons_rate_limit(
    alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_account(alice)
    client = Client()
    assert submit_in(client, alice.matricule, PASSWORD)["Location"] == reverse("patient:login_code")
    code = last_one_time_code(EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    rule = next(r for r in ratelimit.RATE_LIMITS["otp.failed"] if r.scope == "key")
    other_address = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9")
    for _hit in range(rule.limit - 1):
        ratelimit.hit("otp.failed", other_address, key=str(alice.pk))
    verify = CodeVerification.verify
    arrivals: list[str] = []
    second: list[int] = []

    def verify_while_another_arrives(self: CodeVerification, typed: str, **kwargs: Any) -> Any:
        if not arrivals:  # the first one is being checked: the second arrives
            arrivals.append(typed)
            second.append(client.post(reverse("patient:login_code"), {"code": wrong}).status_code)
        return verify(self, typed, **kwargs)

    monkeypatch.setattr(CodeVerification, "verify", verify_while_another_arrives)

    first = client.post(reverse("patient:login_code"), {"code": wrong})

    assert first.status_code == 400
    assert second == [429]


@pytest.mark.django_db
def test_the_right_code_gives_its_place_back(alice: InsuredPerson) -> None:
    make_account(alice)
    client = Client()
    submit_in(client, alice.matricule, PASSWORD)
    other_address = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9")
    rule = next(r for r in ratelimit.RATE_LIMITS["otp.failed"] if r.scope == "key")
    for _hit in range(rule.limit - 1):
        ratelimit.hit("otp.failed", other_address, key=str(alice.pk))

    done = client.post(reverse("patient:login_code"), {"code": last_one_time_code(EMAIL)})

    assert done["Location"] == reverse("patient:services")
    assert ratelimit.attempts("otp.failed", other_address, key=str(alice.pk)) == rule.limit - 1


# Real threads on PostgreSQL (SQLite runs one writer at a time).


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_wrong_passwords_sent_at_once_lock_the_account_after_five_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = make_person("Alice", "Martin", years_ago(41))
    account = make_account(alice)
    checked: list[str] = []

    def counting(password: str, encoded: str) -> bool:
        checked.append(encoded)  # list.append is atomic under the GIL
        return check_password(password, encoded)

    monkeypatch.setattr(login_rules, "check_password", counting)

    answers = in_threads(AT_ONCE, lambda: submit(alice.matricule))

    assert [answer.status_code for answer in answers] == [400] * AT_ONCE
    assert checked.count(account.password) == login_rules.LOCK_FROM_FAILURE
    account.refresh_from_db()
    assert account.failed_logins == login_rules.LOCK_FROM_FAILURE
    assert account.locked_until is not None
    assert AuditEvent.objects.filter(event_type=EventType.ACCOUNT_LOCKED).count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).count() == AT_ONCE


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_wrong_passwords_sent_at_once_stay_within_the_matricules_rate_limit() -> None:
    unknown = matricule_rules.make(years_ago(40, days=17), 977)
    left = 3
    prefill_matricule(unknown, left=left)

    answers = in_threads(AT_ONCE, lambda: submit(unknown).status_code)

    assert sorted(answers) == [400] * left + [429] * (AT_ONCE - left)


# The claim: one UPDATE … RETURNING, whose lock is the one it wrote.


@pytest.mark.django_db
@pytest.mark.parametrize("failures", [0, 3, 4, 5, 8, 12, 99])
def test_a_claim_returns_the_count_and_the_lock_it_wrote(
    alice: InsuredPerson, failures: int
) -> None:
    account = make_account(alice)
    Account.objects.filter(pk=account.pk).update(failed_logins=failures, locked_until=None)
    account.refresh_from_db()
    now = timezone.now()

    claim = login_rules.claim_attempt(account, now)

    assert claim is not None
    account.refresh_from_db()
    assert claim.failures == account.failed_logins == failures + 1
    duration = login_rules.lock_duration(failures + 1)
    assert claim.lock == (now + duration if duration else None)
    assert account.locked_until == claim.lock
    assert claim.previous_lock is None


@pytest.mark.django_db
def test_a_claim_on_a_known_browser_counts_on_the_browser_alone(alice: InsuredPerson) -> None:
    account = make_account(alice)
    device = KnownDevice.objects.create(
        account=account,
        token_hash="x" * 64,
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
        failed_logins=login_rules.LOCK_FROM_FAILURE - 1,
    )
    now = timezone.now()

    claim = login_rules.claim_attempt(device, now)

    assert claim is not None and claim.failures == login_rules.LOCK_FROM_FAILURE
    device.refresh_from_db()
    account.refresh_from_db()
    assert device.locked_until == claim.lock == now + login_rules.FIRST_LOCK
    assert account.failed_logins == 0 and account.locked_until is None


@pytest.mark.django_db
def test_no_claim_while_locked_nor_after_100_failures(alice: InsuredPerson) -> None:
    account = make_account(alice)
    now = timezone.now()
    later = now + datetime.timedelta(seconds=1)
    Account.objects.filter(pk=account.pk).update(failed_logins=6, locked_until=later)
    assert login_rules.claim_attempt(account, now) is None
    # The lock ends at `later`: from then on, a claim.
    assert login_rules.claim_attempt(account, later) is not None
    Account.objects.filter(pk=account.pk).update(
        failed_logins=login_rules.MAX_CONSECUTIVE_FAILURES, locked_until=None
    )
    assert login_rules.claim_attempt(account, later) is None
    account.refresh_from_db()
    assert account.failed_logins == login_rules.MAX_CONSECUTIVE_FAILURES
