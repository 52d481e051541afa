"""A rate-limit counter in the database, for installs without Redis (esante.counters.store)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RateCounter(models.Model):
    # A hash of the action, the rule and the address or key, with the rule's window:
    # no matricule or address is stored.
    key = models.CharField(max_length=80, primary_key=True)
    window_end = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur de limite de fréquence")
        verbose_name_plural = _("compteurs de limite de fréquence")

    def __str__(self) -> str:
        return f"{self.key} = {self.count}"
