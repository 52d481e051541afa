from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PracticeConfig(AppConfig):
    name = "esante.practice"
    verbose_name = _("Espace professionnel")

    def ready(self) -> None:
        from esante import identities
        from esante.practice.sessions import end_for_other_identity

        identities.identity_starting.connect(end_for_other_identity)
