"""`esante grant-app-role ROLE`: the application's rights for ROLE, granted by the schema's
owner (DATABASE_OWNER_URL; `esante serve` does it after every migrate)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from esante.audit.app_role import AppRoleError, grant_app_role
from esante.commands import BaseCommand


class Command(BaseCommand):
    help = (
        "Donne au rôle PostgreSQL de l'application (DATABASE_URL) ses droits sur les tables "
        "du propriétaire du schéma (DATABASE_OWNER_URL) : lire et écrire, mais seulement "
        "ajouter au journal d'audit et aux historiques des accès."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "role",
            nargs="?",
            help="le rôle de l'application ; défaut : celui de DATABASE_URL",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.OWNER_DATABASE in settings.DATABASES:
            using, role = settings.OWNER_DATABASE, settings.DATABASES[DEFAULT_DB_ALIAS]["USER"]
        else:
            # Without DATABASE_OWNER_URL, this run's DATABASE_URL is the owner's.
            using, role = DEFAULT_DB_ALIAS, ""
        role = options["role"] or role
        if not role:
            raise CommandError("Nommez le rôle de l'application : esante grant-app-role RÔLE.")
        try:
            append_only = grant_app_role(role, using=using)
        except AppRoleError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{role} : lecture et écriture ; en ajout seulement : {', '.join(append_only)}."
        )
