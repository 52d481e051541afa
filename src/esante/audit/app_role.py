"""The rights of the application's PostgreSQL role (DATABASE_URL) on a schema that another
role owns (DATABASE_OWNER_URL): it reads and writes the ordinary tables, only reads and
appends to the audit log and the access journals, and owns nothing, so it can neither
TRUNCATE a table nor ALTER it (drop or disable the append-only triggers). Granted by the
owner after every migrate (`esante serve`, `esante grant-app-role`); the owner's default
privileges give the tables of later releases the same ordinary rights meanwhile.
"""

from __future__ import annotations

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql

from esante.audit.models import is_append_only

ORDINARY_TABLE_RIGHTS = sql.SQL("SELECT, INSERT, UPDATE, DELETE")
SEQUENCE_RIGHTS = sql.SQL("USAGE, SELECT")


class AppRoleError(Exception):
    """The role cannot be given the application's rights safely; the message says why."""


def append_only_tables() -> list[str]:
    """The tables of the models whose queryset refuses update() and delete()."""
    return sorted(model._meta.db_table for model in apps.get_models() if is_append_only(model))


def grant_app_role(role: str, *, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Give `role` exactly the application's rights on the tables and sequences of the
    current schema of `using` (the owner's connection); the append-only tables found."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise AppRoleError(
            "Les rôles ne concernent que PostgreSQL : SQLite est un seul fichier, sans rôles."
        )
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper OR rolbypassrls, pg_has_role(rolname, current_user, 'MEMBER')"
            " FROM pg_roles WHERE rolname = %s",
            [role],
        )
        found = cursor.fetchone()
        if found is None:
            raise AppRoleError(f"Le rôle « {role} » n'existe pas : créez-le d'abord (CREATE ROLE).")
        privileged, owner_or_member_of_owner = found
        if privileged or owner_or_member_of_owner:
            raise AppRoleError(
                f"Le rôle « {role} » est superutilisateur, ou le propriétaire du schéma, ou "
                "l'un de ses membres : il pourrait effacer le journal d'audit."
            )
        cursor.execute(
            "SELECT c.relname FROM pg_class AS c JOIN pg_roles AS r ON r.oid = c.relowner"
            " WHERE c.relnamespace = current_schema()::regnamespace AND r.rolname = %s"
            " ORDER BY c.relname",
            [role],
        )
        owned = [name for (name,) in cursor.fetchall()]
        if owned:
            raise AppRoleError(
                f"Le rôle « {role} » possède des objets du schéma ({', '.join(owned)}) : "
                "donnez-les d'abord au propriétaire (REASSIGN OWNED BY … TO …)."
            )
        existing = set(connection.introspection.table_names(cursor))
        append_only = [table for table in append_only_tables() if table in existing]
        cursor.execute("SELECT current_schema()")
        (schema_name,) = cursor.fetchone()
        schema, grantee = sql.Identifier(schema_name), sql.Identifier(role)
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, grantee),
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, grantee),
            sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(
                ORDINARY_TABLE_RIGHTS, schema, grantee
            ),
            *(
                sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(
                    sql.Identifier(table), grantee
                )
                for table in append_only
            ),
            sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema, grantee),
            sql.SQL("GRANT {} ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                SEQUENCE_RIGHTS, schema, grantee
            ),
            # Tables and sequences the owner creates later (a release's migrations): the
            # ordinary rights until the next grant, which narrows a new append-only table.
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON TABLES TO {}").format(
                schema, ORDINARY_TABLE_RIGHTS, grantee
            ),
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON SEQUENCES TO {}").format(
                schema, SEQUENCE_RIGHTS, grantee
            ),
        ]
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
    return append_only
