"""ratelimit.reserve: an attempt counted before the slow work it limits, so that attempts
in flight together cannot all pass one check; given back when it turns out not to count."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.http import HttpRequest
from django.test import RequestFactory

from esante import ratelimit
from tests.concurrency import in_threads, needs_postgresql

pytestmark = pytest.mark.django_db

ACTION = "login.failed"
KEY = "alice"


def request_from(ip: str = "198.51.100.7") -> HttpRequest:
    return RequestFactory().post("/", REMOTE_ADDR=ip)


def limit(scope: str) -> int:
    return next(rule.limit for rule in ratelimit.RATE_LIMITS[ACTION] if rule.scope == scope)


def count(key: str = KEY, ip: str = "198.51.100.7") -> int:
    return ratelimit.attempts(ACTION, request_from(ip), key=key)


def prefill(times: int, *, key: str = KEY, ip: str = "203.0.113.1") -> None:
    for _hit in range(times):
        ratelimit.hit(ACTION, request_from(ip), key=key)


def test_two_attempts_in_flight_cannot_both_take_the_last_place() -> None:
    prefill(limit("key") - 1)

    first = ratelimit.reserve(ACTION, request_from(), key=KEY)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.reserve(ACTION, request_from(), key=KEY)  # before the first is known

    assert first.counters
    assert count() == limit("key")


def test_check_then_hit_let_both_through_which_is_why_reserve_exists() -> None:
    prefill(limit("key") - 1)

    ratelimit.check(ACTION, request_from(), key=KEY)
    ratelimit.check(ACTION, request_from(), key=KEY)  # both pass: neither counted yet

    assert count() == limit("key") - 1


def test_a_refused_reservation_leaves_no_count_behind() -> None:
    prefill(limit("key"))

    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.reserve(ACTION, request_from("192.0.2.77"), key=KEY)

    assert refused.value.retry_after > 0
    assert count() == limit("key")
    assert count(key="nobody", ip="192.0.2.77") == 0  # the per-IP count was given back


def test_released_reservations_count_nothing() -> None:
    for _attempt in range(limit("key") + 5):
        ratelimit.reserve(ACTION, request_from(), key=KEY).release()

    assert count() == 0


def test_a_release_gives_back_only_once() -> None:
    prefill(2)
    attempt = ratelimit.reserve(ACTION, request_from(), key=KEY)

    attempt.release()
    attempt.release()

    assert count() == 2


def test_a_release_after_the_window_changes_only_its_own_window() -> None:
    start = datetime.datetime(2025, 3, 3, 10, 59, 59, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        attempt = ratelimit.reserve(ACTION, request_from(), key=KEY)
        traveller.shift(datetime.timedelta(seconds=2))  # a new hour: a new counter
        prefill(3)

        attempt.release()

        assert count() == 3


def test_check_and_hit_refuses_past_the_limit_without_counting() -> None:
    action = "activation.new_letter"
    key_limit = next(r.limit for r in ratelimit.RATE_LIMITS[action] if r.scope == "key")
    for _attempt in range(key_limit):
        ratelimit.check_and_hit(action, request_from(), key=KEY)

    for _refused in range(3):
        with pytest.raises(ratelimit.RateLimited):
            ratelimit.check_and_hit(action, request_from(), key=KEY)

    assert ratelimit.attempts(action, request_from(), key=KEY) == key_limit


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_reservations_sent_at_once_never_pass_the_limit() -> None:
    left = 4
    prefill(limit("key") - left)

    def attempt() -> bool:
        try:
            ratelimit.reserve(ACTION, request_from(), key=KEY)
        except ratelimit.RateLimited:
            return False
        return True

    results = in_threads(20, attempt)

    assert sorted(results) == [False] * (20 - left) + [True] * left
    assert count() == limit("key")


# reserve_below: the count read and the attempt counted in one step (a login's captcha).


def test_reserve_below_counts_nothing_from_its_ceiling() -> None:
    prefill(2)

    assert ratelimit.reserve_below(ACTION, request_from(), key=KEY, ceiling=3) is not None
    assert count() == 3
    assert ratelimit.reserve_below(ACTION, request_from(), key=KEY, ceiling=3) is None
    assert count() == 3


def test_reserve_below_reads_every_rule() -> None:
    """The address's count asks for the ceiling too, whatever the key's."""
    prefill(3, key="someone else", ip="198.51.100.7")

    assert ratelimit.reserve_below(ACTION, request_from(), key=KEY, ceiling=3) is None
    assert count(key=KEY) == 3  # the address's count: nothing added to it


def test_reserve_below_refuses_past_a_limit_with_nothing_counted() -> None:
    prefill(limit("key"))

    with pytest.raises(ratelimit.RateLimited):
        ratelimit.reserve_below(ACTION, request_from(), key=KEY, ceiling=limit("key") + 5)

    assert count() == limit("key")


def test_reserve_below_gives_its_place_back() -> None:
    prefill(1)

    reservation = ratelimit.reserve_below(ACTION, request_from(), key=KEY, ceiling=3)
    assert reservation is not None and count() == 2
    reservation.release()

    assert count() == 1


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.skipif(not settings.REDIS_URL, reason="one step on Redis; read then count without")
@pytest.mark.django_db(transaction=True)
def test_reservations_below_a_ceiling_sent_at_once_stop_at_it() -> None:
    prefill(1)

    def attempt() -> bool:
        return ratelimit.reserve_below(ACTION, request_from(), key=KEY, ceiling=3) is not None

    results = in_threads(20, attempt)

    assert sorted(results) == [False] * 18 + [True] * 2
    assert count() == 3
