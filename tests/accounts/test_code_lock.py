"""Wrong codes counted per person and flow across codes (CodeLock), each try claimed in one
statement whether the person's row is there or not
(esante.accounts.authenticators.one_time_codes.claim_code_try), and a code's own tries
taken the same way (CodeVerification.verify)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from esante.accounts.authenticators.one_time_codes import (
    FIRST_CODE_LOCK,
    LOCK_FROM_WRONG_CODES,
    CodeTry,
    CodeVerification,
    LockKey,
    Outcome,
    claim_code_try,
    give_back_code_try,
)
from esante.accounts.models import CodeChannel, CodeLock, CodePurpose, OneTimeCode
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import DeliveryState
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import last_one_time_code
from tests.concurrency import in_threads, needs_postgresql
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db

EMAIL = "alice@example.lu"


def sent_code(person: InsuredPerson, *, new_flow: bool = False) -> CodeVerification:
    request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.9")
    return CodeVerification.send(
        request,
        purpose=CodePurpose.LOGIN,
        flow_id="flow-lock",
        person=person,
        channel=CodeChannel.EMAIL,
        destination=EMAIL,
        new_flow=new_flow,
    )


def wrong_code() -> str:
    return "000000" if last_one_time_code(EMAIL) != "000000" else "111111"


def lock_of(person: InsuredPerson) -> CodeLock | None:
    return CodeLock.objects.filter(flow="login", subject=f"person:{person.pk}").first()


def claimed(key: LockKey, now: datetime.datetime) -> CodeTry:
    result = claim_code_try(key, now)
    assert isinstance(result, CodeTry), result
    return result


def test_the_first_wrong_code_makes_the_persons_row(alice: InsuredPerson) -> None:
    verification = sent_code(alice)

    assert verification.verify(wrong_code()).outcome is Outcome.WRONG

    lock = lock_of(alice)
    assert lock is not None and lock.failures == 1 and lock.locked_until is None


def test_the_right_code_deletes_the_persons_row(alice: InsuredPerson) -> None:
    verification = sent_code(alice)
    for _each in range(3):
        verification.verify(wrong_code())
    assert lock_of(alice) is not None

    assert verification.verify(last_one_time_code(EMAIL)).outcome is Outcome.OK

    assert lock_of(alice) is None


def test_the_tenth_wrong_code_brings_the_lock_and_codes_tried_meanwhile_change_nothing() -> None:
    key = LockKey.for_person(CodePurpose.LOGIN, 1)
    now = timezone.now()
    tries = [claimed(key, now) for _each in range(LOCK_FROM_WRONG_CODES)]

    assert [each.failures for each in tries] == list(range(1, LOCK_FROM_WRONG_CODES + 1))
    assert [each.lock for each in tries] == [None] * 9 + [now + FIRST_CODE_LOCK]
    row = CodeLock.objects.get(flow=key.flow, subject=key.subject)
    assert row.locked_until == now + FIRST_CODE_LOCK

    assert claim_code_try(key, now + datetime.timedelta(seconds=20)) == 40  # seconds left
    assert CodeLock.objects.get(pk=row.pk).failures == LOCK_FROM_WRONG_CODES

    later = now + FIRST_CODE_LOCK
    after = claimed(key, later)  # the lock has ended: the next wrong code doubles it
    assert after.failures == LOCK_FROM_WRONG_CODES + 1
    assert after.lock == later + 2 * FIRST_CODE_LOCK
    assert CodeLock.objects.get(pk=row.pk).locked_until == after.lock


def test_a_try_given_back_takes_its_lock_with_it() -> None:
    key = LockKey.for_person(CodePurpose.LOGIN, 1)
    now = timezone.now()
    for _each in range(LOCK_FROM_WRONG_CODES - 1):
        claimed(key, now)
    tenth = claimed(key, now)
    assert tenth.lock is not None

    give_back_code_try(tenth)

    row = CodeLock.objects.get(flow=key.flow, subject=key.subject)
    assert row.failures == LOCK_FROM_WRONG_CODES - 1 and row.locked_until is None


def test_the_right_code_takes_four_statements_besides_reading_the_code(
    alice: InsuredPerson,
) -> None:
    verification = sent_code(alice)
    typed = last_one_time_code(EMAIL)

    with CaptureQueriesContext(connection) as queries:
        assert verification.verify(typed).outcome is Outcome.OK

    # The try on the person's row, the code's try, its consumption, the row deleted: no
    # savepoint, no reading back.
    assert len(queries) == 4, [query["sql"] for query in queries]
    code = OneTimeCode.objects.get(pk=verification.code.pk)
    assert code.consumed_at == verification.code.consumed_at and code.failed_attempts == 0


def test_a_new_flows_code_replaces_nothing_and_a_resend_replaces_it(
    alice: InsuredPerson,
) -> None:
    with CaptureQueriesContext(connection) as queries:
        first = sent_code(alice, new_flow=True)
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]

    second = sent_code(alice)

    first.code.refresh_from_db()
    assert first.code.superseded_at is not None
    assert first.code.message is not None
    assert first.code.message.state == DeliveryState.FAILED  # never delivered now
    assert first.verify(last_one_time_code(EMAIL)).outcome is Outcome.USED
    assert second.code.superseded_at is None


def test_the_code_and_its_messages_state_are_read_in_one_query(alice: InsuredPerson) -> None:
    sent = sent_code(alice)
    assert sent.code.message is not None

    with CaptureQueriesContext(connection) as queries:
        found = CodeVerification.find(sent.code.pk, "flow-lock")
        assert found is not None and not found.delivery_failed
    assert len(queries) == 1

    sent.code.message.last_error = "carrier down"
    sent.code.message.save()
    found = CodeVerification.find(sent.code.pk, "flow-lock")
    assert found is not None and found.delivery_failed


# Real threads on PostgreSQL (SQLite runs one writer at a time).

AT_ONCE = 8


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_first_wrong_codes_sent_at_once_each_count() -> None:
    key = LockKey.for_person(CodePurpose.LOGIN, 1)
    now = timezone.now()

    tries = in_threads(AT_ONCE, lambda: claim_code_try(key, now))

    assert sorted(each.failures for each in tries) == list(range(1, AT_ONCE + 1))
    assert CodeLock.objects.get(flow=key.flow, subject=key.subject).failures == AT_ONCE


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_wrong_codes_sent_at_once_past_the_tenth_bring_one_lock() -> None:
    key = LockKey.for_person(CodePurpose.LOGIN, 1)
    CodeLock.objects.create(flow=key.flow, subject=key.subject, failures=7)
    now = timezone.now()

    results = in_threads(AT_ONCE, lambda: claim_code_try(key, now))

    counted = sorted(each.failures for each in results if isinstance(each, CodeTry))
    assert counted == [8, 9, 10]
    assert [each.lock for each in results if isinstance(each, CodeTry) and each.lock] == [
        now + FIRST_CODE_LOCK
    ]
    assert sorted(each for each in results if isinstance(each, int)) == [60] * (AT_ONCE - 3)
    assert CodeLock.objects.get(flow=key.flow, subject=key.subject).failures == 10


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_wrong_codes_sent_at_once_take_one_try_each_and_no_more_than_five() -> None:
    alice = make_person("Alice", "Martin", years_ago(41))
    sent = sent_code(alice)
    wrong = wrong_code()

    def guess() -> Outcome:
        verification = CodeVerification.find(sent.code.pk, "flow-lock")
        assert verification is not None
        return verification.verify(wrong).outcome

    outcomes = in_threads(AT_ONCE, guess)

    assert sorted(outcome.value for outcome in outcomes) == sorted(
        ["wrong"] * 4 + ["exhausted"] * (AT_ONCE - 4)
    )
    assert OneTimeCode.objects.get(pk=sent.code.pk).failed_attempts == 5
    counts = AuditEvent.objects.filter(event_type=EventType.OTP_FAILED).values_list(
        "details__failed_attempts", flat=True
    )
    assert sorted(counts) == [1, 2, 3, 4, 5]  # each counted try its own number
    lock = lock_of(alice)
    assert lock is not None and lock.failures == 5  # the tries left uncounted given back
