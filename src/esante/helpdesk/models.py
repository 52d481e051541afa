"""The helpdesk's own data: staff members' second factor and notes of calls.

Staff are Django auth users — never patient accounts — in the groups *agent*,
*superviseur* and *impression* (esante.helpdesk.roles), whose permissions are declared
here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StaffDevice(models.Model):
    """A staff member's authenticator app: the sealed secret, the last step accepted."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_device"
    )
    totp_secret = models.TextField()
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("second facteur d'un membre du personnel")
        verbose_name_plural = _("seconds facteurs du personnel")

    def __str__(self) -> str:
        return f"TOTP {self.user_id}"


class CallNote(models.Model):
    """A note of a call about a person, written by an agent (audited too)."""

    person = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="helpdesk_notes"
    )
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"))
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("note d'appel")
        verbose_name_plural = _("notes d'appel")
        ordering = ["-at", "-pk"]
        permissions = [
            ("use_helpdesk", _("Utiliser le back-office du helpdesk")),
            ("view_audit_log", _("Consulter le journal d'audit")),
            ("view_statistics", _("Consulter les statistiques")),
            # The report of the emergency accesses to DSPs (never what they opened).
            ("review_emergency_access", _("Examiner les accès en urgence")),
            # The print side only: the batch PDFs hold activation codes in clear.
            ("print_letters", _("Générer, télécharger et poster les lots de courriers")),
        ]

    def __str__(self) -> str:
        return f"Note {self.pk} ({self.person_id})"


class StaffPasskey(models.Model):
    """A staff member's passkey: with user verification, a complete login by itself."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_passkeys"
    )
    name = models.CharField(_("nom"), max_length=60)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    handle = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("clé d'accès du personnel")
        verbose_name_plural = _("clés d'accès du personnel")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"
