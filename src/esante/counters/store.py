"""Counters that last exactly their time window and count atomically, on every store.

A counter is named by a key that already holds its window (esante.ratelimit._counter) and
lives until `window_end`. With Redis as the default cache (REDIS_URL), it is a Redis key:
one Lua script adds one to each counter of a request and gives a new key its lifetime, once
— later counts never extend it nor start it over. Without Redis, it is a `RateCounter` row:
one INSERT … ON CONFLICT DO UPDATE … RETURNING statement (SQLite ≥ 3.35, PostgreSQL) adds
one to each counter of a request, creating the ones that are new.

Django's cache API cannot do this: its incr() and decr() read the value and write it back,
which on the database cache loses counts sent at once and gives the counter the default
lifetime of 300 seconds; and the database cache drops a third of its rows once it holds
300. Each function makes one round trip to the store, whatever the number of counters.

Rows of ended windows are deleted a few hundred at a time, by one in PURGE_ONE_IN requests
that open a new window (docs/operations.md).
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.db import connection, transaction
from django.db.models import F
from django_redis.cache import RedisCache

from esante import raw_sql
from esante.counters.models import RateCounter

# Purge ended windows on one in this many counters created, at most PURGE_BATCH rows.
PURGE_ONE_IN = 50
PURGE_BATCH = 500


# KEYS: the counters; ARGV: each one's lifetime in seconds. Their new counts.
_INCREMENT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then
    redis.call('EXPIRE', key, ARGV[i])
  end
  counts[i] = count
end
return counts
"""

# KEYS: the counters; ARGV: each one's lifetime in seconds, then the ceiling. Nothing
# (nil) when a counter already counts the ceiling; else as _INCREMENT.
_INCREMENT_BELOW = (
    """
local ceiling = tonumber(ARGV[#KEYS + 1])
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= ceiling then
    return false
  end
end
"""
    + _INCREMENT
)

# KEYS: the counters. One less on each that still exists (an ended window stays ended).
_DECREMENT = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then
    redis.call('DECR', key)
  end
end
return 0
"""


def increment(
    counters: Sequence[tuple[str, datetime.datetime]], now: datetime.datetime
) -> list[int]:
    """Add one to each counter (its key, the end of its window); their new counts, in order."""
    if not counters:
        return []
    if _in_redis():
        client = _redis()
        keys, lifetimes = _redis_keys(counters, now)
        script = client.register_script(_INCREMENT)
        return [int(count) for count in script(keys=keys, args=lifetimes, client=client)]
    counts = _upsert(dict(counters))
    if 1 in counts.values() and secrets.randbelow(PURGE_ONE_IN) == 0:
        purge(now, batch=PURGE_BATCH)
    return [counts[key] for key, _end in counters]


def increment_below(
    counters: Sequence[tuple[str, datetime.datetime]], ceiling: int, now: datetime.datetime
) -> list[int] | None:
    """increment(), unless a counter already counts `ceiling` or more: None then, and
    nothing added. On Redis in one step (one script: what it read is what it adds to);
    on the database, read() then increment(), as two calls would."""
    if not counters:
        return []
    if _in_redis():
        client = _redis()
        keys, lifetimes = _redis_keys(counters, now)
        script = client.register_script(_INCREMENT_BELOW)
        counts = script(keys=keys, args=[*lifetimes, ceiling], client=client)
        return None if counts is None else [int(count) for count in counts]
    if max(read([key for key, _end in counters], now)) >= ceiling:
        return None
    return increment(counters, now)


def decrement(keys: Sequence[str], now: datetime.datetime) -> None:
    """Take one off each counter whose window has not ended, never below zero."""
    if not keys:
        return
    if _in_redis():
        client = _redis()
        script = client.register_script(_DECREMENT)
        script(keys=[_cache().make_key(key) for key in keys], client=client)
        return
    # The rows locked in the order of their keys, as increment() locks them: an UPDATE
    # alone locks them in the order it finds them, and two statements locking the same
    # rows in two orders deadlock (PostgreSQL; SQLite has one writer at a time).
    live = (
        RateCounter.objects.filter(key__in=keys, window_end__gt=now, count__gt=0)
        .order_by("key")
        .select_for_update()
        .values("key")
    )
    with transaction.atomic():
        RateCounter.objects.filter(key__in=live).update(count=F("count") - 1)


def read(keys: Sequence[str], now: datetime.datetime) -> list[int]:
    """Each counter's count (0 for one not started or whose window has ended), in order."""
    if not keys:
        return []
    if _in_redis():
        values = _redis().mget([_cache().make_key(key) for key in keys])
        return [int(value or 0) for value in values]
    counts = dict(
        RateCounter.objects.filter(key__in=keys, window_end__gt=now).values_list("key", "count")
    )
    return [counts.get(key, 0) for key in keys]


def purge(now: datetime.datetime, *, batch: int | None = None) -> int:
    """Delete the database counters whose window has ended (at most `batch`); how many."""
    ended = RateCounter.objects.filter(window_end__lte=now)
    if batch is not None:
        ended = RateCounter.objects.filter(pk__in=ended.values("pk")[:batch])
    deleted, _by_model = ended.delete()
    return deleted


def _upsert(counters: dict[str, datetime.datetime]) -> dict[str, int]:
    """One statement: each counter created at 1 or raised by one; the new counts by key.
    Keys in order, so that two requests sharing counters lock their rows in one order."""
    table, key, window_end, count = raw_sql.names(RateCounter, "key", "window_end", "count")
    keys = sorted(counters)
    values = ", ".join(["(%s, %s, 1)"] * len(keys))
    parameters: list[Any] = []
    for each in keys:
        parameters += [each, connection.ops.adapt_datetimefield_value(counters[each])]
    sql = (
        f"INSERT INTO {table} ({key}, {window_end}, {count}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {key}, {count}"
    )
    return {str(key): int(count) for key, count in raw_sql.returning(sql, parameters)}


def _redis_keys(
    counters: Sequence[tuple[str, datetime.datetime]], now: datetime.datetime
) -> tuple[list[str], list[int]]:
    """The counters' Redis keys (the cache's prefix), and each one's lifetime in seconds
    from `now` to the end of its window."""
    keys = [_cache().make_key(key) for key, _end in counters]
    lifetimes = [max(1, int((end - now).total_seconds())) for _key, end in counters]
    return keys, lifetimes


def _cache() -> BaseCache:
    return caches["default"]


def _in_redis() -> bool:
    return isinstance(_cache(), RedisCache)


def _redis() -> Any:
    """The Redis client of the default cache (django-redis), for scripts and MGET."""
    return _cache().client.get_client(write=True)  # type: ignore[attr-defined]
