from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfessionalsConfig(AppConfig):
    name = "esante.professionals"
    verbose_name = _("Registre des professionnels de santé")
