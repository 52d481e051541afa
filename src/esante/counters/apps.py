from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CountersConfig(AppConfig):
    name = "esante.counters"
    verbose_name = _("Compteurs des limites de fréquence")
