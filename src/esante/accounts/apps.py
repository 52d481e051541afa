from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "esante.accounts"
    verbose_name = _("Comptes eSanté")

    def ready(self) -> None:
        from esante.accounts import (
            checks,  # noqa: F401  (registers the system checks)
            receivers,  # noqa: F401  (connects the registry's signals)
        )
