"""The few statements the ORM cannot write — `UPDATE … RETURNING`, `INSERT … ON CONFLICT
DO UPDATE … RETURNING`: one round trip where the ORM needs a transaction, a write and a
read (issue 16) — on both databases the platform runs on (PostgreSQL, SQLite ≥ 3.35).

Names come from the models, quoted by the database's own rules; values only ever as
parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model


def names(model: type[Model], *fields: str) -> list[str]:
    """The quoted name of `model`'s table, then of each of its `fields`' columns."""
    columns = [cast("Field[Any, Any]", model._meta.get_field(name)).column for name in fields]
    return [connection.ops.quote_name(name) for name in (model._meta.db_table, *columns)]


def returning(sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows a statement with RETURNING gives back."""
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())


def returning_one(sql: str, parameters: Sequence[Any]) -> tuple[Any, ...] | None:
    """The row a statement with RETURNING gives back, or None when it changed none."""
    rows = returning(sql, parameters)
    return rows[0] if rows else None
