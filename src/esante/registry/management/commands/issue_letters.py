"""`esante issue-letters`: issue activation letters and render their print-ready PDF.

Without options, writes to everyone who needs a letter (alive, no account, no usable
letter), in postal-code order for the post's sorting; `--matricule` (repeatable) issues a
new letter to given people, voiding their old one. A batch is one PDF; a run makes one
batch, or several when it has more than `--batch-size` letters (100,000 by default).

This is the print side on the server: the PDFs (activation codes in clear) go to the
private letters directory, ESANTE_LETTERS_DIR, mode 0600 in a 0700 directory owned by the
service user, whose path it prints; the print provider takes them from there (or a print
operator downloads them at /helpdesk/courriers/), and they are deleted once the batch is
marked posted, or by `esante purge-letter-batches` after ESANTE_LETTER_BATCH_DAYS days.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import storages
from django.core.management.base import CommandError, CommandParser
from django.db.models import QuerySet
from django.utils.translation import ngettext
from tqdm import tqdm

from esante.commands import BaseCommand
from esante.registry import letters
from esante.registry import matricule as matricule_rules
from esante.registry.letters import (
    CHUNK_SIZE,
    Stage,
    issue_letters_for_ids,
    persons_needing_letters,
)
from esante.registry.models import InsuredPerson, LetterBatch

ACTOR = "command:issue-letters"
# Letters per batch, hence per PDF. ReportLab holds a document in memory until it writes
# it (about 8 KB a page: 800 MB for 100,000), and a print shop takes files of bounded
# size; a run for the whole registry makes several batches, each complete on its own.
BATCH_SIZE = 100_000


@contextlib.contextmanager
def single_run() -> Iterator[None]:
    """The lock every letter run takes (esante.registry.letters.single_run), the
    helpdesk's "Générer" too; a run already in progress stops the command."""
    try:
        with letters.single_run():
            yield
    except letters.LetterRunInProgress as busy:
        raise CommandError(str(busy)) from None


class Command(BaseCommand):
    help = (
        "Émet les courriers d'activation (par défaut : à toute personne vivante sans compte "
        "ni courrier utilisable) et génère leur lot en un PDF prêt à imprimer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--matricule",
            action="append",
            default=[],
            metavar="MATRICULE",
            help="Émet un nouveau courrier à cette personne (annule le précédent). Répétable.",
        )
        parser.add_argument("--limit", type=int, metavar="N", help="Au plus N courriers.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            metavar="N",
            help=f"Au plus N courriers par lot, c'est-à-dire par PDF (défaut : {BATCH_SIZE}).",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_SIZE,
            metavar="N",
            help=f"Personnes par transaction (défaut : {CHUNK_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit: int | None = options["limit"]
        batch_size: int = options["batch_size"]
        for name in ("limit", "batch_size", "chunk_size"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} doit valoir au moins 1.")
        show = options["verbosity"] > 0
        # Held from the choice of the people to the last batch (each batch takes it again).
        with single_run():
            # Chosen once, under the lock: the run's people do not change as it goes.
            selection = self.selection(options["matricule"])
            person_ids = list(selection.values_list("pk", flat=True)[:limit])
            if not person_ids:
                self.stdout.write("Aucun courrier à émettre.")
                return
            total = len(person_ids)
            with (
                tqdm(
                    total=total, desc="Courriers émis", unit=" courrier", disable=not show
                ) as issued,
                tqdm(
                    total=total, desc="Pages imprimées", unit=" page", disable=not show
                ) as rendered,
            ):
                bars = {"issued": issued, "rendered": rendered}

                def progress(stage: Stage, count: int) -> None:
                    bars[stage].update(count)

                batches = []
                for start in range(0, total, batch_size):
                    batch = issue_letters_for_ids(
                        person_ids[start : start + batch_size],
                        actor=ACTOR,
                        chunk_size=options["chunk_size"],
                        progress=progress,
                    )
                    if batch is not None:
                        batches.append(batch)
        self.summarize(batches)

    def summarize(self, batches: list[LetterBatch]) -> None:
        if not batches:
            self.stdout.write("Aucun courrier à émettre.")
            return
        count = sum(batch.letter_count for batch in batches)
        letters = ngettext(
            "%(count)d courrier d'activation émis", "%(count)d courriers d'activation émis", count
        ) % {"count": count}
        in_batches = ngettext("en %(count)d lot", "en %(count)d lots", len(batches)) % {
            "count": len(batches)
        }
        self.stdout.write(self.style.SUCCESS(f"{letters}, {in_batches}."))
        storage = storages["letters"]
        for batch in batches:
            try:
                location = storage.path(batch.pdf_name)
            except NotImplementedError:
                location = batch.pdf_name
            self.stdout.write(
                ngettext(
                    "Lot %(batch)s : %(count)d page à imprimer : %(location)s",
                    "Lot %(batch)s : %(count)d pages à imprimer : %(location)s",
                    batch.letter_count,
                )
                % {"batch": batch.pk, "count": batch.letter_count, "location": location}
            )

    def selection(self, matricules: list[str]) -> QuerySet[InsuredPerson]:
        if not matricules:
            # Postal-code order: the post sorts less, and charges less, for sorted mail.
            return persons_needing_letters().order_by("country", "postal_code", "pk")
        numbers = {matricule_rules.normalize(number) for number in matricules}
        persons = InsuredPerson.objects.filter(matricule__in=numbers)
        unknown = numbers - set(persons.values_list("matricule", flat=True))
        if unknown:
            raise CommandError(
                ngettext(
                    "Matricule inconnu : %(matricules)s.",
                    "Matricules inconnus : %(matricules)s.",
                    len(unknown),
                )
                % {"matricules": ", ".join(sorted(unknown))}
            )
        for person in persons.filter(date_of_death__isnull=False):
            self.stderr.write(f"{person.matricule} : personne décédée, aucun courrier.")
        return persons.filter(date_of_death__isnull=True).order_by("country", "postal_code", "pk")
