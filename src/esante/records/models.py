"""The DSP (Dossier de Soins Partagé), the shared care record of one insured person, and
its access journal (*Historique des accès*)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from esante.audit.models import AppendOnlyError, AppendOnlyQuerySet


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


class Category(models.TextChoices):
    """What a document is (FHIR DocumentReference.category)."""

    LABORATORY = "laboratory", _("Résultats de laboratoire")
    HOSPITAL = "hospital", _("Rapports hospitaliers")
    IMAGING = "imaging", _("Imagerie médicale")
    PRESCRIPTION = "prescription", _("Prescriptions")
    VACCINATION = "vaccination", _("Vaccinations")
    PATIENT = "patient", _("Documents du patient")


class Confidentiality(models.TextChoices):
    """FHIR DocumentReference.securityLabel, HL7 v3 Confidentiality codes N, R, V."""

    NORMAL = "N", _("Normal")
    RESTRICTED = "R", _("Restreint")
    VERY_RESTRICTED = "V", _("Très restreint")


class Document(models.Model):
    """One document of a DSP: from a care provider, or uploaded in the *Espace personnel*
    by the holder or an assistant (then `uploaded_by` is set, and it can be deleted)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(CareRecord, on_delete=models.PROTECT, related_name="documents")
    category = models.CharField(_("catégorie"), max_length=20, choices=Category.choices)
    title = models.CharField(_("titre"), max_length=200)
    author = models.CharField(_("auteur ou source"), max_length=200)
    document_date = models.DateField(_("date du document"))
    # Name in the private "documents" storage (esante.records.documents), random: it says
    # nothing about the person or the document.
    stored_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    added_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        "registry.InsuredPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="uploaded_documents",
    )
    confidentiality = models.CharField(
        _("niveau de confidentialité"),
        max_length=1,
        choices=Confidentiality.choices,
        default=Confidentiality.NORMAL,
    )
    # Masked: hidden from health professionals; the holder and assistants still see it.
    masked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-document_date", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def in_personal_space(self) -> bool:
        return self.uploaded_by_id is not None

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
            self.content_type, "bin"
        )


class AssistantType(models.TextChoices):
    ASSISTANT_DSP = "assistant_dsp", _("Assistant DSP")


class Assistant(models.Model):
    """A person given the holder's rights on a DSP (FHIR: RelatedPerson with a Consent).

    Active while `ended_at` is empty. Rights given while the holder was a minor end at
    majority (`esante coming-of-age`), unless the holder then keeps them.
    """

    record = models.ForeignKey(CareRecord, on_delete=models.PROTECT, related_name="assistants")
    person = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="assisted_records"
    )
    type = models.CharField(
        _("type"), max_length=20, choices=AssistantType.choices, default=AssistantType.ASSISTANT_DSP
    )
    role = models.CharField(_("rôle"), max_length=50, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="+"
    )
    during_minority = models.BooleanField(default=False)
    majority_notice_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at_majority = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("assistant DSP")
        verbose_name_plural = _("assistants DSP")
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "person"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_assistant_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"Assistant {self.person_id} DSP {self.record_id}"


class Capacity(models.TextChoices):
    OWNER = "owner", _("Titulaire")
    ASSISTANT = "assistant", _("Assistant DSP")
    AGENCY = "agency", _("Agence eSanté (automatique)")


class AccessAction(models.TextChoices):
    READ_RECORD = "read_record", _("Consultation du dossier")
    READ_JOURNAL = "read_journal", _("Consultation de l'historique des accès")
    CLOSE = "close", _("Fermeture du DSP")
    ORGAN_DECLARATION = "organ_declaration", _("Déclaration de don d'organes")
    REOPEN = "reopen", _("Réouverture du DSP")
    READ_DOCUMENT = "read_document", _("Consultation d'un document")
    UPLOAD = "upload", _("Ajout d'un document")
    DELETE_DOCUMENT = "delete_document", _("Suppression d'un document")
    MASK = "mask", _("Masquage d'un document")
    UNMASK = "unmask", _("Démasquage d'un document")
    CONFIDENTIALITY = "confidentiality", _("Niveau de confidentialité changé")
    ADD_ASSISTANT = "add_assistant", _("Ajout d'un assistant")
    REMOVE_ASSISTANT = "remove_assistant", _("Retrait d'un assistant")
    ASSISTANT_SEARCH = "assistant_search", _("Recherche d'un assistant")
    MAJORITY_END = "majority_end", _("Fin des droits d'assistant à la majorité")


class AccessEntry(models.Model):
    """One line of a record's *Historique des accès*: who, in which capacity, when, what.
    Append-only: written by esante.records.actions.journal, never changed."""

    record = models.ForeignKey(CareRecord, on_delete=models.PROTECT, related_name="journal")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Empty for what the agency's own jobs do (the end of assistant rights at majority).
    actor = models.ForeignKey(
        "registry.InsuredPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="record_accesses",
    )
    capacity = models.CharField(max_length=10, choices=Capacity.choices)
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    target = models.CharField(max_length=200, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("accès au DSP")
        verbose_name_plural = _("historique des accès")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["record", "-at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.record_id} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The access journal is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The access journal is append-only.")
