"""The DSP (Dossier de Soins Partagé), the shared care record of one insured person, and
its access journal (*Historique des accès*)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CareRecord(models.Model):
    """One person's DSP. Created with the account; documents and assistants come later."""

    # What URLs carry: unguessable, so that a record's address says nothing and cannot be
    # counted through (every view still checks who may open it).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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


class OrganDonationDeclaration(models.Model):
    """The holder's declaration on organ removal after death, each answer kept with its
    date (the last one stands). Asked of an adult holder at their first access."""

    record = models.ForeignKey(
        CareRecord, on_delete=models.PROTECT, related_name="organ_declarations"
    )
    refuses_removal = models.BooleanField()
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("déclaration de don d'organes")
        verbose_name_plural = _("déclarations de don d'organes")
        ordering = ["-declared_at", "-pk"]

    def __str__(self) -> str:
        return f"Don d'organes {self.record_id} {self.declared_at:%Y-%m-%d}"


class Capacity(models.TextChoices):
    OWNER = "owner", _("Titulaire")
    ASSISTANT = "assistant", _("Assistant DSP")


class AccessAction(models.TextChoices):
    READ_RECORD = "read_record", _("Consultation du dossier")
    READ_JOURNAL = "read_journal", _("Consultation de l'historique des accès")
    CLOSE = "close", _("Fermeture du DSP")
    ORGAN_DECLARATION = "organ_declaration", _("Déclaration de don d'organes")
    REOPEN = "reopen", _("Réouverture du DSP")


class AccessEntry(models.Model):
    """One line of a record's *Historique des accès*: who, in which capacity, when, what.
    Append-only: written by esante.records.actions.journal, never changed."""

    record = models.ForeignKey(CareRecord, on_delete=models.PROTECT, related_name="journal")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="record_accesses"
    )
    capacity = models.CharField(max_length=10, choices=Capacity.choices)
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    target = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("accès au DSP")
        verbose_name_plural = _("historique des accès")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["record", "-at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.record_id} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("The access journal is append-only.")
        super().save(*args, **kwargs)
