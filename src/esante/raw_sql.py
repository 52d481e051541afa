"""The few statements the ORM cannot write — `UPDATE … RETURNING`, `INSERT … ON CONFLICT
DO UPDATE … RETURNING`: one round trip where the ORM needs a transaction, a write and a
read (issue 16) — on both databases the platform runs on (PostgreSQL, SQLite ≥ 3.35) —,
and the reads of the hottest pages, which the ORM would build again at every request
(`Select`: building and reading a query through the ORM costs several times its round
trip).

Names come from the models, quoted by the database's own rules; values only ever as
parameters, prepared by their field as the ORM prepares them; the values read are
converted as the ORM converts them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model, Value
from django.db.models.expressions import BaseExpression

Converter = Callable[[Any, Any, Any], Any]


def names(model: type[Model], *fields: str) -> list[str]:
    """The quoted name of `model`'s table, then of each of its `fields`' columns."""
    columns = [cast("Field[Any, Any]", model._meta.get_field(name)).column for name in fields]
    return [connection.ops.quote_name(name) for name in (model._meta.db_table, *columns)]


def insert(instance: Model) -> None:
    """Write a new row of `instance` — what `instance.save()` writes for a new row, in one
    INSERT … RETURNING written once per model, without the ORM's work around it (0.26 ms
    of CPU for the access journal's line through `save()`, 0.11 ms so): for the rows a hot
    page appends (the access journal). Each field's value as `save()` takes it (its
    default, `auto_now_add`…); no signal is sent: for models that have no receiver."""
    sql, fields = _insert_statement(type(instance))
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    row = returning_one(sql, values)
    assert row is not None  # noqa: S101 - an INSERT … RETURNING returns its row
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias


@functools.cache
def _insert_statement(model: type[Model]) -> tuple[str, tuple[Field[Any, Any], ...]]:
    """`model`'s INSERT … RETURNING its primary key, and the fields it writes, in order."""
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    return sql, fields


def returning(sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows a statement with RETURNING gives back."""
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())


def returning_one(sql: str, parameters: Sequence[Any]) -> tuple[Any, ...] | None:
    """The row a statement with RETURNING gives back, or None when it changed none."""
    rows = returning(sql, parameters)
    return rows[0] if rows else None


class Select:
    """A SELECT written once, run at each request with new values.

    `columns` are the fields whose values it reads, in its column order: a model's own
    field (`Model._meta.get_field(…)`), or an unbound one (`BooleanField()`) for a
    computed column. Each value read is converted by the database's and the field's
    converters, as the ORM converts it (on SQLite: dates and UUIDs from text, booleans
    from 0 and 1; on PostgreSQL, nothing). `prepare(field, value)` gives a parameter as
    the ORM would send it for that field.
    """

    def __init__(self, sql: str, columns: Sequence[Field[Any, Any]]) -> None:
        self.sql = sql
        self.columns = tuple(columns)
        self._converters: dict[str, list[tuple[int, list[Converter], BaseExpression]]] = {}

    def rows(self, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, parameters)
            rows = cursor.fetchall()
        converters = self._converters_for(connection.vendor)
        if not converters:
            return [tuple(row) for row in rows]
        converted = []
        for row in rows:
            values = list(row)
            for index, functions, expression in converters:
                for function in functions:
                    values[index] = function(values[index], expression, connection)
            converted.append(tuple(values))
        return converted

    def first(self, parameters: Sequence[Any]) -> tuple[Any, ...] | None:
        rows = self.rows(parameters)
        return rows[0] if rows else None

    def _converters_for(self, vendor: str) -> list[tuple[int, list[Converter], BaseExpression]]:
        found = self._converters.get(vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.columns):
                model = getattr(field, "model", None)
                expression = (
                    field.get_col(model._meta.db_table)
                    if model is not None
                    else Value(None, output_field=field)
                )
                functions = [
                    *connection.ops.get_db_converters(expression),
                    *expression.get_db_converters(connection),
                ]
                if functions:
                    found.append((index, functions, expression))
            self._converters[vendor] = found
        return found


def prepare(field: Field[Any, Any], value: Any) -> Any:
    """`value` as a parameter for `field`'s column, as the ORM sends it."""
    return field.get_db_prep_value(value, connection, prepared=False)


class Related:
    """Rows of `model` with, in the same statement, the rows its foreign keys `path`
    lead to (`"account__person"`: what `select_related("account__person")` reads; `""`:
    none), as model instances linked as the ORM links them; written once, where the ORM
    builds the statement again at every request (the patient's session row, on every
    logged-in request).

    `where` is the rest of the statement after WHERE (its conditions, then any ORDER BY
    and LIMIT); it names columns as `{0.field}` (the model's), `{1.field}` (the first
    related model's)…, `{0.pk}` for a primary key; values only as `%s` parameters.
    """

    def __init__(self, model: type[Model], path: str, where: str) -> None:
        self.models = [model]
        self.links: list[Field[Any, Any]] = []
        for name in path.split("__") if path else []:
            link = cast("Field[Any, Any]", self.models[-1]._meta.get_field(name))
            if link.null:  # an inner join would lose the rows without one
                raise ValueError(f"{link} may be null: not a link for Related")
            self.links.append(link)
            self.models.append(cast("type[Model]", link.related_model))
        self.fields = [list(each._meta.concrete_fields) for each in self.models]
        quote = connection.ops.quote_name
        columns = ", ".join(
            f"t{number}.{quote(field.column)}"
            for number, fields in enumerate(self.fields)
            for field in fields
        )
        tables = [f"{quote(self.models[0]._meta.db_table)} AS t0"]
        for number, link in enumerate(self.links, start=1):
            target, previous = self.models[number], f"t{number - 1}.{quote(link.column)}"
            tables.append(
                f"INNER JOIN {quote(target._meta.db_table)} AS t{number}"
                f" ON t{number}.{quote(target._meta.pk.column)} = {previous}"
            )
        aliases = [_Columns(f"t{number}", each) for number, each in enumerate(self.models)]
        sql = f"SELECT {columns} FROM {' '.join(tables)} WHERE {where.format(*aliases)}"  # noqa: S608
        self.select = Select(sql, [field for fields in self.fields for field in fields])

    def rows(self, parameters: Sequence[Any]) -> list[Model]:
        return [self._instance(row) for row in self.select.rows(parameters)]

    def first(self, parameters: Sequence[Any]) -> Model | None:
        row = self.select.first(parameters)
        return None if row is None else self._instance(row)

    def _instance(self, row: tuple[Any, ...]) -> Model:
        instances = []
        start = 0
        for model, fields in zip(self.models, self.fields, strict=True):
            values = row[start : start + len(fields)]
            instances.append(model.from_db(connection.alias, [f.attname for f in fields], values))
            start += len(fields)
        for number, link in enumerate(self.links):
            setattr(instances[number], link.name, instances[number + 1])
        return instances[0]


class _Columns:
    """`{0.field}` in a `Related` statement's condition: the column, qualified by its alias."""

    def __init__(self, alias: str, model: type[Model]) -> None:
        self.alias, self.model = alias, model

    def __getattr__(self, name: str) -> str:
        field = self.model._meta.pk if name == "pk" else self.model._meta.get_field(name)
        column = cast("Field[Any, Any]", field).column
        return f"{self.alias}.{connection.ops.quote_name(column)}"
