"""The DSP (Dossier de Soins Partagé), the shared care record of one insured person."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CareRecord(models.Model):
    """One person's DSP. Created with the account; documents and assistants come later."""

    person = models.OneToOneField(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="care_record"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("DSP")
        verbose_name_plural = _("DSP")

    def __str__(self) -> str:
        return f"DSP {self.pk} ({self.person_id})"
