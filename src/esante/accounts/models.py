"""Patient accounts and the one-time codes that secure them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from esante.registry.models import Language


class CodeChannel(models.TextChoices):
    SMS = "sms", _("Mobile")
    EMAIL = "email", _("E-mail")
    TOTP = "totp", _("Application d'authentification")


class Account(models.Model):
    """An activated eSanté account: the key to the person's DSP and online services.

    Not Django's auth user: the agency's staff use that one (helpdesk, admin), and
    patients never share its tables, permissions or login views.
    """

    person = models.OneToOneField(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="account"
    )
    password = models.CharField(max_length=256)  # Django's "argon2$argon2id$…" format
    code_channel = models.CharField(max_length=5, choices=CodeChannel.choices)
    phone = models.CharField(max_length=20, blank=True)  # E.164
    email = models.EmailField(max_length=254, blank=True)
    activated_at = models.DateTimeField(default=timezone.now)
    activation_letter = models.OneToOneField(
        "registry.ActivationLetter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account",
    )
    cgu_version = models.CharField(max_length=20)
    cgu_accepted_at = models.DateTimeField()
    # Login failures since the last success, and the temporary lock they brought
    # (esante.accounts.patient_sessions: growing locks, never permanent).
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Set at the holder's majority when the account was activated by a parent: at the next
    # login they choose their own password, confirm the code channel, and decide about
    # their former assistants (esante.records.majority). Reviewed but still due: the holder
    # chose to replace the parent's code channel and has not done it yet.
    majority_review_due = models.BooleanField(default=False)
    majority_reviewed_at = models.DateTimeField(null=True, blank=True)
    # The authenticator app's secret, sealed (esante.accounts.authenticators.totp), and the
    # last time step whose code was accepted: a code never works twice, whatever node
    # checks it.
    totp_secret = models.TextField(blank=True)
    totp_last_step = models.BigIntegerField(default=0)
    # The WebAuthn user handle of the account's passkeys: random, never the matricule.
    webauthn_handle = models.CharField(max_length=64, blank=True)
    # The password was last set by *Mot de passe oublié* with a recovery code in place of
    # the app: the sheet alone set it, so a recovery code may not stand in for the app at
    # login as well, until a login with the app's own code (esante.accounts.login.views).
    password_reset_by_recovery_code = models.BooleanField(default=False)
    # The holder's language: set at activation from the page's, changed by the language
    # menu while logged in; every e-mail, SMS and letter to the holder is written in it.
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.FRENCH)

    class Meta:
        verbose_name = _("compte eSanté")
        verbose_name_plural = _("comptes eSanté")

    def __str__(self) -> str:
        return f"Compte {self.pk} ({self.person_id})"

    @property
    def majority_channel_pending(self) -> bool:
        return self.majority_review_due and self.majority_reviewed_at is not None

    @property
    def code_destination(self) -> str:
        """Where codes go: the number, the address, or the app's sealed secret."""
        if self.code_channel == CodeChannel.TOTP:
            return self.totp_secret
        return self.phone if self.code_channel == CodeChannel.SMS else self.email


class CodePurpose(models.TextChoices):
    ACTIVATION = "activation", _("Activation du compte")
    LOGIN = "login", _("Connexion")
    RECOVERY = "recovery", _("Mot de passe oublié")
    CONTACT_CHANGE = "contact_change", _("Changement de contact")
    PASSWORD_CHANGE = "password_change", _("Changement de mot de passe")
    STEP_UP = "step_up", _("Confirmation d'identité")


