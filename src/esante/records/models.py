"""The DSP (Dossier de Soins Partagé), the shared care record of one insured person, and
its access journal (*Historique des accès*)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from esante.audit.models import AppendOnlyError, AppendOnlyQuerySet


class CareRecord(models.Model):
    """One person's DSP (opt-out: every living insured person has one). Opened when the
    person's first letter is issued or their account activated, whichever comes first;
    documents, assistants and care relationships come later."""

    # What URLs carry: unguessable, so that a record's address says nothing and cannot be
    # counted through (every view still checks who may open it).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.OneToOneField(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="care_record"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The end of the 30 days the opening letter gives the holder to object (close the
    # DSP) before professionals may write into it; empty: no such period (a record opened
    # before the opt-out, with the account).
    objection_until = models.DateTimeField(null=True, blank=True)
    # *Mes professionnels*: the physician the holder chose as médecin référent (sees the
    # Restreint documents while in a care relationship), and whether emergency access
    # (bris de glace) is refused altogether.
    referent = models.ForeignKey(
        "professionals.Professional",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referent_of",
        verbose_name=_("médecin référent"),
    )
    refuses_emergency_access = models.BooleanField(_("accès en urgence refusé"), default=False)

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
    """FHIR DocumentReference.securityLabel, HL7 v3 Confidentiality codes N, R, V.
    Ordered: each level is stricter than the one before (`rank`)."""

    NORMAL = "N", _("Normal")
    RESTRICTED = "R", _("Restreint")
    VERY_RESTRICTED = "V", _("Très restreint")

    @property
    def rank(self) -> int:
        return "NRV".index(self.value)


class Document(models.Model):
    """One document of a DSP: from a care provider, or uploaded in the *Espace personnel*
    by the holder or an assistant (then `uploaded_by` is set, and it can be deleted).

    A document a professional wrote names them (`professional`); they may replace it (a
    new document whose `previous` is this one, this one `superseded_at`) or withdraw it
    (`withdrawn_at`): either way it is kept, for the legal retention, and no longer
    listed. `author_confidentiality` is the level its author set: the holder may raise
    `confidentiality` above it, never lower it below."""

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
    # Masked: hidden from health professionals but its author; the holder and
    # assistants still see it.
    masked_at = models.DateTimeField(null=True, blank=True)
    professional = models.ForeignKey(
        "professionals.Professional",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("professionnel auteur"),
    )
    author_confidentiality = models.CharField(
        max_length=1, choices=Confidentiality.choices, default=Confidentiality.NORMAL
    )
    # The professionals the holder named for a Restreint document.
    named_professionals = models.ManyToManyField(
        "professionals.Professional", blank=True, related_name="named_documents"
    )
    previous = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The last change of any of the above (FHIR meta.lastUpdated): set by every action
    # that changes a document.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-document_date", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_current(self) -> bool:
        """Listed: neither replaced by a new version nor withdrawn."""
        return self.superseded_at is None and self.withdrawn_at is None

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

    # FHIR: the RelatedPerson's and its Consent's logical id (esante.fhir).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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
    CARE = "care", _("Relation de soins")
    EMERGENCY = "emergency", _("Urgence")

    @property
    def is_professional(self) -> bool:
        return self in (Capacity.CARE, Capacity.EMERGENCY)


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
    GRANT = "grant", _("Relation de soins accordée")
    DECLARE = "declare", _("Relation de soins déclarée")
    END_RELATIONSHIP = "end_relationship", _("Fin d'une relation de soins")
    BLOCK = "block", _("Blocage d'un professionnel")
    UNBLOCK = "unblock", _("Déblocage d'un professionnel")
    EMERGENCY_ACCESS = "emergency_access", _("Accès en urgence")
    EMERGENCY_SETTING = "emergency_setting", _("Accès en urgence autorisé ou refusé")
    REFERENT = "referent", _("Médecin référent choisi")
    NAMED = "named", _("Professionnels nommés pour un document")
    REPLACE_DOCUMENT = "replace_document", _("Nouvelle version d'un document")
    WITHDRAW_DOCUMENT = "withdraw_document", _("Retrait d'un document")
    EXPORT = "export", _("Téléchargement du dossier")


class AccessEntry(models.Model):
    """One line of a record's *Historique des accès*: who, in which capacity, when, what.
    Append-only: written by esante.records.actions.journal, never changed."""

    # FHIR: the AuditEvent's logical id (esante.fhir).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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
    # Set when the actor is a health professional (then `actor` is empty).
    professional = models.ForeignKey(
        "professionals.Professional",
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


# Health professionals (issue 17). FHIR: each of the three is a Consent on the record's
# Patient — a care relationship and an emergency access `permit` with the Practitioner
# as actor for a period, a block `deny`.


class RelationshipOrigin(models.TextChoices):
    GRANTED = "granted", _("accordée par le patient")
    DECLARED = "declared", _("déclarée par le professionnel")


class CareRelationshipQuerySet(models.QuerySet["CareRelationship"]):
    def current(self, now: datetime.datetime | None = None) -> CareRelationshipQuerySet:
        """Neither ended nor over."""
        return self.filter(ended_at__isnull=True, ends_at__gt=now or timezone.now())


class CareRelationship(models.Model):
    """A care relationship opens the record to one professional until `ends_at` (its
    length depends on the profession: ESANTE_CARE_RELATIONSHIP_DAYS), or until ended.
    At most one is current per record and professional: a new one ends the last."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(
        CareRecord, on_delete=models.PROTECT, related_name="care_relationships"
    )
    professional = models.ForeignKey(
        "professionals.Professional", on_delete=models.PROTECT, related_name="care_relationships"
    )
    origin = models.CharField(max_length=10, choices=RelationshipOrigin.choices)
    # The declared relationship's stated reason; empty for a grant.
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    # Who granted it: the holder or an assistant (empty for a declaration).
    granted_by = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CareRelationshipQuerySet.as_manager()

    class Meta:
        verbose_name = _("relation de soins")
        verbose_name_plural = _("relations de soins")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "professional"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_relationship_per_professional",
            )
        ]

    def __str__(self) -> str:
        return f"Relation {self.professional_id} DSP {self.record_id}"

    def is_current(self, now: datetime.datetime | None = None) -> bool:
        return self.ended_at is None and (now or timezone.now()) < self.ends_at


