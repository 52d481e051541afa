"""The two staff roles as Django groups: *agent* (lookup and actions) and *superviseur*
(also the audit log and the statistics)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "agent": ["use_helpdesk"],
    "superviseur": ["use_helpdesk", "view_audit_log", "view_statistics"],
}


def create_groups(apps: Any, schema_editor: Any) -> None:
    # The database being migrated (the schema owner's, with DATABASE_OWNER_URL).
    using = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _created = group_model.objects.using(using).get_or_create(name=name)
        group.permissions.set(
            permission_model.objects.using(using).filter(
                content_type__app_label="helpdesk", codename__in=codenames
            )
        )


def remove_groups(apps: Any, schema_editor: Any) -> None:
    using = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(using).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0001_helpdesk"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
