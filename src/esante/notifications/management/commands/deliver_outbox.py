from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError
from django.utils.translation import ngettext

from esante.commands import BaseCommand
from esante.notifications.actions import deliver_pending


class Command(BaseCommand):
    help = "Remet les e-mails et SMS en attente dont l'heure de nouvel essai est venue."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sent, pending = deliver_pending()
        except (OperationalError, InterfaceError) as exc:
            # Run by a timer: one line for its log, and the next run takes over.
            raise CommandError(
                "La base de données est injoignable ; les messages en attente restent "
                f"dans l'outbox pour le prochain passage. ({type(exc).__name__})"
            ) from exc
        self.stdout.write(
            ngettext(
                "%(sent)d message remis, %(pending)d toujours en attente.",
                "%(sent)d messages remis, %(pending)d toujours en attente.",
                sent,
            )
            % {"sent": sent, "pending": pending}
        )
