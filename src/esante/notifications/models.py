"""The outbox: every letter, e-mail and SMS the platform sends, with its delivery state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    LETTER = "letter", _("Courrier")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("En attente")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")


class OutboundMessageQuerySet(models.QuerySet["OutboundMessage"]):
    def mark_failed(self, reason: str) -> int:
        """Give up on these messages for good, in one UPDATE: FAILED with `reason`, and
        outside demo mode each body replaced by its masked copy, as for a sent message (a
        code that was never delivered does not stay in clear either). Returns the count."""
        changes: dict[str, object] = {"state": DeliveryState.FAILED, "last_error": reason[:500]}
        if not settings.ESANTE_DEMO:
            changes["body"] = Case(  # no masked copy: the body has no code to mask
                When(redacted_body="", then=F("body")), default=F("redacted_body")
            )
        return self.update(**changes)


class OutboundMessage(models.Model):
    channel = models.CharField(max_length=10, choices=Channel.choices)
    person = models.ForeignKey(
        "registry.InsuredPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    # E-mail address, phone number in E.164, or the postal address on one line.
    recipient = models.CharField(max_length=500)
    subject = models.CharField(max_length=200, blank=True)
    # Holds a code in clear only until delivered or given up, and only in demo mode for
    # letters.
    body = models.TextField()
    # The body with its code masked: replaces `body` once delivered or given up (outside
    # demo mode, whose outbox page shows the code).
    redacted_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    letter_batch = models.ForeignKey(
        "registry.LetterBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )

    objects = OutboundMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message sortant")
        verbose_name_plural = _("messages sortants")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}"

    def mask_code(self) -> None:
        """Outside demo mode, replace the body by its masked copy (when it has one): once
        the message is sent or given up, its code has no reason to stay (not saved)."""
        if self.redacted_body and not settings.ESANTE_DEMO:
            self.body = self.redacted_body
