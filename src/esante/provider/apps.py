from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProviderConfig(AppConfig):
    name = "esante.provider"
    verbose_name = _("Fournisseur OpenID Connect")

    def ready(self) -> None:
        from esante.provider import receivers

        receivers.connect()
