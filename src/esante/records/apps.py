from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "esante.records"
    verbose_name = _("Dossiers de Soins Partagés")

    def ready(self) -> None:
        from esante.records import receivers  # noqa: F401  (connects the accounts' signals)
