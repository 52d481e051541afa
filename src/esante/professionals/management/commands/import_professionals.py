"""`esante import-professionals FILE.csv`: import the CNS's list of health professionals."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import ngettext

from esante.csv_import import ImportCommand, ImportResult, Progress
from esante.professionals.importer import import_professionals

HELP = """\
Importe le fichier CSV des professionnels de santé (liste des prestataires de la CNS)
dans le registre des professionnels.

Fichier : UTF-8 (BOM accepté), une ligne d'en-tête nommant les colonnes (dans n'importe
quel ordre), séparateur « , » (ou « ; », reconnu sur la ligne d'en-tête).

Colonnes obligatoires :
  national_code   code prestataire de la CNS : 6 à 10 chiffres, espaces, points,
                  tirets et barres obliques tolérés (aucun chiffre de contrôle n'est
                  publié, aucun n'est vérifié)
  last_name       nom (d'un laboratoire : sa dénomination), non vide, 100 caractères
  first_name      prénom, 100 caractères au plus ; vide seulement pour un laboratoire
  profession      medecin, medecin-dentiste, pharmacien, laboratoire, infirmier,
                  sage-femme, kinesitherapeute, psychotherapeute, orthophoniste,
                  ergotherapeute, dieteticien, psychomotricien, orthoptiste (ou son nom
                  en français, accents et majuscules indifférents)
  address_line1   adresse du cabinet, non vide, 200 caractères au plus
  postal_code     code postal, non vide, 16 caractères au plus
  locality        localité, non vide, 100 caractères au plus
Colonnes facultatives :
  specialty       spécialité, texte libre, 100 caractères au plus
  practice_name   nom du cabinet, 200 caractères au plus
  address_line2   complément d'adresse, 200 caractères au plus
  country         code ISO de deux lettres ; vide : LU
  active          1, oui, true (actif) ou 0, non, false (inactif) ; vide : actif
Une colonne facultative absente de l'en-tête ne modifie pas les professionnels déjà
connus. Une ligne du fichier est un professionnel : une valeur ne peut pas contenir de
saut de ligne, et un guillemet non refermé ne fait rejeter que sa propre ligne.

Un professionnel est reconnu à son code national : nouveau, il est créé ; connu, il n'est
mis à jour que si une valeur change. Réimporter le même fichier ne change donc rien. Un
professionnel marqué inactif devient inactif ; personne n'est jamais supprimé, et un
professionnel absent du fichier reste tel quel. Une ligne erronée est signalée (numéro et
motif) et ignorée ; les autres sont importées. Un fichier illisible ou un en-tête
incomplet ne change rien.
"""


class Command(ImportCommand):
    help = HELP

    def import_file(self, path: Path, progress: Progress) -> ImportResult:
        return import_professionals(path, progress=progress)

    def counts(self, result: ImportResult) -> list[str]:
        # Each count agrees with « professionnel » : « 1 créé, 2 mis à jour ».
        refused = len(result.rejected)
        return [
            ngettext("%(count)d créé", "%(count)d créés", result.created)
            % {"count": result.created},
            ngettext("%(count)d mis à jour", "%(count)d mis à jour", result.updated)
            % {"count": result.updated},
            ngettext("%(count)d inchangé", "%(count)d inchangés", result.unchanged)
            % {"count": result.unchanged},
            ngettext("%(count)d rejeté", "%(count)d rejetés", refused) % {"count": refused},
        ]
