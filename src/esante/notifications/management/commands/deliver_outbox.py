from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from esante.notifications.actions import deliver_pending


class Command(BaseCommand):
    help = "Remet les e-mails et SMS en attente dont l'heure de nouvel essai est venue."

    def handle(self, *args: Any, **options: Any) -> None:
        sent, pending = deliver_pending()
        self.stdout.write(f"{sent} message(s) remis, {pending} toujours en attente.")
