from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FhirConfig(AppConfig):
    name = "esante.fhir"
    verbose_name = _("API FHIR")

    def ready(self) -> None:
        from esante.fhir import cors

        cors.connect()
