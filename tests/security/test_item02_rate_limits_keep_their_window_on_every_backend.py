"""Issue 13, item 2: every rate limit keeps its window and counts atomically, on every
store the platform supports — the database (SQLite for `make run`, PostgreSQL without
Redis) and Redis.

The counters used to live in Django's cache. Without Redis that is the DatabaseCache,
whose incr() reads the count and writes it back with the default lifetime of 300 seconds
(decr() too), so an idle counter vanished after 5 minutes and per-hour and per-day limits
started over; whose read-then-write lets requests sent at once count as one; and which
drops a third of its rows once it holds 300. Each test runs on the database store and,
when REDIS_URL is set, on Redis. The clock moves with time-machine; Redis keeps its own
clock, so there the tests show the window logic, and the key's lifetime is read back.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabase
from django.http import HttpRequest
from django.test import RequestFactory

from esante import ratelimit
from esante.counters import store as counters_store
from esante.counters.models import RateCounter
from tests.concurrency import ON_POSTGRESQL, in_threads

pytestmark = pytest.mark.django_db

HOURLY = "login.failed"  # 30 wrong passwords an hour per matricule
DAILY = "recovery.request"  # 5 recovery requests a day per matricule
KEY = "alice"
HOUR = datetime.timedelta(hours=1)
ELEVEN = datetime.datetime(2025, 3, 3, 10, 0, 5, tzinfo=datetime.UTC)  # an hour's start


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """The counters' store: the database (the default cache is not Redis), or Redis."""
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("needs Redis (REDIS_URL)")
    else:
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "esante_cache",
            },
        }
    yield request.param


def request_from(ip: str) -> HttpRequest:
    return RequestFactory().post("/", REMOTE_ADDR=ip)


def key_limit(action: str) -> int:
    return next(rule.limit for rule in ratelimit.RATE_LIMITS[action] if rule.scope == "key")


def fill(action: str, times: int, *, key: str = KEY) -> None:
    """`times` occurrences of `action` for `key`, each from another address (so that only
    the rule per key counts them all)."""
    for each in range(times):
        ratelimit.hit(action, request_from(f"10.1.{each // 250}.{each % 250 + 1}"), key=key)


def is_refused(action: str, *, key: str = KEY, ip: str = "198.51.100.7") -> bool:
    try:
        ratelimit.reserve(action, request_from(ip), key=key)
    except ratelimit.RateLimited:
        return True
    return False


def test_a_per_hour_limit_still_refuses_6_and_59_minutes_later(store: str) -> None:
    with time_machine.travel(ELEVEN, tick=False) as traveller:
        fill(HOURLY, key_limit(HOURLY))
        assert is_refused(HOURLY)

        traveller.shift(datetime.timedelta(minutes=6))
        assert is_refused(HOURLY, ip="198.51.100.8")

        traveller.shift(datetime.timedelta(minutes=53))  # 10:59:05
        assert is_refused(HOURLY, ip="198.51.100.9")
        assert ratelimit.attempts(HOURLY, request_from("192.0.2.1"), key=KEY) == key_limit(HOURLY)

        traveller.shift(datetime.timedelta(minutes=1))  # 11:00:05: the next hour
        assert not is_refused(HOURLY, ip="198.51.100.10")


def test_a_per_day_limit_still_refuses_later_that_day(store: str) -> None:
    with time_machine.travel(ELEVEN.replace(hour=0), tick=False) as traveller:
        for _request in range(key_limit(DAILY)):
            ratelimit.check_and_hit(DAILY, request_from("198.51.100.7"), key=KEY)

        for later in (datetime.timedelta(minutes=6), datetime.timedelta(minutes=53), 23 * HOUR):
            traveller.shift(later)
            with pytest.raises(ratelimit.RateLimited):
                ratelimit.check_and_hit(DAILY, request_from("192.0.2.44"), key=KEY)

        traveller.shift(datetime.timedelta(hours=1))  # 00:59:05 the next day
        ratelimit.check_and_hit(DAILY, request_from("192.0.2.44"), key=KEY)


def test_a_release_does_not_reset_the_window(store: str) -> None:
    with time_machine.travel(ELEVEN, tick=False) as traveller:
        fill(HOURLY, key_limit(HOURLY) - 1)
        ratelimit.reserve(HOURLY, request_from("198.51.100.7"), key=KEY).release()

        traveller.shift(datetime.timedelta(minutes=6))

        assert ratelimit.attempts(HOURLY, request_from("192.0.2.1"), key=KEY) == (
            key_limit(HOURLY) - 1
        )
        assert not is_refused(HOURLY)  # the last place
        assert is_refused(HOURLY)


def test_a_release_after_the_window_gives_nothing_back_to_the_next(store: str) -> None:
    with time_machine.travel(ELEVEN - datetime.timedelta(seconds=10), tick=False) as traveller:
        attempt = ratelimit.reserve(HOURLY, request_from("198.51.100.7"), key=KEY)
        traveller.shift(datetime.timedelta(seconds=20))  # the next hour
        fill(HOURLY, 2)

        attempt.release()

        assert ratelimit.attempts(HOURLY, request_from("192.0.2.1"), key=KEY) == 2


