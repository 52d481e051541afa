"""`esante import-registry FILE.csv`: import the national insurance feed."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import ngettext

from esante.csv_import import ImportCommand, ImportResult, Progress
from esante.registry.importer import import_registry

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


class Command(ImportCommand):
    help = HELP

    def import_file(self, path: Path, progress: Progress) -> ImportResult:
        return import_registry(path, progress=progress)

    def counts(self, result: ImportResult) -> list[str]:
        # Each count agrees with « personne » : « 1 créée, 2 mises à jour ».
        refused = len(result.rejected)
        return [
            ngettext("%(count)d créée", "%(count)d créées", result.created)
            % {"count": result.created},
            ngettext("%(count)d mise à jour", "%(count)d mises à jour", result.updated)
            % {"count": result.updated},
            ngettext("%(count)d inchangée", "%(count)d inchangées", result.unchanged)
            % {"count": result.unchanged},
            ngettext("%(count)d rejetée", "%(count)d rejetées", refused) % {"count": refused},
        ]