class ProfessionalBlockQuerySet(models.QuerySet["ProfessionalBlock"]):
    def standing(self) -> ProfessionalBlockQuerySet:
        """Not lifted."""
        return self.filter(lifted_at__isnull=True)


class ProfessionalBlock(models.Model):
    """The holder (or an assistant) blocked this professional: no access of any kind,
    care relationship or emergency, while `lifted_at` is empty."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(CareRecord, on_delete=models.PROTECT, related_name="blocks")
    professional = models.ForeignKey(
        "professionals.Professional", on_delete=models.PROTECT, related_name="blocks"
    )
    blocked_at = models.DateTimeField(default=timezone.now)
    blocked_by = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ProfessionalBlockQuerySet.as_manager()

    class Meta:
        verbose_name = _("professionnel bloqué")
        verbose_name_plural = _("professionnels bloqués")
        ordering = ["-blocked_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "professional"],
                condition=models.Q(lifted_at__isnull=True),
                name="one_standing_block_per_professional",
            )
        ]

    def __str__(self) -> str:
        return f"Blocage {self.professional_id} DSP {self.record_id}"


class EmergencyAccessQuerySet(models.QuerySet["EmergencyAccess"]):
    def current(self, now: datetime.datetime | None = None) -> EmergencyAccessQuerySet:
        """Not over yet."""
        return self.filter(ends_at__gt=now or timezone.now())


class EmergencyAccess(models.Model):
    """Bris de glace: a physician opened the record without a care relationship, stating
    the emergency, for ESANTE_EMERGENCY_ACCESS_HOURS. The supervisor reviews each one
    (`reviewed_at`, `justified`), seeing the professional, the holder's eSanté identifier,
    the time and the reason, never the record's content."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(
        CareRecord, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    professional = models.ForeignKey(
        "professionals.Professional", on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    reason = models.CharField(_("motif de l'urgence"), max_length=500)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    ends_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    justified = models.BooleanField(null=True, blank=True)
    review_note = models.CharField(_("commentaire"), max_length=500, blank=True)

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("accès en urgence")
        verbose_name_plural = _("accès en urgence")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"Urgence {self.professional_id} DSP {self.record_id}"

    def is_current(self, now: datetime.datetime | None = None) -> bool:
        return (now or timezone.now()) < self.ends_at
