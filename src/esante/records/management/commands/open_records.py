"""`esante open-records`: the move to the opt-out for the people already in the registry.

Every living insured person has a DSP; since the opt-out, each one opens with the
person's first letter (esante.records.receivers). This command opens one for everyone
alive who has none yet — those whose letters came before, or who have had none — with the
objection period of ESANTE_DSP_OBJECTION_DAYS days from the run, by transactions of a few
thousand persons, with a progress bar on a terminal. Idempotent: a second run opens
nothing, and a record that exists (open or closed) is never changed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import ngettext
from tqdm import tqdm

from esante.commands import BaseCommand
from esante.records.actions import OPEN_CHUNK_SIZE, open_missing_records, persons_without_record


class Command(BaseCommand):
    help = (
        "Ouvre un DSP à chaque personne assurée vivante qui n'en a pas encore (opt-out), "
        "avec son délai d'opposition. Idempotente."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=OPEN_CHUNK_SIZE,
            metavar="N",
            help=f"Personnes par transaction (défaut : {OPEN_CHUNK_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size: int = options["chunk_size"]
        if chunk_size < 1:
            raise CommandError("--chunk-size doit valoir au moins 1.")
        total = persons_without_record().count()
        if not total:
            self.stdout.write("Aucun DSP à ouvrir : chaque personne vivante a le sien.")
            return
        with tqdm(
            total=total, desc="DSP ouverts", unit=" DSP", disable=options["verbosity"] < 1
        ) as bar:

            def progress(count: int) -> None:
                bar.update(count)

            opened = open_missing_records(chunk_size=chunk_size, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                ngettext("%(count)d DSP ouvert.", "%(count)d DSP ouverts.", opened)
                % {"count": opened}
            )
        )
