"""The eSanté services registered with the platform's OpenID Connect provider
(esante.provider): each one is an OAuth client, registered by `esante create-service`, never
hard-coded. *Mes services eSanté* and the public services page list the active ones.

A low floor on purpose: the pages that list services (portal, accounts) read this model;
the protocol that opens them lives above every app (esante.provider)."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The two levels of assurance a service may ask for (the ID token's `acr`).
ACR_SUBSTANTIAL = "urn:esante:acr:substantial"  # password + one-time code, or a passkey
ACR_HIGH = "urn:esante:acr:high"  # a strong authenticator (LuxTrust)
ACR_VALUES = (ACR_SUBSTANTIAL, ACR_HIGH)

# The scopes a service may be registered for, and what each one shares.
SCOPES = ("openid", "profile", "matricule", "offline_access", "fhirUser")


class Audience(models.TextChoices):
    PATIENTS = "patients", _("Patients")
    PROFESSIONALS = "professionals", _("Professionnels de santé")


class Level(models.TextChoices):
    SUBSTANTIAL = ACR_SUBSTANTIAL, _("Mot de passe et code, ou clé d'accès")
    HIGH = ACR_HIGH, _("Authentification forte (LuxTrust)")


class ServiceQuerySet(models.QuerySet["Service"]):
    def listed(self, audience: str = Audience.PATIENTS) -> ServiceQuerySet:
        """What *Mes services* offers: the active services for this audience that have a
        page to start from."""
        return self.filter(is_active=True, audience=audience).exclude(start_url="")


def new_client_id() -> str:
    return f"esante-{secrets.token_urlsafe(16)}"


def new_pairwise_salt() -> str:
    return secrets.token_hex(32)


class Service(models.Model):
    """An OAuth 2.0 / OpenID Connect client: a service of the agency or a partner's.

    `client_secret_hash` is the secret's keyed hash only (esante.keyed_hash); a public client
    (a mobile or browser app, PKCE only) has none. `pairwise_salt` makes the subject
    identifiers this service receives its own: two services can never match their users by
    `sub` (esante.provider.subjects)."""

    class AuthMethod(models.TextChoices):
        BASIC = "client_secret_basic", "client_secret_basic"
        POST = "client_secret_post", "client_secret_post"
        NONE = "none", _("aucune (client public, PKCE)")

    name = models.CharField(_("nom"), max_length=100)
    # One of the guide's services (téléconsultation, remboursement…) that this one opens:
    # it takes that entry's place in the lists.
    key = models.SlugField(_("service du guide"), max_length=40, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    audience = models.CharField(
        _("public"), max_length=20, choices=Audience.choices, default=Audience.PATIENTS
    )
    client_id = models.CharField(max_length=100, unique=True, default=new_client_id)
    client_secret_hash = models.CharField(max_length=64, blank=True)
    token_endpoint_auth_method = models.CharField(
        max_length=30, choices=AuthMethod.choices, default=AuthMethod.BASIC
    )
    redirect_uris = models.JSONField(_("adresses de retour"), default=list)
    post_logout_redirect_uris = models.JSONField(default=list, blank=True)
    backchannel_logout_uri = models.URLField(max_length=500, blank=True)
    # Where *Mes services* leads: the service's own page that starts the login.
    start_url = models.URLField(_("adresse du service"), max_length=500, blank=True)
    # Browser apps' origins, registered for the CORS of the FHIR API to come (issue 19):
    # nothing reads them yet.
    allowed_origins = models.JSONField(default=list, blank=True)
    scopes = models.JSONField(_("portées"), default=list)
    level = models.CharField(
        _("niveau minimal"), max_length=60, choices=Level.choices, default=Level.SUBSTANTIAL
    )
    refresh_tokens = models.BooleanField(_("jetons de rafraîchissement"), default=False)
    # A PNG, at most 64 KiB (checked by create-service), served by the platform itself.
    logo = models.BinaryField(blank=True, default=b"")
    pairwise_salt = models.CharField(max_length=64, default=new_pairwise_salt, editable=False)
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def is_public_client(self) -> bool:
        return self.token_endpoint_auth_method == self.AuthMethod.NONE
