"""`esante import-registry FILE.csv`: import the national insurance feed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser, DjangoHelpFormatter
from django.utils.translation import ngettext
from tqdm import tqdm

from esante.commands import BaseCommand
from esante.registry.importer import ImportFileError, ImportResult, import_registry

HELP = """\
Importe le fichier CSV des assurés (flux de l'assurance nationale) dans le registre.

Fichier : UTF-8 (BOM accepté), une ligne d'en-tête nommant les colonnes (dans n'importe
quel ordre), séparateur « , » (ou « ; », reconnu sur la ligne d'en-tête).

Colonnes obligatoires :
  matricule       13 chiffres (ou 11, ancien format), espaces tolérés
  last_name       nom, non vide, 100 caractères au plus
  first_name      prénom, non vide, 100 caractères au plus
  address_line1   adresse, non vide, 200 caractères au plus
  postal_code     code postal, non vide, 16 caractères au plus
  locality        localité, non vide, 100 caractères au plus
Colonnes facultatives :
  birth_date      AAAA-MM-JJ ; vide : la date du matricule (mois ou jour 00 : le 1er) ;
                  sinon, elle doit concorder avec le matricule
  sex             M, F, X ou vide
  address_line2   complément d'adresse, 200 caractères au plus
  country         code ISO de deux lettres ; vide : LU
  date_of_death   AAAA-MM-JJ ou vide ; ni avant la naissance, ni dans le futur
  language        fr, de, en ou vide (fr) : la langue des courriers d'activation de la
                  personne tant qu'elle n'a pas de compte
Une colonne facultative absente de l'en-tête ne modifie pas les personnes déjà connues.
Une ligne du fichier est une personne : une valeur ne peut pas contenir de saut de ligne,
et un guillemet non refermé ne fait rejeter que sa propre ligne.

Une personne est reconnue à son matricule : nouvelle, elle est créée avec un identifiant
eSanté ; connue, elle n'est mise à jour que si une valeur change. Réimporter le même
fichier ne change donc rien. Une ligne erronée est signalée (numéro et motif) et ignorée ;
les autres sont importées. Un fichier illisible ou un en-tête incomplet ne change rien.
"""


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's ordering of options, with the column list kept as written."""


class _ProgressBar:
    """The importer's progress, as a tqdm bar on stderr (shown only on a terminal)."""

    def __init__(self) -> None:
        self.bar: tqdm[Any] | None = None

    def start(self, total_rows: int) -> None:
        self.bar = tqdm(
            total=total_rows, unit=" lignes", unit_scale=True, file=sys.stderr, disable=None
        )

    def advance(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = _HelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FICHIER", help="le fichier CSV à importer")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        progress = _ProgressBar()
        try:
            result = import_registry(path, progress=progress)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()
        self.report(result)

    def report(self, result: ImportResult) -> None:
        if result.ignored_columns:
            self.stdout.write(
                self.style.WARNING(
                    ngettext(
                        "Colonne inconnue, ignorée : %(columns)s",
                        "Colonnes inconnues, ignorées : %(columns)s",
                        len(result.ignored_columns),
                    )
                    % {"columns": ", ".join(name or '""' for name in result.ignored_columns)}
                )
            )
        for rejected in result.rejected:
            self.stdout.write(self.style.ERROR(f"ligne {rejected.line} : {rejected.reason}"))
        # Each count agrees with « personne »: « 1 créée, 2 mises à jour ».
        refused = len(result.rejected)
        counts = [
            ngettext("%(count)d créée", "%(count)d créées", result.created)
            % {"count": result.created},
            ngettext("%(count)d mise à jour", "%(count)d mises à jour", result.updated)
            % {"count": result.updated},
            ngettext("%(count)d inchangée", "%(count)d inchangées", result.unchanged)
            % {"count": result.unchanged},
            ngettext("%(count)d rejetée", "%(count)d rejetées", refused) % {"count": refused},
        ]
        summary = f"{result.file_name} : {', '.join(counts)}."
        self.stdout.write(self.style.SUCCESS(summary) if not result.rejected else summary)
