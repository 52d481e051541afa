"""Races between app servers, played with threads: each has its own database connection.

Only PostgreSQL runs writers at once; SQLite serializes them, so race tests need it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

needs_postgresql = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="needs PostgreSQL: SQLite runs one writer at a time"
)


def in_threads(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` in `count` threads released together, each with its own connection."""
    return run_together([work] * count)


def run_together(works: list[Callable[[], Any]]) -> list[Any]:
    """Run each of `works` in its own thread, all released at once; their results."""
    barrier = threading.Barrier(len(works))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results
