"""The two staff roles as Django groups: *agent* (lookup, actions, batches) and
*superviseur* (also the audit log and the statistics)."""

from __future__ import annotations

from typing import Any

ROLES = {
    "agent": ["use_helpdesk"],
    "superviseur": ["use_helpdesk", "view_audit_log", "view_statistics"],
}


def ensure_groups(apps: Any = None, using: str | None = None, **_kwargs: Any) -> None:
    """Create or complete the groups (after every migrate, and after a test database is
    flushed: the permissions come back then, the groups would not)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _created = group_model.objects.using(using).get_or_create(name=name)
        group.permissions.set(
            permission_model.objects.using(using).filter(
                content_type__app_label="helpdesk", codename__in=codenames
            )
        )
