from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "esante.portal"
    verbose_name = _("Portail")

    def ready(self) -> None:
        setting_changed.connect(_forget_the_frame, dispatch_uid="esante.portal.frame")


def _forget_the_frame(**kwargs: Any) -> None:
    """The frame's cached parts print settings (the helpdesk's contacts, the languages):
    a setting changed (in tests: production never changes one) renders them again.

    A test that replaces CACHES by one without the frame's has nothing to clear (Django's
    own receiver forgets the old cache connections)."""
    from django.conf import settings
    from django.core.cache import caches

    if "frame" in settings.CACHES:
        caches["frame"].clear()
