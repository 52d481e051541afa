"""`esante create-service NAME --redirect-uri URI [...]`: registers a service with the
platform's OpenID Connect provider, and prints its client identifier and — once, it is
kept only as a keyed hash — its client secret.

A public client (a phone or browser app: `--public`) has no secret: PKCE alone binds its
codes. `--refresh-tokens` lets the service have refresh tokens; `--scope matricule` lets it
receive the national identification number (only services with a legal basis should).
An app of the FHIR API asks SMART scopes: `--scope launch/patient --scope 'patient/*.rs'`
for a patient app (the audience `patients`), `--scope 'user/DocumentReference.cu'` for
practice software (the audience `professionals`); `--origin https://app.example` lets a
browser app call the API (CORS). Run again with the same `--client-id`, it updates that
service (its secret only with `--new-secret`)."""

from __future__ import annotations

import io
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import CommandError, CommandParser
from PIL import Image, UnidentifiedImageError

from esante.commands import BaseCommand
from esante.provider import actions
from esante.provider.server import hash_client_secret
from esante.services import smart
from esante.services.models import SCOPES, Audience, Level, Service

LOGO_LARGEST = 64 * 1024


def _uri(value: str, *, https_unless_loopback: bool = True) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise CommandError(f"Adresse refusée (http ou https, sans fragment) : {value}")
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if https_unless_loopback and parts.scheme == "http" and not loopback:
        raise CommandError(f"Adresse refusée (https obligatoire hors de cette machine) : {value}")
    return value


def _scope(value: str) -> str:
    if value in SCOPES or smart.is_smart(value):
        return value
    raise ValueError(value)


def _origin(value: str) -> str:
    parts = urlsplit(_uri(value))
    if parts.path not in ("", "/") or parts.query:
        raise CommandError(f"Origine refusée (schéma, hôte et port, sans chemin) : {value}")
    return f"{parts.scheme}://{parts.netloc}"


def _check_audience(scopes: list[str], audience: str) -> None:
    for scope in scopes:
        parsed = smart.parse(scope)
        patient_side = scope == smart.LAUNCH_PATIENT or (parsed and parsed.context == "patient")
        if patient_side and audience != Audience.PATIENTS:
            raise CommandError(f"La portée {scope} est celle d'une app de patients.")
        if parsed and parsed.context == "user" and audience != Audience.PROFESSIONALS:
            raise CommandError(f"La portée {scope} est celle d'un logiciel de professionnels.")


def _logo(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(LOGO_LARGEST + 1)
    except OSError as error:
        raise CommandError(f"Logo illisible : {error}") from error
    if len(data) > LOGO_LARGEST:
        raise CommandError("Logo trop lourd (64 Kio au plus).")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise CommandError("Le logo doit être une image PNG.")
            image.verify()
    except (UnidentifiedImageError, OSError) as error:
        raise CommandError("Le logo n'est pas une image PNG valable.") from error
    return data


class Command(BaseCommand):
    help = "Enregistre (ou met à jour) un service auprès du fournisseur OpenID Connect."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NOM")
        parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
        parser.add_argument("--post-logout-redirect-uri", action="append", default=[])
        parser.add_argument("--backchannel-logout-uri", default="")
        parser.add_argument("--start-url", default="", help="La page de *Mes services*.")
        parser.add_argument(
            "--scope",
            action="append",
            type=_scope,
            default=[],
            help=f"{', '.join(SCOPES)}, ou une portée SMART (patient/*.rs…).",
        )
        parser.add_argument(
            "--level", choices=[each.value for each in Level], default=Level.SUBSTANTIAL
        )
        parser.add_argument(
            "--audience", choices=[each.value for each in Audience], default=Audience.PATIENTS
        )
        parser.add_argument(
            "--key", default="", help="Le service du guide qu'il ouvre (teleconsultation…)."
        )
        parser.add_argument("--description", default="")
        parser.add_argument("--logo", default="", help="Un fichier PNG de 64 Kio au plus.")
        parser.add_argument("--refresh-tokens", action="store_true")
        parser.add_argument(
            "--public", action="store_true", help="Client public (PKCE, sans secret)."
        )
        parser.add_argument(
            "--client-id", default="", help="Celui d'un service à mettre à jour, ou à donner."
        )
        parser.add_argument(
            "--client-secret", default="", help="Le secret à donner (sinon, tiré au hasard)."
        )
        parser.add_argument("--new-secret", action="store_true")
        parser.add_argument("--origin", action="append", default=[], dest="origins")

    def handle(self, *args: Any, **options: Any) -> None:
        redirect_uris = [_uri(each) for each in options["redirect_uris"]]
        service = None
        if options["client_id"]:
            service = Service.objects.filter(client_id=options["client_id"]).first()
        created = service is None
        if service is None:
            service = Service()
            if options["client_id"]:
                service.client_id = options["client_id"]
        scopes = ["openid", *[each for each in options["scope"] if each != "openid"]]
        _check_audience(scopes, options["audience"])
        service.name = options["name"]
        service.key = options["key"]
        service.description = options["description"]
        service.audience = options["audience"]
        service.redirect_uris = redirect_uris
        service.post_logout_redirect_uris = [
            _uri(each) for each in options["post_logout_redirect_uri"]
        ]
        service.backchannel_logout_uri = (
            _uri(options["backchannel_logout_uri"]) if options["backchannel_logout_uri"] else ""
        )
        service.start_url = _uri(options["start_url"]) if options["start_url"] else ""
        service.allowed_origins = sorted({_origin(each) for each in options["origins"]})
        service.scopes = sorted(set(scopes))
        service.level = options["level"]
        service.refresh_tokens = options["refresh_tokens"]
        if options["logo"]:
            service.logo = _logo(options["logo"])
        secret = ""
        if options["public"]:
            service.token_endpoint_auth_method = Service.AuthMethod.NONE
            service.client_secret_hash = ""
        else:
            service.token_endpoint_auth_method = Service.AuthMethod.BASIC
            if created or options["new_secret"] or not service.client_secret_hash:
                secret = options["client_secret"] or secrets.token_urlsafe(32)
                service.client_secret_hash = hash_client_secret(secret)
        actions.register_service(service, actor="command:create-service", created=created)
        self.stdout.write(f"client_id: {service.client_id}")
        if secret:
            self.stdout.write(f"client_secret: {secret}")
            self.stdout.write("(Le secret n'est affiché qu'une fois : il n'est gardé que haché.)")
