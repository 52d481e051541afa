"""What the OpenID Connect provider keeps: the person's consent per service, the
authorization codes and tokens it issued (only their keyed hashes), and its signing keys.

Codes and tokens name who they are for — a patient (`person`), or a health professional
(`professional`) — never a Django user: no token can ever be a staff identity. `actor` is
the assistant acting for `person` (the `act` claim). The browser session a code or token
came from (`patient_session`, `professional_session`) is what a logout follows to end the
service's session too (back-channel logout)."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from esante.professionals.models import Professional
from esante.registry.models import InsuredPerson
from esante.services.models import Service


class ConsentQuerySet(models.QuerySet["Consent"]):
    def standing(self) -> ConsentQuerySet:
        return self.filter(withdrawn_at__isnull=True)

    def covering(
        self,
        service: Service,
        *,
        person: InsuredPerson | None = None,
        actor: InsuredPerson | None = None,
        professional: Professional | None = None,
    ) -> ConsentQuerySet:
        """The standing consent to `service` that covers a code or token (`of`)."""
        return (
            self.standing()
            .filter(service=service)
            .of(person=person, actor=actor, professional=professional)
        )

    def of(
        self,
        *,
        person: InsuredPerson | None = None,
        actor: InsuredPerson | None = None,
        professional: Professional | None = None,
    ) -> ConsentQuerySet:
        """The consent that covers a code or token for `person` (with `actor` acting for
        them) or for `professional`: the person's own, the assistant's for that person,
        or the professional's."""
        if professional is not None:
            return self.filter(professional=professional, on_behalf_of__isnull=True)
        if actor is not None:
            return self.filter(person=actor, on_behalf_of=person)
        return self.filter(person=person, on_behalf_of__isnull=True)


class Consent(models.Model):
    """The person's (or professional's) yes to a service, for these scopes: asked at the
    first use, listed in *Services connectés*, withdrawn there (which revokes the
    service's tokens). `person` is who consented; `on_behalf_of`, the person an assistant
    opened the service for — whose data it shares: a consent of its own, apart from the
    assistant's for themself, and one that ends with the assistant's rights."""

    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        "registry.InsuredPerson", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    professional = models.ForeignKey(
        "professionals.Professional",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    on_behalf_of = models.ForeignKey(
        "registry.InsuredPerson", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scopes = models.JSONField(default=list)
    granted_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # What the service last received, and when (*Services connectés*).
    last_shared_at = models.DateTimeField(null=True, blank=True)
    last_shared_claims = models.JSONField(default=list, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consentement à un service")
        verbose_name_plural = _("consentements aux services")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "person"],
                condition=models.Q(
                    withdrawn_at__isnull=True, person__isnull=False, on_behalf_of__isnull=True
                ),
                name="one_standing_consent_per_person",
            ),
            models.UniqueConstraint(
                fields=["service", "person", "on_behalf_of"],
                condition=models.Q(withdrawn_at__isnull=True, on_behalf_of__isnull=False),
                name="one_standing_consent_per_assistant_and_person",
            ),
            models.UniqueConstraint(
                fields=["service", "professional"],
                condition=models.Q(withdrawn_at__isnull=True, professional__isnull=False),
                name="one_standing_consent_per_professional",
            ),
            models.CheckConstraint(
                condition=models.Q(person__isnull=True) ^ models.Q(professional__isnull=True),
                name="consent_of_a_person_or_a_professional",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent {self.pk} ({self.service_id})"


class Grant(models.Model):
    """What a code or a token stands for (shared by both)."""

    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        "registry.InsuredPerson", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        "registry.InsuredPerson", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    professional = models.ForeignKey(
        "professionals.Professional",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    patient_session = models.ForeignKey(
        "accounts.PatientSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    professional_session = models.ForeignKey(
        "practice.ProfessionalSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scope = models.TextField()
    auth_time = models.DateTimeField()
    acr = models.CharField(max_length=60)
    amr = models.JSONField(default=list)

    class Meta:
        abstract = True


class AuthorizationCode(Grant):
    """Single use (`used_at`, set by one conditional UPDATE), valid for a minute."""

    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.TextField()
    nonce = models.CharField(max_length=255, blank=True)
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=10)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("code d'autorisation")
        verbose_name_plural = _("codes d'autorisation")

    def __str__(self) -> str:
        return f"Code {self.pk} ({self.service_id})"


class TokenQuerySet(models.QuerySet["Token"]):
    def live(self) -> TokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class Token(Grant):
    """An access token (short-lived) and, for a service registered for them, its refresh
    token. A refresh gives a new pair and revokes this one (rotation); a refresh token
    used twice revokes every token of its line (`line`), as a stolen one would be."""

    access_token_hash = models.CharField(max_length=64, unique=True)
    refresh_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_in = models.PositiveIntegerField()
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    # The person granted offline access: the platform's logout leaves this token's refresh.
    offline = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Revoked because its refresh token was used (rotation): a second use is a theft.
    rotated = models.BooleanField(default=False)
    from_code = models.ForeignKey(
        AuthorizationCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The first token of a line of refreshes (itself for the first).
    line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The ID token's sid: the browser session at the platform, as the service knows it.
    sid = models.CharField(max_length=64, blank=True)
    # The issuer that signed its ID token: the `iss` of its logout tokens.
    issuer = models.CharField(max_length=200, blank=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("jeton")
        verbose_name_plural = _("jetons")

    def __str__(self) -> str:
        return f"Token {self.pk} ({self.service_id})"

    @property
    def expires_at(self) -> datetime.datetime:
        return self.issued_at + datetime.timedelta(seconds=self.expires_in)


class SigningKey(models.Model):
    """A key that signs ID tokens and logout tokens. The newest one (`retired_at` null)
    signs; `esante rotate-keys` retires it, and a retired key stays in the JWKS until
    `publish_until`, past the life of every token it signed. The private key is sealed at
    rest (Fernet, as the authenticator secrets: esante.accounts.authenticators.totp)."""

    kid = models.CharField(max_length=64, unique=True)
    private_jwk = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    publish_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("clé de signature")
        verbose_name_plural = _("clés de signature")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return self.kid
