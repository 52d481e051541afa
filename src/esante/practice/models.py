"""The professionals' side of the platform: their sessions and passkeys (care
relationships, later)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from esante.professionals.models import Professional


class ProfessionalSession(models.Model):
    """A professional logged in in one browser session (esante.practice.sessions): as a
    PatientSession, a row that says who, since when, last seen when, and when it ended."""

    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="sessions"
    )
    session_key = models.CharField(max_length=64, blank=True)
    # How they logged in: "oidc:<provider slug>".
    method = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("session d'un professionnel")
        verbose_name_plural = _("sessions des professionnels")

    def __str__(self) -> str:
        return f"{self.professional} ({self.started_at:%Y-%m-%d %H:%M})"


class ProfessionalPasskey(models.Model):
    """A professional's passkey (as StaffPasskey): registered within a few minutes of a
    login through an identity provider, then a complete login by itself."""

    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField(_("nom"), max_length=60)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    handle = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("clé d'accès d'un professionnel")
        verbose_name_plural = _("clés d'accès des professionnels")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.professional_id})"
