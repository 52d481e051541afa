"""`esante serve`: nodes started together migrate one after the other."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.db import connection

from esante.portal.management.commands.serve import MIGRATION_LOCK, one_node_at_a_time
from tests.concurrency import needs_postgresql

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]


def another_node_may_migrate() -> bool:
    """What a second node's `pg_advisory_lock` would find: the lock free, or held."""
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        free = other.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK]).fetchone()
        if free and free[0]:
            other.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
        return bool(free and free[0])


def test_the_schema_lock_is_held_while_a_node_migrates_and_released_after() -> None:
    assert another_node_may_migrate()
    with one_node_at_a_time():
        assert not another_node_may_migrate()
    assert another_node_may_migrate()


def test_the_lock_is_released_when_the_migration_fails() -> None:
    with pytest.raises(RuntimeError), one_node_at_a_time():
        raise RuntimeError("a migration failed")
    assert another_node_may_migrate()


def test_a_second_node_waits_for_the_first() -> None:
    order: list[str] = []
    inside = threading.Event()

    def second_node() -> None:
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=True) as other:
            inside.wait(10)
            other.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
            order.append("second")
            other.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])

    thread = threading.Thread(target=second_node)
    thread.start()
    with one_node_at_a_time():
        inside.set()
        thread.join(0.5)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
