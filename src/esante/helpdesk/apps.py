from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "esante.helpdesk"
    verbose_name = _("Helpdesk")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from esante import identities
        from esante.helpdesk import role_guard
        from esante.helpdesk.auth import end_for_other_identity

        post_migrate.connect(_groups_after_migrate, sender=self)
        identities.identity_starting.connect(end_for_other_identity)
        role_guard.connect()
        self._restrict_admin()

    def _restrict_admin(self) -> None:
        """Django's admin: superusers only, and only after the helpdesk's two factors (its
        own password-only login is replaced by the helpdesk's)."""
        from django.contrib import admin
        from django.http import HttpRequest, HttpResponse
        from django.shortcuts import redirect
        from django.urls import reverse
        from django.utils.http import urlencode

        from esante.helpdesk.auth import VERIFIED_KEY

        def has_permission(request: HttpRequest) -> bool:
            user = request.user
            return bool(user.is_active and user.is_superuser and request.session.get(VERIFIED_KEY))

        def login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
            query = urlencode({"suivant": request.GET.get("next", "/admin/")})
            return redirect(f"{reverse('helpdesk:login')}?{query}")

        admin.site.has_permission = has_permission  # type: ignore[method-assign]
        admin.site.login = login  # type: ignore[method-assign]


def _groups_after_migrate(
    sender: Any, apps: Any = None, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """The roles after every migrate and after a flush (test databases): the helpdesk's
    permissions first (auth's own handler may come after this one), then the groups; in
    the database migrated (the schema owner's, with DATABASE_OWNER_URL)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from esante.helpdesk.roles import ensure_groups

    apps = apps or global_apps
    create_permissions(sender, apps=apps, verbosity=0, using=using)
    ensure_groups(apps, using=using)
