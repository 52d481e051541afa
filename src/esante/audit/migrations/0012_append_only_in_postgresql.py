"""The audit log and the DSPs' access journals are append-only in the database itself
(ASVS 5.0 16.4.2): on PostgreSQL, a trigger refuses UPDATE and DELETE on their rows,
whatever the code or SQL that tries (a queryset update(), a psql session with the
application's role). TRUNCATE is not a row event: the test suite's flush still works;
production never truncates. On SQLite (development, one machine) the models' own
refusals remain: table rebuilds there would drop the triggers silently."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLES = ("audit_auditevent", "records_accessentry")

CREATE = """
CREATE OR REPLACE FUNCTION esante_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION esante_append_only();\n"
    for table in TABLES
)

DROP = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES) + (
    "DROP FUNCTION IF EXISTS esante_append_only();\n"
)


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0011_access_denied"),
        ("records", "0007_majority"),
    ]

    operations = [migrations.RunPython(create, drop)]
