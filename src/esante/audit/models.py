"""The append-only security event log shared by every app."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    pass


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
    STEP_UP_SUCCEEDED = "authenticator.step_up", _("Identité confirmée (second facteur)")
    STEP_UP_FAILED = "authenticator.step_up_failed", _("Confirmation d'identité refusée")


class AuditEvent(models.Model):
    """One security event. Rows are only ever inserted: see save() and delete()."""

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
