"""`esante reseal-secrets`: after a rotation of ESANTE_CODE_HMAC_KEY, seal every stored
authenticator-app secret (patients' and staff's) under the new key, so that the old key
can leave ESANTE_CODE_HMAC_KEY_FALLBACKS (docs/operations.md). Idempotent.

A command of the helpdesk's, whose staff devices sit above the patients' accounts: it
knows both."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import ngettext

from esante.accounts.authenticators import totp
from esante.accounts.models import Account
from esante.commands import BaseCommand
from esante.helpdesk.models import StaffDevice


class Command(BaseCommand):
    help = (
        "Rescelle sous la clé ESANTE_CODE_HMAC_KEY actuelle les secrets des applications "
        "d'authentification (patients et helpdesk), après une rotation de la clé."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        resealed = 0
        for model in (Account, StaffDevice):
            rows = model.objects.exclude(totp_secret="").values_list("pk", "totp_secret")
            for pk, sealed in rows.iterator():
                if totp.unseal(sealed) is None:
                    raise CommandError(
                        f"{model.__name__} {pk} : secret illisible avec la clé actuelle et "
                        "les clés de ESANTE_CODE_HMAC_KEY_FALLBACKS ; rien n'est changé pour "
                        "lui, remettez l'ancienne clé en fallback."
                    )
                fresh = totp.reseal(sealed)
                if fresh != sealed:
                    with transaction.atomic():
                        model.objects.filter(pk=pk, totp_secret=sealed).update(totp_secret=fresh)
                    resealed += 1
        self.stdout.write(
            ngettext(
                "%(count)d secret rescellé sous la clé actuelle.",
                "%(count)d secrets rescellés sous la clé actuelle.",
                resealed,
            )
            % {"count": resealed}
        )