def test_a_limit_holds_however_many_other_counters_are_live(store: str) -> None:
    with time_machine.travel(ELEVEN, tick=False):
        fill(HOURLY, key_limit(HOURLY))

        for other in range(400):  # the DatabaseCache culled a third of its rows from 300
            ratelimit.hit(HOURLY, request_from("192.0.2.200"), key=f"matricule {other}")

        assert is_refused(HOURLY)


def test_a_counter_in_redis_lives_until_its_window_ends(store: str) -> None:
    if store != "redis":
        pytest.skip("Redis keys only")
    from django_redis import get_redis_connection

    with time_machine.travel(ELEVEN, tick=False) as traveller:
        fill(HOURLY, 1)
        traveller.shift(datetime.timedelta(minutes=30))
        fill(HOURLY, 1)

    redis = get_redis_connection("default")
    lifetimes = [redis.ttl(key) for key in redis.keys(cache.make_key("rl:*"))]
    # Per matricule and per address: set once, at 10:00:05, to the end of the hour.
    assert lifetimes
    assert all(3500 <= lifetime <= 3595 for lifetime in lifetimes), lifetimes  # not 1795


Work = Callable[[], Any]


@pytest.fixture
def app_servers(tmp_path: Path) -> Callable[[Work], Work]:
    """Wraps a thread's work so that it runs on the database app servers share: the test
    database on PostgreSQL; on SQLite, a file with `make run`'s settings (WAL, a busy
    timeout) holding the counters' tables — the in-memory test database refuses a writer
    that would wait for another instead of making it wait, as a file does."""
    if ON_POSTGRESQL:
        return lambda work: work
    shared = {**connection.settings_dict, "NAME": str(tmp_path / "esante.sqlite3")}
    setup = SQLiteDatabase(shared, DEFAULT_DB_ALIAS)
    with setup.schema_editor() as editor:
        editor.create_model(RateCounter)
        editor.execute(  # what `esante createcachetable` makes, for the cache's counters
            "CREATE TABLE esante_cache (cache_key varchar(255) NOT NULL PRIMARY KEY,"
            " value text NOT NULL, expires datetime NOT NULL)"
        )
    setup.close()

    def on_the_file(work: Work) -> Work:
        def run() -> Any:
            connections[DEFAULT_DB_ALIAS] = SQLiteDatabase(shared, DEFAULT_DB_ALIAS)
            return work()

        return run

    return on_the_file


@pytest.mark.django_db(transaction=True)
def test_reservations_sent_at_once_never_pass_the_limit(
    store: str, app_servers: Callable[[Work], Work]
) -> None:
    left = 4
    in_threads(1, app_servers(lambda: fill(HOURLY, key_limit(HOURLY) - left)))

    results = in_threads(20, app_servers(lambda: not is_refused(HOURLY)))

    assert sorted(results) == [False] * (20 - left) + [True] * left
    assert in_threads(1, app_servers(lambda: count(HOURLY))) == [key_limit(HOURLY)]


@pytest.mark.django_db(transaction=True)
def test_hits_sent_at_once_are_all_counted(store: str, app_servers: Callable[[Work], Work]) -> None:
    def hit() -> None:
        ratelimit.hit(DAILY, request_from("198.51.100.7"), key=KEY)

    in_threads(12, app_servers(hit))

    assert in_threads(1, app_servers(lambda: count(DAILY))) == [12]


def count(action: str) -> int:
    return ratelimit.attempts(action, request_from("192.0.2.1"), key=KEY)


def test_ended_windows_are_purged_from_the_database_without_touching_live_ones(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store != "database":
        pytest.skip("Redis expires its keys itself")
    monkeypatch.setattr(counters_store, "PURGE_ONE_IN", 1)  # every new counter purges
    with time_machine.travel(ELEVEN, tick=False) as traveller:
        fill(HOURLY, 3, key="bob")  # one counter per matricule, three per address
        fill(DAILY, 1, key="bob")
        traveller.shift(HOUR)

        fill(HOURLY, 1)  # a new window: ended ones go

        assert sorted(RateCounter.objects.values_list("count", flat=True)) == [1, 1, 1]
        assert ratelimit.attempts(DAILY, request_from("192.0.2.1"), key="bob") == 1


def test_a_login_attempt_is_one_statement_for_all_its_rules(
    store: str, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    if store != "database":
        pytest.skip("the database store's statements")
    monkeypatch.setattr(counters_store, "PURGE_ONE_IN", 10**12)  # no purge this time

    with django_assert_num_queries(1):  # per address and per matricule
        attempt = ratelimit.reserve(HOURLY, request_from("198.51.100.7"), key=KEY)
    with django_assert_num_queries(1):
        ratelimit.attempts(HOURLY, request_from("198.51.100.7"), key=KEY)

    assert len(attempt.counters) == 2