class OneTimeCode(models.Model):
    """One code sent by SMS or e-mail, stored as a keyed hash (see verification.py)."""

    purpose = models.CharField(max_length=20, choices=CodePurpose.choices)
    # The flow this code belongs to: a code typed in another browser's flow is refused.
    flow_id = models.CharField(max_length=32, db_index=True)
    person = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="one_time_codes"
    )
    channel = models.CharField(max_length=5, choices=CodeChannel.choices)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(default=timezone.now)
    send_count = models.PositiveSmallIntegerField(default=1)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # The outbox message that carries it: the page tells when it could not be sent.
    message = models.ForeignKey(
        "notifications.OutboundMessage", on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name = _("code à usage unique")
        verbose_name_plural = _("codes à usage unique")

    def __str__(self) -> str:
        return f"{self.purpose} {self.pk}"


class CodeLock(models.Model):
    """Consecutive wrong one-time codes of one person in one flow (login, Mon compte,
    recovery, activation), across codes, and the lock they brought: from the 10th, codes
    are refused for 1 minute, then 2, 4 … at most 60
    (esante.accounts.authenticators.one_time_codes). A right code resets it. `subject` is
    "person:<id>", or for *Mot de passe oublié* a keyed hash of the matricule (so that a
    matricule without an account locks alike)."""

    flow = models.CharField(max_length=20)
    subject = models.CharField(max_length=80)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("blocage des codes")
        verbose_name_plural = _("blocages des codes")
        constraints = [
            models.UniqueConstraint(fields=["flow", "subject"], name="one_code_lock_per_flow")
        ]

    def __str__(self) -> str:
        return f"{self.flow} {self.subject}"


class PatientSession(models.Model):
    """A logged-in browser: what *Mon compte* lists, and what it can end."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # How it was opened (patient_sessions.log_in: "password+code:sms", "password+code:email",
    # "password+code:app", "password+recovery", "passkey", "oidc:<provider>"), and the
    # same as RFC 8176 values (patient_sessions.amr_of): what the platform's OpenID
    # Connect provider tells the services. Sessions opened before they were kept: "", [].
    method = models.CharField(max_length=64, blank=True, default="")
    amr = models.JSONField(default=list, blank=True)
    # When an identity provider (LuxTrust…) last authenticated the person for this
    # session: at a login through it, or at *Confirmez votre identité* with it. A
    # code, a passkey or the password never set it, nor linking a provider (its subject
    # is not yet the account's: only the national number, when sent, vouches for it).
    strong_auth_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self) -> str:
        return f"Session {self.pk} ({self.account_id})"


class KnownDevice(models.Model):
    """A browser that has logged in to the account (a long-lived signed cookie holds its
    token; only the token's keyed hash is here). A login from any other browser is
    notified. Its wrong passwords are counted here, apart from the account's: failures
    from other browsers never lock it, and its own never lock the others (device cookies,
    esante.accounts.patient_sessions)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="devices")
    token_hash = models.CharField(max_length=64, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("appareil connu")
        verbose_name_plural = _("appareils connus")

    def __str__(self) -> str:
        return f"Appareil {self.pk} ({self.account_id})"


class IdentityLink(models.Model):
    """An account linked to an external identity provider's subject (LuxTrust and others,
    by OpenID Connect): a login there is a complete login here. One subject of a provider
    opens at most one account, and an account links each provider at most once."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="identity_links")
    provider = models.CharField(max_length=50)
    subject = models.CharField(max_length=255)
    linked_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # What the provider said of the last authentication (OIDC acr, amr, auth_time).
    acr = models.CharField(max_length=200, blank=True)
    amr = models.JSONField(default=list, blank=True)
    auth_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("fournisseur d'identité associé")
        verbose_name_plural = _("fournisseurs d'identité associés")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="one_account_per_subject"),
            models.UniqueConstraint(fields=["account", "provider"], name="one_link_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} → {self.account_id}"


class Passkey(models.Model):
    """A WebAuthn discoverable credential (a passkey): a complete login by itself."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(_("nom"), max_length=60)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("clé d'accès")
        verbose_name_plural = _("clés d'accès")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"


class RecoveryCode(models.Model):
    """One of the ten recovery codes of an account whose only code channel is an
    authenticator app: shown once, stored as a password hash (Argon2id), each usable once."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("code de secours")
        verbose_name_plural = _("codes de secours")

    def __str__(self) -> str:
        return f"Code de secours {self.pk} ({self.account_id})"


class HeldNotice(models.Model):
    """A notice to a person who has no account yet (a DSP holder told that a professional
    opened their record): kept until their account is activated, then sent to the channel
    they chose, in the language their account chose (esante.accounts.notices). `subject`
    and `body` are written in the person's language when the notice is held; `wordings`
    holds the notice in each language of the platform ({"de": [subject, body], …}), since
    the account may choose another one at its activation."""

    person = models.ForeignKey(
        "registry.InsuredPerson", on_delete=models.PROTECT, related_name="held_notices"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    wordings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("avis en attente")
        verbose_name_plural = _("avis en attente")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.person_id})"
