"""The append-only security event log shared by every app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar

from django.db import DatabaseError, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_Model = TypeVar("_Model", bound=models.Model)


class AppendOnlyError(DatabaseError):
    """A change or an erasure of an append-only row, refused by the application on every
    backend (on PostgreSQL the database refuses it as well, with a DatabaseError too)."""


class AppendOnlyQuerySet(models.QuerySet[_Model]):
    """The queryset of the audit log and of the access journals: rows are inserted
    (create, bulk_create) and read, never updated nor deleted, whichever way is tried.
    Its models are the tables `esante grant-app-role` lets the application only append to."""

    def _refuse(self, what: str) -> NoReturn:
        raise AppendOnlyError(f"{self.model._meta.label} is append-only: {what} refused.")

    def update(self, **kwargs: Any) -> NoReturn:
        self._refuse("update()")

    def delete(self) -> NoReturn:
        self._refuse("delete()")

    def bulk_update(self, objs: Iterable[_Model], *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("bulk_update()")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("update_or_create()")

    # What Django's deletion collector calls for a cascade, bypassing delete().
    def _raw_delete(self, using: str | None) -> NoReturn:
        self._refuse("delete()")


def is_append_only(model: type[models.Model]) -> bool:
    return isinstance(model._default_manager.all(), AppendOnlyQuerySet)


class EventType(models.TextChoices):
    REGISTRY_IMPORTED = "registry.imported", _("Import du registre")
    LETTER_ISSUED = "letter.issued", _("Courrier d'activation émis")
    LETTER_VOIDED = "letter.voided", _("Courrier d'activation annulé")
    LETTER_CODE_FAILED = "letter.code_failed", _("Code d'activation erroné")
    LETTER_LOCKED = "letter.locked", _("Courrier d'activation verrouillé")
    LETTER_BATCH_RENDERED = "letter.batch_rendered", _("Lot de courriers généré")
    LETTER_REQUESTED = "letter.requested", _("Nouveau courrier demandé")
    LETTER_CODE_ACCEPTED = "letter.code_accepted", _("Code d'activation accepté (étape 1)")
    OTP_SENT = "otp.sent", _("Code à usage unique envoyé")
    OTP_FAILED = "otp.failed", _("Code à usage unique erroné")
    ACCOUNT_ACTIVATED = "account.activated", _("Compte activé")
    ACCOUNT_REACTIVATED = "account.reactivated", _("Compte réactivé par un nouveau courrier")
    RATE_LIMITED = "security.rate_limited", _("Limite de tentatives atteinte")
    ACCESS_DENIED = "security.access_denied", _("Accès refusé")
    LOGIN_SUCCEEDED = "login.succeeded", _("Connexion réussie")
    LOGIN_FAILED = "login.failed", _("Connexion refusée")
    ACCOUNT_LOCKED = "account.locked", _("Compte bloqué temporairement")
    LOGGED_OUT = "login.logged_out", _("Déconnexion")
    PASSWORD_CHANGED = "account.password_changed", _("Mot de passe changé")
    CONTACT_CHANGED = "account.contact_changed", _("Moyen de réception des codes changé")
    SESSION_ENDED = "account.session_ended", _("Session déconnectée à distance")
    PASSWORD_RESET = "account.password_reset", _("Mot de passe réinitialisé")
    NEW_DEVICE = "login.new_device", _("Connexion depuis un nouvel appareil")
    IDENTITY_LINKED = "authenticator.identity_linked", _("Fournisseur d'identité associé")
    IDENTITY_UNLINKED = "authenticator.identity_unlinked", _("Fournisseur d'identité dissocié")
    IDENTITY_REFUSED = "authenticator.identity_refused", _("Fournisseur d'identité refusé")
    PASSKEY_ADDED = "authenticator.passkey_added", _("Clé d'accès ajoutée")
    PASSKEY_REMOVED = "authenticator.passkey_removed", _("Clé d'accès supprimée")
    PASSKEY_REFUSED = "authenticator.passkey_refused", _("Clé d'accès refusée")
    RECOVERY_CODES_RENEWED = "authenticator.recovery_codes", _("Codes de secours renouvelés")
    STAFF_LOGIN = "staff.login", _("Connexion d'un membre du helpdesk")
    STAFF_LOGIN_FAILED = "staff.login_failed", _("Connexion au helpdesk refusée")
    STAFF_LOGOUT = "staff.logout", _("Déconnexion du helpdesk")
    STAFF_PASSWORD_CHANGED = (
        "staff.password_changed",
        _("Mot de passe d'un membre du helpdesk changé"),
    )
    HELPDESK_LOOKUP = "helpdesk.lookup", _("Consultation d'une personne par le helpdesk")
    HELPDESK_ACTION = "helpdesk.action", _("Action du helpdesk")
    ASSISTANT_SEARCHED = "assistant.searched", _("Recherche d'un assistant DSP")
    ASSISTANT_ADDED = "assistant.added", _("Assistant DSP ajouté")
    ASSISTANT_REMOVED = "assistant.removed", _("Assistant DSP retiré")
    MAJORITY_NOTICE = "assistant.majority_notice", _("Avis de majorité envoyé")
    MAJORITY_REACHED = "assistant.majority_ended", _("Droits d'assistant terminés à la majorité")
    RECORD_CHANGED = "record.changed", _("DSP modifié (fermeture, document, don d'organes)")
    RECORD_EXPORTED = "record.exported", _("Copie du DSP téléchargée")
    LETTER_BATCH_FILE_DELETED = "letter.batch_file_deleted", _("PDF d'un lot de courriers supprimé")
    LETTER_REQUEST_NOTIFIED = (
        "letter.request_notified",
        _("Titulaire du compte prévenu d'un nouveau courrier"),
    )
    LETTER_REQUEST_CANCELLED = "letter.request_cancelled", _("Demande de nouveau courrier annulée")
    LETTER_REACTIVATION_WAITING = (
        "letter.reactivation_waiting",
        _("Réactivation par courrier refusée pendant le délai d'attente"),
    )
    CODE_LOCKED = "otp.locked", _("Codes à usage unique bloqués temporairement")
    STEP_UP_SUCCEEDED = "authenticator.step_up", _("Identité confirmée (second facteur)")
    STEP_UP_FAILED = "authenticator.step_up_failed", _("Confirmation d'identité refusée")
    LANGUAGE_CHANGED = "account.language_changed", _("Langue du compte changée")
    PROFESSIONALS_IMPORTED = "professionals.imported", _("Import du registre des professionnels")
    PROFESSIONAL_LOGIN_SUCCEEDED = (
        "professional.login.succeeded",
        _("Connexion d'un professionnel de santé"),
    )
    PROFESSIONAL_LOGIN_FAILED = (
        "professional.login.failed",
        _("Connexion d'un professionnel de santé refusée"),
    )
    PROFESSIONAL_LOGGED_OUT = (
        "professional.logged_out",
        _("Déconnexion d'un professionnel de santé"),
    )
    CARE_RELATIONSHIP_GRANTED = "care.granted", _("Relation de soins accordée par le patient")
    CARE_RELATIONSHIP_DECLARED = (
        "care.declared",
        _("Relation de soins déclarée par un professionnel"),
    )
    CARE_DECLARATION_REFUSED = (
        "care.declaration_refused",
        _("Déclaration d'une relation de soins refusée"),
    )
    CARE_RELATIONSHIP_ENDED = "care.ended", _("Relation de soins terminée")
    PROFESSIONAL_BLOCKED = "care.blocked", _("Professionnel bloqué par le patient")
    PROFESSIONAL_UNBLOCKED = "care.unblocked", _("Professionnel débloqué par le patient")
    EMERGENCY_ACCESS = "care.emergency", _("Accès en urgence (bris de glace)")
    EMERGENCY_ACCESS_REFUSED = "care.emergency_refused", _("Accès en urgence refusé")
    EMERGENCY_ACCESS_REVIEWED = "care.emergency_reviewed", _("Accès en urgence examiné")
    # The OpenID Connect provider (esante.provider).
    SERVICE_REGISTERED = "oidc.service_registered", _("Service enregistré")
    SERVICE_CHANGED = "oidc.service_changed", _("Service modifié")
    SIGNING_KEY_ROTATED = "oidc.key_rotated", _("Clé de signature renouvelée")
    SERVICE_CONSENT_GIVEN = "oidc.consent_given", _("Consentement donné à un service")
    SERVICE_CONSENT_WITHDRAWN = "oidc.consent_withdrawn", _("Consentement à un service retiré")
    SERVICE_AUTHORIZED = "oidc.authorized", _("Connexion à un service")
    SERVICE_REFUSED = "oidc.refused", _("Connexion à un service refusée")
    SERVICE_LOGOUT_SENT = "oidc.logout_sent", _("Déconnexion envoyée à un service")


class AuditEvent(models.Model):
    """One security event. Rows are only ever inserted: see save(), delete() and the
    queryset."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    event_type = models.CharField(max_length=64, choices=EventType.choices, db_index=True)
    # Who did it: "system", "command:issue-letters", "patient:<id>", "staff:<id>".
    actor = models.CharField(max_length=100)
    person = models.ForeignKey(
        "registry.InsuredPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("événements d'audit")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.event_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")
