from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import ngettext

from esante.commands import BaseCommand, iso_date
from esante.records.majority import coming_of_age


class Command(BaseCommand):
    help = (
        "Majorité : avis 30 jours avant les 18 ans, puis fin des droits d'assistant DSP "
        "donnés pendant la minorité. Quotidienne, idempotente, sûre à la main."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=iso_date, help="Le jour à traiter (AAAA-MM-JJ).")

    def handle(self, *args: Any, **options: Any) -> None:
        run = coming_of_age(options["date"])
        notices = ngettext("%(count)d avis envoyé", "%(count)d avis envoyés", run.notices)
        ended = ngettext(
            "%(count)d droit d'assistant terminé",
            "%(count)d droits d'assistant terminés",
            run.ended,
        )
        self.stdout.write(f"{notices % {'count': run.notices}}, {ended % {'count': run.ended}}.")
