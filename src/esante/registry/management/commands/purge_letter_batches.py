"""`esante purge-letter-batches`: delete the letter batch PDFs that are no longer needed —
every batch marked as posted, and every batch made more than ESANTE_LETTER_BATCH_DAYS
days ago, posted or not. Daily (timer), idempotent, safe to run by hand; each deletion is
audited, and the batch's row stays."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import ngettext

from esante.commands import BaseCommand
from esante.registry.actions import purge_batch_files

ACTOR = "command:purge-letter-batches"


class Command(BaseCommand):
    help = (
        "Supprime les PDF des lots de courriers postés, et de ceux générés il y a plus de "
        "ESANTE_LETTER_BATCH_DAYS jours. Quotidienne, idempotente."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_batch_files(actor=ACTOR)
        self.stdout.write(
            ngettext(
                "%(count)d PDF de lot supprimé (lots postés ou de plus de %(days)d jours).",
                "%(count)d PDF de lots supprimés (lots postés ou de plus de %(days)d jours).",
                len(deleted),
            )
            % {"count": len(deleted), "days": settings.ESANTE_LETTER_BATCH_DAYS}
        )
        for batch in deleted:
            self.stdout.write(f"Lot {batch.pk} : {batch.pdf_name}")
