"""Demo documents for the DSP: what care providers have sent to a dozen demo persons.

Loaded with the demo persons (`esante load-demo`, esante.registry.demo.load_demo). Each
document is a short PDF drawn with ReportLab at load time: an A4 page or two with the
provider's header (never the agency's), the patient, the date, the title and the body
(text, result tables). Dates are relative to the day of loading, so the demo stays fresh.

Idempotent: a document is recognised by its record and title (titles are unique per
person), so a second run creates nothing.

Texts may hold placeholders, filled for the patient when the PDF is drawn:
`{patient}` (« M. Hector Doe-Rita »), `{age}` (the age on the document's date),
`{J-52}` (the date 52 days before today) and `{N+12m}` (the date 12 months after birth).
All texts stay within WinAnsi (cp1252), which ReportLab's built-in Helvetica covers.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import html
import io
import re
from dataclasses import dataclass
from typing import Any, TypeAlias

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from esante.records.documents import save_file
from esante.records.models import CareRecord, Category, Confidentiality, Document
from esante.registry.letter_pdf import binary_streams, french_date
from esante.registry.models import InsuredPerson

# What is drawn.


@dataclass(frozen=True)
class Provider:
    name: str
    address: tuple[str, str]  # street, then postal code and locality
    service: str = ""

    @property
    def locality(self) -> str:
        return self.address[1].split(" ", 1)[1]

    def at(self, service: str) -> Provider:
        return dataclasses.replace(self, service=service)


@dataclass(frozen=True)
class Signatory:
    name: str
    role: str


@dataclass(frozen=True)
class Text:
    """A section: an optional heading, then paragraphs ("- " starts a bullet)."""

    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    """A table. With `flagged`, the last column marks values out of range (H, B)."""

    heading: str
    columns: tuple[str, ...]
    widths: tuple[int, ...]  # relative
    rows: tuple[tuple[str, ...], ...]
    flagged: bool = False


Block: TypeAlias = Text | Grid


@dataclass(frozen=True)
class DemoDocument:
    category: Category
    title: str
    days_ago: int
    provider: Provider
    signatory: Signatory
    blocks: tuple[Block, ...]
    confidentiality: Confidentiality = Confidentiality.NORMAL

    @property
    def author(self) -> str:
        """A laboratory signs as itself; a report or prescription as its doctor."""
        if self.category == Category.LABORATORY:
            return self.provider.name
        return f"{self.signatory.name}, {self.provider.name}"


def text(heading: str, *paragraphs: str) -> Text:
    return Text(heading, paragraphs)


def lab(heading: str, *rows: tuple[str, str, str, str, str]) -> Grid:
    """Results: analysis, result, unit, reference range, flag (H high, B low, or "")."""
    return Grid(
        heading,
        ("Analyse", "Résultat", "Unité", "Valeurs de référence", ""),
        (38, 16, 17, 23, 6),
        rows,
        flagged=True,
    )


def medicines(*rows: tuple[str, str, str]) -> Grid:
    return Grid("", ("Médicament", "Posologie", "Durée"), (40, 42, 18), rows)


def vaccines(*rows: tuple[str, str, str, str]) -> Grid:
    return Grid("Vaccinations", ("Vaccin", "Dose", "Date", "Lot"), (50, 18, 16, 16), rows)


# Who sends them. Hospitals and laboratories of Luxembourg; doctors' names are invented.

CHL = Provider(
    "Centre Hospitalier de Luxembourg", ("4, rue Nicolas Ernest Barblé", "L-1210 Luxembourg")
)
HRS = Provider(
    "Hôpitaux Robert Schuman — Hôpital Kirchberg",
    ("9, rue Edward Steichen", "L-2540 Luxembourg"),
)
CHEM = Provider(
    "Centre Hospitalier Emile Mayrisch", ("Rue Émile Mayrisch", "L-4240 Esch-sur-Alzette")
)
CHDN = Provider("Centre Hospitalier du Nord", ("120, avenue Lucien Salentiny", "L-9080 Ettelbruck"))
INCCI = Provider(
    "INCCI — Institut National de Chirurgie Cardiaque et de Cardiologie Interventionnelle",
    ("2A, rue Nicolas Ernest Barblé", "L-1210 Luxembourg"),
)
LABO = Provider("Laboratoires Réunis", ("38, rue Hiehl", "L-6131 Junglinster"))
LNS = Provider("Laboratoire national de santé", ("1, rue Louis Rech", "L-3555 Dudelange")).at(
    "Service d'anatomie pathologique"
)
CABINET_REDING = Provider(
    "Cabinet médical Dr Paul Reding", ("12, avenue Pasteur", "L-2310 Luxembourg")
).at("Médecine générale")
CABINET_FLAMMANG = Provider(
    "Cabinet médical de la Syre", ("2, rue de Luxembourg", "L-6910 Roodt-sur-Syre")
).at("Médecine générale")
CABINET_KRIER = Provider(
    "Cabinet médical Dr Yann Krier", ("15, avenue J.F. Kennedy", "L-9053 Ettelbruck")
).at("Médecine générale")
PEDIATRIE_FEYDER = Provider(
    "Cabinet de pédiatrie Dr Sarah Feyder", ("31, route d'Esch", "L-1470 Luxembourg")
).at("Pédiatrie")
PEDIATRIE_CARVALHO = Provider(
    "Cabinet de pédiatrie Dr Inês Carvalho",
    ("5, place de l'Hôtel de Ville", "L-4138 Esch-sur-Alzette"),
).at("Pédiatrie")

REDING = Signatory("Dr Paul Reding", "Médecin généraliste")
FLAMMANG = Signatory("Dr Henri Flammang", "Médecin généraliste")
KRIER = Signatory("Dr Yann Krier", "Médecin généraliste")
FEYDER = Signatory("Dr Sarah Feyder", "Médecin spécialiste en pédiatrie")
CARVALHO = Signatory("Dr Inês Carvalho", "Médecin spécialiste en pédiatrie")
KREMER = Signatory("Dr Anne Kremer", "Médecin spécialiste en gériatrie")
WOLTER = Signatory("Dr Pierre Wolter", "Médecin spécialiste en cardiologie")
MERSCH = Signatory("Dr Laura Mersch", "Médecin spécialiste en radiologie")
BETTENDORF = Signatory("Dr Nora Bettendorf", "Médecin spécialiste en radiologie")
HASTERT = Signatory("Dr Eric Hastert", "Médecin spécialiste en radiologie")
FABER = Signatory("Dr Jérôme Faber", "Médecin spécialiste en chirurgie orthopédique")
ORIGER = Signatory("Dr Gilles Origer", "Médecin spécialiste en gastro-entérologie")
SCHROEDER = Signatory("Dr Julie Schroeder", "Médecin spécialiste en pédiatrie")
LANNERS = Signatory("Dr Catherine Lanners", "Médecin spécialiste en pédiatrie")
THOSS = Signatory("Dr Michel Thoss", "Médecin spécialiste en psychiatrie")
BECKER = Signatory("Dr Thomas Becker", "Médecin spécialiste en maladies infectieuses")
HANSEN = Signatory("Dr Claude Hansen", "Biologiste médical")
LORANG = Signatory("Dr Sonia Lorang", "Médecin spécialiste en anatomie pathologique")

RESTRICTED = Confidentiality.RESTRICTED
VERY_RESTRICTED = Confidentiality.VERY_RESTRICTED

# What each demo person's DSP holds, by (first name, last name) as in registry.demo.

DOCUMENTS: dict[tuple[str, str], tuple[DemoDocument, ...]] = {
    ("Hector", "Doe-Rita"): (
        DemoDocument(
            Category.HOSPITAL,
            "Consultation de cardiologie",
            210,
            CHL.at("Service de cardiologie"),
            WOLTER,
            (
                text(
                    "",
                    "Cher Confrère,",
                    "J'ai revu en consultation de suivi {patient}, {age}, pour sa fibrillation "
                    "atriale permanente et son insuffisance cardiaque à fraction d'éjection "
                    "préservée.",
                ),
                text(
                    "Examen",
                    "Patient en bon état général, marchant avec une canne. Pression artérielle "
                    "138/74 mmHg, fréquence cardiaque 72/min irrégulière. Pas de souffle "
                    "nouveau. Discrets œdèmes des chevilles, pas de crépitants. Poids 64 kg, "
                    "stable.",
                ),
                text(
                    "Examens complémentaires",
                    "- ECG : fibrillation atriale à réponse ventriculaire contrôlée (72/min), "
                    "pas de trouble de la repolarisation.",
                    "- Échocardiographie : ventricule gauche non dilaté, FEVG estimée à 55 %, "
                    "oreillette gauche dilatée, insuffisance mitrale modérée, PAPS estimée à "
                    "38 mmHg.",
                ),
                text(
                    "Conclusion",
                    "Situation cardiologique stable. Pas de modification du traitement : "
                    "apixaban 2,5 mg deux fois par jour, bisoprolol 2,5 mg, furosémide 20 mg. "
                    "Surveillance de la fonction rénale tous les six mois. Prochaine "
                    "consultation dans un an, plus tôt en cas de dyspnée ou de prise de poids.",
                    "Bien confraternellement.",
                ),
            ),
        ),
        DemoDocument(
            Category.IMAGING,
            "Radiographie thoracique de face",
            52,
            CHL.at("Service d'imagerie médicale"),
            MERSCH,
            (
                text(
                    "Indication",
                    "Fièvre à 38,6 °C, toux productive et désaturation à 89 % en air ambiant "
                    "chez un patient de {age}.",
                ),
                text("Technique", "Cliché de face au lit, en position assise."),
                text(
                    "Résultat",
                    "Opacité alvéolaire systématisée du lobe inférieur droit, avec "
                    "bronchogramme aérien. Émoussement du cul-de-sac costo-diaphragmatique "
                    "droit, évoquant un épanchement pleural de faible abondance. Index "
                    "cardiothoracique à 0,55 (cardiomégalie connue). Aorte déroulée et "
                    "calcifiée. Pas de pneumothorax.",
                ),
                text(
                    "Conclusion",
                    "Pneumopathie du lobe inférieur droit, avec un petit épanchement pleural "
                    "réactionnel. Radiographie de contrôle conseillée dans six à huit semaines.",
                ),
            ),
        ),
        DemoDocument(
            Category.HOSPITAL,
            "Lettre de sortie — gériatrie aiguë",
            44,
            CHL.at("Service de gériatrie"),
            KREMER,
            (
                text(
                    "",
                    "Cher Confrère,",
                    "Votre patient {patient}, {age}, a été hospitalisé dans notre service du "
                    "{J-52} au {J-44} pour une pneumopathie communautaire du lobe inférieur "
                    "droit.",
                ),
                text(
                    "Antécédents",
                    "- Fibrillation atriale permanente, anticoagulée.",
                    "- Insuffisance cardiaque à fraction d'éjection préservée.",
                    "- Hypertension artérielle.",
                    "- Insuffisance rénale chronique de stade 3b.",
                    "- Prothèse totale de hanche droite ; cataracte opérée des deux côtés.",
                ),
                text(
                    "Mode de vie",
                    "Vit seul à domicile, avec le passage quotidien d'une infirmière du réseau "
                    "d'aide et de soins et le soutien de sa famille. Marche avec une canne.",
                ),
                text(
                    "À l'admission",
                    "Fièvre à 38,6 °C, toux productive, SpO2 89 % en air ambiant. CRP "
                    "148 mg/L, leucocytes 14,3 G/L, créatinine 1,52 mg/dL. Radiographie "
                    "thoracique : foyer du lobe inférieur droit avec petit épanchement pleural.",
                ),
                text(
                    "Évolution",
                    "Antibiothérapie par amoxicilline et acide clavulanique par voie "
                    "intraveineuse, relayée per os au quatrième jour. Oxygénothérapie à "
                    "2 L/min pendant trois jours. Kinésithérapie respiratoire quotidienne. "
                    "Épisode de confusion nocturne les deux premières nuits, résolutif sans "
                    "traitement. Pas de décompensation cardiaque. À la sortie, le patient est "
                    "apyrétique, eupnéique en air ambiant et marche dans le couloir avec un "
                    "déambulateur.",
                ),
                text(
                    "Traitement de sortie",
                    "- Amoxicilline et acide clavulanique 875/125 mg, matin et soir, pendant "
                    "encore trois jours.",
                    "- Apixaban 2,5 mg, matin et soir.",
                    "- Bisoprolol 2,5 mg le matin ; furosémide 20 mg le matin.",
                    "- Paracétamol 500 mg si douleur ou fièvre, au plus 3 g par jour.",
                ),
                text(
                    "Suites proposées",
                    "Contrôle biologique (hémogramme, CRP, fonction rénale) dans une semaine ; "
                    "radiographie thoracique de contrôle dans six semaines ; kinésithérapie à "
                    "domicile. Nous restons à votre disposition.",
                    "Bien confraternellement.",
                ),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance de sortie",
            44,
            CHL.at("Service de gériatrie"),
            KREMER,
            (
                medicines(
                    (
                        "Amoxicilline / acide clavulanique 875 mg/125 mg, comprimé",
                        "1 comprimé matin et soir, au début du repas",
                        "3 jours",
                    ),
                    ("Apixaban 2,5 mg, comprimé", "1 comprimé matin et soir", "À poursuivre"),
                    ("Bisoprolol 2,5 mg, comprimé", "1 comprimé le matin", "À poursuivre"),
                    ("Furosémide 20 mg, comprimé", "1 comprimé le matin", "À poursuivre"),
                    (
                        "Paracétamol 500 mg, comprimé",
                        "1 à 2 comprimés si douleur ou fièvre, 6 comprimés par jour au plus",
                        "10 jours",
                    ),
                ),
                text("", "Kinésithérapie respiratoire et de marche à domicile : 9 séances."),
            ),
        ),
        DemoDocument(
            Category.LABORATORY,
            "Bilan de contrôle — hémogramme, CRP, fonction rénale",
            36,
            LABO,
            HANSEN,
            (
                lab(
                    "Hématologie",
                    ("Hémoglobine", "12,1", "g/dL", "13,0 – 17,0", "B"),
                    ("Leucocytes", "7,2", "G/L", "4,0 – 10,0", ""),
                    ("Plaquettes", "268", "G/L", "150 – 400", ""),
                ),
                lab(
                    "Biochimie",
                    ("Protéine C réactive (CRP)", "6", "mg/L", "< 5", "H"),
                    ("Sodium", "137", "mmol/L", "136 – 145", ""),
                    ("Potassium", "4,6", "mmol/L", "3,5 – 5,1", ""),
                    ("Urée", "58", "mg/dL", "17 – 49", "H"),
                    ("Créatinine", "1,38", "mg/dL", "0,70 – 1,20", "H"),
                    ("DFG estimé (CKD-EPI)", "41", "mL/min/1,73 m²", "> 60", "B"),
                ),
                text(
                    "Commentaire du biologiste",
                    "Syndrome inflammatoire en nette régression (CRP à 148 mg/L lors de "
                    "l'hospitalisation). Fonction rénale revenue à son niveau habituel.",
                ),
            ),
        ),
        DemoDocument(
            Category.VACCINATION,
            "Certificat de vaccination — grippe, COVID-19 et pneumocoque",
            120,
            CABINET_REDING,
            REDING,
            (
                text(
                    "",
                    "Je soussigné certifie avoir vacciné {patient}, né le {N}, selon les "
                    "recommandations du Conseil supérieur des maladies infectieuses pour les "
                    "personnes de plus de 65 ans.",
                ),
                vaccines(
                    ("Pneumocoque, vaccin conjugué 20-valent", "Unique", "{J-480}", "PN20-3318"),
                    ("COVID-19, vaccin ARNm adapté", "Rappel", "{J-122}", "CV-88412"),
                    (
                        "Grippe saisonnière, vaccin inactivé haute dose",
                        "Annuelle",
                        "{J-120}",
                        "HD-4217",
                    ),
                ),
                text("", "Prochaine vaccination contre la grippe : à l'automne prochain."),
            ),
        ),
    ),
    ("Marc", "Schmit"): (
        DemoDocument(
            Category.IMAGING,
            "IRM du genou droit",
            300,
            HRS.at("Service de radiologie"),
            BETTENDORF,
            (
                text(
                    "Indication",
                    "Douleurs du compartiment interne du genou droit depuis un faux mouvement "
                    "au football, avec blocages intermittents.",
                ),
                text(
                    "Technique", "IRM 3 T, séquences DP fat-sat dans les trois plans, T1 sagittale."
                ),
                text(
                    "Résultat",
                    "Fissure horizontale de la corne postérieure du ménisque interne, "
                    "atteignant la surface articulaire inférieure (grade 3). Ménisque externe "
                    "normal. Ligaments croisés antérieur et postérieur continus. Ligaments "
                    "collatéraux intègres. Chondropathie fémoro-tibiale interne de grade II. "
                    "Épanchement intra-articulaire de faible abondance. Pas de lésion osseuse.",
                ),
                text(
                    "Conclusion",
                    "Lésion méniscale interne de grade 3, corne postérieure, compatible avec "
                    "les blocages décrits. Avis orthopédique conseillé.",
                ),
            ),
        ),
        DemoDocument(
            Category.HOSPITAL,
            "Compte rendu opératoire — arthroscopie du genou droit",
            270,
            HRS.at("Service de chirurgie orthopédique"),
            FABER,
            (
                text(
                    "Indication",
                    "{patient}, {age}, présente une lésion de la corne postérieure du ménisque "
                    "interne droit (IRM du {J-300}), restée symptomatique malgré le traitement "
                    "médical et la kinésithérapie.",
                ),
                text(
                    "Intervention",
                    "Hospitalisation de jour. Anesthésie générale. Garrot à la racine de la "
                    "cuisse. Voies d'abord antéro-latérale et antéro-médiale. Lésion "
                    "horizontale instable de la corne postérieure du ménisque interne : "
                    "méniscectomie partielle interne économe, régularisation au shaver. "
                    "Cartilage fémoral interne de grade II. Ligament croisé antérieur "
                    "intact. Lavage articulaire, fermeture cutanée, pansement compressif.",
                ),
                text(
                    "Suites",
                    "- Appui complet autorisé, deux cannes pendant quelques jours selon la "
                    "douleur.",
                    "- Glaçage, antalgiques simples ; kinésithérapie : 12 séances.",
                    "- Ablation des fils à J12 par le médecin traitant.",
                    "- Consultation de contrôle dans six semaines.",
                ),
            ),
        ),
        DemoDocument(
            Category.LABORATORY,
            "Bilan lipidique et glycémie à jeun",
            95,
            LABO,
            HANSEN,
            (
                lab(
                    "Biochimie (à jeun)",
                    ("Cholestérol total", "246", "mg/dL", "< 190", "H"),
                    ("Cholestérol HDL", "42", "mg/dL", "> 40", ""),
                    ("Cholestérol LDL (calculé)", "172", "mg/dL", "< 116", "H"),
                    ("Triglycérides", "160", "mg/dL", "< 150", "H"),
                    ("Glycémie à jeun", "98", "mg/dL", "70 – 100", ""),
                    ("Hémoglobine glyquée (HbA1c)", "5,5", "%", "< 5,7", ""),
                    ("ALAT (GPT)", "32", "U/L", "< 41", ""),
                    ("Créatinine", "0,94", "mg/dL", "0,70 – 1,20", ""),
                ),
                text(
                    "Commentaire du biologiste",
                    "Hypercholestérolémie à LDL. Pas de trouble de la glycorégulation.",
                ),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — atorvastatine",
            80,
            CABINET_REDING,
            REDING,
            (
                medicines(
                    (
                        "Atorvastatine 20 mg, comprimé",
                        "1 comprimé le soir",
                        "3 mois, renouvelable",
                    ),
                ),
                text(
                    "",
                    "Bilan de contrôle dans trois mois : cholestérol total, HDL, LDL, "
                    "triglycérides, ALAT, CK.",
                    "Conseils : alimentation pauvre en graisses saturées, activité physique "
                    "d'au moins 150 minutes par semaine.",
                ),
            ),
        ),
    ),
    ("Claire", "Schmit-Hoffmann"): (
        DemoDocument(
            Category.LABORATORY,
            "Bilan thyroïdien",
            150,
            LABO,
            HANSEN,
            (
                lab(
                    "Hormonologie",
                    ("TSH", "7,8", "mUI/L", "0,27 – 4,20", "H"),
                    ("T4 libre", "10,9", "pmol/L", "12,0 – 22,0", "B"),
                    ("Anticorps anti-thyroperoxydase", "412", "UI/mL", "< 34", "H"),
                ),
                text(
                    "Commentaire du biologiste",
                    "Hypothyroïdie d'origine auto-immune probable (thyroïdite de Hashimoto).",
                ),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — lévothyroxine",
            140,
            CABINET_REDING,
            REDING,
            (
                medicines(
                    (
                        "Lévothyroxine sodique 50 µg, comprimé",
                        "1 comprimé le matin à jeun, 30 minutes avant le petit-déjeuner",
                        "3 mois",
                    ),
                ),
                text("", "Dosage de la TSH de contrôle dans six à huit semaines."),
            ),
        ),
        DemoDocument(
            Category.IMAGING,
            "Échographie thyroïdienne",
            135,
            CHL.at("Service d'imagerie médicale"),
            MERSCH,
            (
                text("Indication", "Hypothyroïdie avec anticorps anti-thyroperoxydase élevés."),
                text(
                    "Résultat",
                    "Thyroïde de taille normale (lobe droit 16 x 17 x 45 mm, lobe gauche "
                    "15 x 16 x 43 mm, isthme 3 mm). Échostructure hétérogène et hypoéchogène, "
                    "d'aspect pseudo-nodulaire, avec une hypervascularisation diffuse au "
                    "Doppler. Pas de nodule individualisable. Pas d'adénopathie cervicale.",
                ),
                text(
                    "Conclusion",
                    "Aspect de thyroïdite chronique auto-immune. Pas de nodule : pas de "
                    "surveillance échographique nécessaire.",
                ),
            ),
        ),
        DemoDocument(
            Category.LABORATORY,
            "Contrôle de la TSH",
            90,
            LABO,
            HANSEN,
            (
                lab(
                    "Hormonologie",
                    ("TSH", "2,1", "mUI/L", "0,27 – 4,20", ""),
                    ("T4 libre", "15,8", "pmol/L", "12,0 – 22,0", ""),
                ),
                text(
                    "Commentaire du biologiste",
                    "TSH normalisée sous lévothyroxine 50 µg (7,8 mUI/L au bilan précédent).",
                ),
            ),
        ),
    ),
    ("Emma", "Schmit"): (
        DemoDocument(
            Category.HOSPITAL,
            "Compte rendu de passage aux urgences pédiatriques",
            200,
            CHL.at("Kannerklinik — Urgences pédiatriques"),
            SCHROEDER,
            (
                text(
                    "Motif",
                    "Emma, {age}, est amenée par sa mère après une chute de trottinette sur la "
                    "main gauche en extension.",
                ),
                text(
                    "Examen",
                    "Enfant consolable, douleur à 6/10. Tuméfaction et douleur à la palpation "
                    "de l'extrémité distale du radius gauche. Pas de déformation. Pouls radial "
                    "perçu, sensibilité et motricité des doigts conservées. Reste de l'examen "
                    "normal. Poids : 19 kg.",
                ),
                text(
                    "Radiographie",
                    "Fracture en motte de beurre de la métaphyse distale du radius gauche, "
                    "sans déplacement ; cartilage de croissance respecté.",
                ),
                text(
                    "Prise en charge",
                    "Ibuprofène 190 mg aux urgences. Attelle plâtrée antébrachio-palmaire pour "
                    "trois semaines. Ordonnance d'antalgiques remise.",
                    "Consignes aux parents : surélever le bras, vérifier la couleur et la "
                    "chaleur des doigts, reconsulter en cas de douleur croissante ou de doigts "
                    "froids. Consultation de contrôle chez le pédiatre dans trois semaines "
                    "pour l'ablation de l'attelle.",
                ),
            ),
        ),
        DemoDocument(
            Category.IMAGING,
            "Radiographie du poignet gauche",
            200,
            CHL.at("Service d'imagerie médicale"),
            MERSCH,
            (
                text("Indication", "Chute sur la main gauche, douleur radiale distale."),
                text("Technique", "Poignet gauche, incidences de face et de profil."),
                text(
                    "Résultat",
                    "Bombement de la corticale dorsale de la métaphyse distale du radius, "
                    "sans trait de fracture complet ni déplacement. Cartilage de croissance "
                    "normal. Ulna et os du carpe sans anomalie.",
                ),
                text("Conclusion", "Fracture en motte de beurre du radius distal gauche."),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — antalgiques",
            200,
            CHL.at("Kannerklinik — Urgences pédiatriques"),
            SCHROEDER,
            (
                text("", "Poids de l'enfant : 19 kg."),
                medicines(
                    (
                        "Paracétamol 120 mg/5 mL, suspension buvable",
                        "12 mL toutes les 6 heures si douleur",
                        "5 jours",
                    ),
                    (
                        "Ibuprofène 100 mg/5 mL, suspension buvable",
                        "9,5 mL toutes les 8 heures, pendant le repas, si la douleur persiste",
                        "3 jours",
                    ),
                ),
            ),
        ),
        DemoDocument(
            Category.VACCINATION,
            "Certificat de vaccination",
            30,
            PEDIATRIE_FEYDER,
            FEYDER,
            (
                text(
                    "",
                    "Je soussignée certifie qu'Emma Schmit, née le {N}, a reçu les "
                    "vaccinations suivantes, conformément au programme national de "
                    "vaccination.",
                ),
                vaccines(
                    ("DTCa-Polio-Hib-Hépatite B (hexavalent)", "1re dose", "{N+2m}", "HX-1022"),
                    ("DTCa-Polio-Hib-Hépatite B (hexavalent)", "2e dose", "{N+4m}", "HX-1187"),
                    ("DTCa-Polio-Hib-Hépatite B (hexavalent)", "Rappel", "{N+11m}", "HX-1410"),
                    ("Pneumocoque, vaccin conjugué", "1re dose", "{N+2m}", "PN-7731"),
                    ("Pneumocoque, vaccin conjugué", "2e dose", "{N+4m}", "PN-7802"),
                    ("Pneumocoque, vaccin conjugué", "Rappel", "{N+11m}", "PN-8110"),
                    ("Rougeole-Oreillons-Rubéole (ROR)", "1re dose", "{N+12m}", "MMR-5521"),
                    ("Méningocoque C, vaccin conjugué", "Unique", "{N+13m}", "MC-2290"),
                    ("Rougeole-Oreillons-Rubéole (ROR)", "2e dose", "{N+16m}", "MMR-5684"),
                    ("DTCa-Polio (tétravalent)", "Rappel", "{N+72m}", "TP-3307"),
                ),
                text("", "Prochain rappel : dTca-Polio entre 15 et 16 ans."),
            ),
        ),
    ),
    ("Noah", "Schmit"): (
        DemoDocument(
            Category.LABORATORY,
            "Bilan allergologique — IgE spécifiques",
            400,
            LABO,
            HANSEN,
            (
                lab(
                    "Immunologie",
                    ("IgE totales", "310", "kUI/L", "< 200", "H"),
                    ("IgE spécifiques phléole (g6)", "28,4", "kUA/L", "< 0,35", "H"),
                    ("IgE spécifiques bouleau (t3)", "0,12", "kUA/L", "< 0,35", ""),
                    ("IgE spécifiques armoise (w6)", "0,05", "kUA/L", "< 0,35", ""),
                    ("IgE spécifiques D. pteronyssinus (d1)", "0,21", "kUA/L", "< 0,35", ""),
                    ("IgE spécifiques chat (e1)", "0,08", "kUA/L", "< 0,35", ""),
                ),
                text(
                    "Commentaire du biologiste",
                    "Sensibilisation aux pollens de graminées (classe 4). Pas de "
                    "sensibilisation aux acariens ni au chat.",
                ),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — rhinite allergique",
            60,
            PEDIATRIE_FEYDER,
            FEYDER,
            (
                medicines(
                    (
                        "Desloratadine 5 mg, comprimé",
                        "1 comprimé par jour",
                        "Saison pollinique",
                    ),
                    (
                        "Mométasone 50 µg/dose, suspension pour pulvérisation nasale",
                        "1 pulvérisation dans chaque narine, une fois par jour",
                        "Saison pollinique",
                    ),
                    (
                        "Cromoglicate de sodium 2 %, collyre",
                        "1 goutte dans chaque œil, 2 à 4 fois par jour si gêne",
                        "Saison pollinique",
                    ),
                ),
                text(
                    "",
                    "Commencer le traitement dès les premiers symptômes de la saison des "
                    "graminées. Une désensibilisation pourra être discutée en allergologie.",
                ),
            ),
        ),
        DemoDocument(
            Category.VACCINATION,
            "Certificat de vaccination — papillomavirus (HPV)",
            90,
            PEDIATRIE_FEYDER,
            FEYDER,
            (
                text(
                    "",
                    "Je soussignée certifie que Noah Schmit, né le {N}, a reçu le schéma "
                    "complet de vaccination contre les papillomavirus humains, recommandé "
                    "aux filles et aux garçons de 9 à 14 ans.",
                ),
                vaccines(
                    ("Papillomavirus humains, vaccin 9-valent", "1re dose", "{J-280}", "HPV-6620"),
                    ("Papillomavirus humains, vaccin 9-valent", "2e dose", "{J-90}", "HPV-6954"),
                ),
            ),
        ),
    ),
    ("Sophie", "Weber"): (
        DemoDocument(
            Category.LABORATORY,
            "Bilan sanguin annuel",
            190,
            LABO,
            HANSEN,
            (
                lab(
                    "Hématologie",
                    ("Hémoglobine", "13,4", "g/dL", "12,0 – 16,0", ""),
                    ("Leucocytes", "6,1", "G/L", "4,0 – 10,0", ""),
                    ("Plaquettes", "245", "G/L", "150 – 400", ""),
                ),
                lab(
                    "Biochimie",
                    ("Glycémie à jeun", "91", "mg/dL", "70 – 100", ""),
                    ("Cholestérol total", "201", "mg/dL", "< 190", "H"),
                    ("Cholestérol LDL (calculé)", "112", "mg/dL", "< 116", ""),
                    ("Ferritine", "64", "µg/L", "15 – 150", ""),
                    ("TSH", "1,9", "mUI/L", "0,27 – 4,20", ""),
                    ("25-OH vitamine D", "18", "ng/mL", "30 – 100", "B"),
                ),
            ),
        ),
        DemoDocument(
            Category.IMAGING,
            "Mammographie de dépistage",
            180,
            CHDN.at("Service d'imagerie médicale — Programme Mammographie"),
            HASTERT,
            (
                text(
                    "Indication",
                    "Dépistage organisé du cancer du sein (Programme Mammographie), "
                    "patiente de {age}, sans antécédent familial connu.",
                ),
                text("Technique", "Mammographie bilatérale, deux incidences par sein."),
                text(
                    "Résultat",
                    "Seins de densité de type B (densités fibroglandulaires éparses). Pas "
                    "d'opacité, pas de microcalcifications suspectes, pas de distorsion "
                    "architecturale. Pas d'adénopathie axillaire visible.",
                ),
                text(
                    "Conclusion",
                    "Examen normal, ACR 1 des deux côtés (première lecture ; seconde lecture "
                    "par le Programme Mammographie). Prochain dépistage dans deux ans.",
                ),
            ),
        ),
        DemoDocument(
            Category.HOSPITAL,
            "Consultation de psychiatrie",
            75,
            CHDN.at("Service de psychiatrie"),
            THOSS,
            (
                text(
                    "",
                    "Cher Confrère,",
                    "J'ai vu en consultation {patient}, {age}, que vous m'avez adressée pour "
                    "une humeur dépressive.",
                ),
                text(
                    "Histoire",
                    "Depuis environ trois mois, dans un contexte de surcharge professionnelle, "
                    "tristesse quasi permanente, perte d'intérêt, fatigue, réveils précoces et "
                    "difficultés de concentration. Appétit diminué, perte de 3 kg. Pas "
                    "d'antécédent psychiatrique personnel ; un épisode dépressif chez sa mère. "
                    "Pas de consommation d'alcool à risque.",
                ),
                text(
                    "Examen",
                    "Contact de bonne qualité, discours cohérent, ralentissement "
                    "psychomoteur modéré. Pas d'idées suicidaires, pas d'élément psychotique. "
                    "Score PHQ-9 : 16.",
                ),
                text(
                    "Conclusion",
                    "Épisode dépressif caractérisé d'intensité moyenne (CIM-10 F32.1).",
                ),
                text(
                    "Proposition",
                    "- Sertraline 25 mg pendant une semaine, puis 50 mg par jour.",
                    "- Psychothérapie de soutien ; arrêt de travail de quatre semaines.",
                    "- Nouvelle consultation dans quatre semaines, plus tôt si besoin.",
                    "Bien confraternellement.",
                ),
            ),
            VERY_RESTRICTED,
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — sertraline",
            75,
            CHDN.at("Service de psychiatrie"),
            THOSS,
            (
                medicines(
                    (
                        "Sertraline 50 mg, comprimé sécable",
                        "½ comprimé le matin pendant 7 jours, puis 1 comprimé le matin",
                        "3 mois",
                    ),
                ),
                text(
                    "",
                    "Ne pas arrêter brutalement le traitement. Reconsulter rapidement en cas "
                    "d'aggravation de l'humeur ou d'idées noires.",
                ),
            ),
            RESTRICTED,
        ),
    ),
    ("Léa", "Weber"): (
        DemoDocument(
            Category.VACCINATION,
            "Certificat de vaccination — rappel dTca-Polio et méningocoques ACWY",
            500,
            CABINET_KRIER,
            KRIER,
            (
                text(
                    "",
                    "Je soussigné certifie avoir vacciné Léa Weber, née le {N}.",
                ),
                vaccines(
                    ("dTca-Polio (rappel de l'adolescent)", "Rappel", "{J-500}", "BP-4471"),
                    ("Méningocoques ACWY, vaccin conjugué", "Unique", "{J-500}", "MW-2038"),
                ),
                text("", "Prochain rappel dTca : à 25 ans, puis tous les dix ans."),
            ),
        ),
        DemoDocument(
            Category.LABORATORY,
            "Hémogramme et bilan martial",
            35,
            LABO,
            HANSEN,
            (
                lab(
                    "Hématologie",
                    ("Hémoglobine", "11,2", "g/dL", "12,0 – 16,0", "B"),
                    ("Volume globulaire moyen", "76", "fL", "80 – 100", "B"),
                    ("Leucocytes", "6,8", "G/L", "4,0 – 10,0", ""),
                    ("Plaquettes", "312", "G/L", "150 – 400", ""),
                ),
                lab(
                    "Biochimie",
                    ("Ferritine", "8", "µg/L", "15 – 150", "B"),
                    ("Protéine C réactive (CRP)", "< 1", "mg/L", "< 5", ""),
                ),
                text(
                    "Commentaire du biologiste",
                    "Anémie microcytaire par carence martiale.",
                ),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — supplémentation en fer",
            30,
            CABINET_KRIER,
            KRIER,
            (
                medicines(
                    (
                        "Sulfate ferreux 80 mg de fer, comprimé",
                        "1 comprimé par jour, à jeun ou à distance des repas",
                        "3 mois",
                    ),
                ),
                text(
                    "",
                    "Éviter le thé et le café dans l'heure qui suit la prise. Les selles "
                    "peuvent être foncées. Contrôle de l'hémogramme et de la ferritine dans "
                    "trois mois.",
                ),
            ),
        ),
    ),
    ("Tiago", "Da Silva"): (
        DemoDocument(
            Category.HOSPITAL,
            "Lettre de sortie — pédiatrie",
            330,
            CHEM.at("Service de pédiatrie"),
            LANNERS,
            (
                text(
                    "",
                    "Chère Consœur,",
                    "Tiago, {age}, a été hospitalisé dans notre service du {J-333} au "
                    "{J-330} pour une bronchiolite aiguë à virus respiratoire syncytial.",
                ),
                text(
                    "À l'admission",
                    "Toux et rhinorrhée depuis trois jours, difficultés à boire les biberons. "
                    "Tirage intercostal, sibilants et crépitants diffus, SpO2 91 % en air "
                    "ambiant, fréquence respiratoire 52/min. Apyrétique. Test VRS positif.",
                ),
                text(
                    "Évolution",
                    "Oxygénothérapie aux lunettes (0,5 L/min) pendant 36 heures, "
                    "désobstruction rhinopharyngée, alimentation fractionnée. Pas de "
                    "nécessité de sonde gastrique. Évolution favorable ; à la sortie, "
                    "SpO2 97 % en air ambiant et biberons bien pris.",
                ),
                text(
                    "Conseils aux parents",
                    "Lavages de nez avant les repas, repas fractionnés, couchage sur le dos. "
                    "Reconsulter en cas de gêne respiratoire, de refus de boire ou de fièvre "
                    "mal tolérée. Contrôle chez son pédiatre dans 48 heures.",
                    "Bien confraternellement.",
                ),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — otite moyenne aiguë",
            150,
            PEDIATRIE_CARVALHO,
            CARVALHO,
            (
                text("", "Poids de l'enfant : 11,8 kg."),
                medicines(
                    (
                        "Amoxicilline 250 mg/5 mL, poudre pour suspension buvable",
                        "9,5 mL matin et soir",
                        "10 jours",
                    ),
                    (
                        "Paracétamol 120 mg/5 mL, suspension buvable",
                        "7,5 mL toutes les 6 heures si fièvre ou douleur",
                        "5 jours",
                    ),
                ),
            ),
        ),
        DemoDocument(
            Category.VACCINATION,
            "Certificat de vaccination",
            20,
            PEDIATRIE_CARVALHO,
            CARVALHO,
            (
                text(
                    "",
                    "Je soussignée certifie que Tiago Da Silva, né le {N}, a reçu les "
                    "vaccinations suivantes, conformément au programme national de "
                    "vaccination.",
                ),
                vaccines(
                    ("Rotavirus (voie orale)", "1re dose", "{N+2m}", "RV-4410"),
                    ("DTCa-Polio-Hib-Hépatite B (hexavalent)", "1re dose", "{N+2m}", "HX-2291"),
                    ("Pneumocoque, vaccin conjugué", "1re dose", "{N+2m}", "PN-9120"),
                    ("Rotavirus (voie orale)", "2e dose", "{N+3m}", "RV-4498"),
                    ("DTCa-Polio-Hib-Hépatite B (hexavalent)", "2e dose", "{N+4m}", "HX-2340"),
                    ("Pneumocoque, vaccin conjugué", "2e dose", "{N+4m}", "PN-9188"),
                    ("DTCa-Polio-Hib-Hépatite B (hexavalent)", "Rappel", "{N+11m}", "HX-2513"),
                    ("Pneumocoque, vaccin conjugué", "Rappel", "{N+11m}", "PN-9307"),
                    ("Rougeole-Oreillons-Rubéole (ROR)", "1re dose", "{N+12m}", "MMR-6021"),
                    ("Méningocoque C, vaccin conjugué", "Unique", "{N+13m}", "MC-3105"),
                    ("Rougeole-Oreillons-Rubéole (ROR)", "2e dose", "{N+16m}", "MMR-6177"),
                ),
                text("", "Prochain rappel : DTCa-Polio à 5-6 ans."),
            ),
        ),
    ),
    ("Jean", "Muller"): (
        DemoDocument(
            Category.HOSPITAL,
            "Compte rendu de coronarographie",
            400,
            INCCI,
            WOLTER,
            (
                text(
                    "Indication",
                    "{patient}, {age}, diabétique de type 2, hypertendu, présente un angor "
                    "d'effort depuis deux mois ; épreuve d'effort positive à 100 W.",
                ),
                text(
                    "Procédure",
                    "Voie radiale droite, introducteur 6 F. Héparine 5 000 UI.",
                    "- Tronc commun : sans lésion.",
                    "- Artère interventriculaire antérieure : sténose de 80 % du segment moyen.",
                    "- Artère circonflexe et coronaire droite : irrégularités sans sténose "
                    "significative.",
                    "Angioplastie de l'interventriculaire antérieure moyenne avec mise en place "
                    "d'un stent actif 3,0 x 22 mm. Bon résultat angiographique, flux TIMI 3. "
                    "Compression radiale, pas de complication.",
                ),
                text(
                    "Conclusion et traitement",
                    "Maladie coronarienne monotronculaire traitée par angioplastie et stent "
                    "actif. Double antiagrégation plaquettaire (acide acétylsalicylique 100 mg "
                    "et clopidogrel 75 mg) pendant six mois, puis acide acétylsalicylique seul. "
                    "Atorvastatine 40 mg (objectif LDL < 55 mg/dL). Réadaptation cardiaque "
                    "conseillée.",
                ),
            ),
        ),
        DemoDocument(
            Category.IMAGING,
            "Échographie abdominale",
            150,
            CHL.at("Service d'imagerie médicale"),
            MERSCH,
            (
                text("Indication", "Élévation modérée des transaminases chez un diabétique."),
                text(
                    "Résultat",
                    "Foie de taille normale, hyperéchogène de façon homogène, à contours "
                    "réguliers. Pas de lésion focale. Vésicule biliaire alithiasique. Voies "
                    "biliaires non dilatées. Pancréas partiellement masqué par les gaz. Rate "
                    "de 10 cm. Reins de taille normale, sans dilatation des cavités. Prostate "
                    "de 38 mL.",
                ),
                text("Conclusion", "Stéatose hépatique modérée. Pas d'autre anomalie."),
            ),
        ),
        DemoDocument(
            Category.VACCINATION,
            "Certificat de vaccination — grippe, COVID-19 et zona",
            110,
            CABINET_FLAMMANG,
            FLAMMANG,
            (
                text("", "Je soussigné certifie avoir vacciné {patient}, né le {N}."),
                vaccines(
                    ("Zona, vaccin recombinant adjuvé", "1re dose", "{J-500}", "ZR-1184"),
                    ("Zona, vaccin recombinant adjuvé", "2e dose", "{J-440}", "ZR-1257"),
                    ("COVID-19, vaccin ARNm adapté", "Rappel", "{J-112}", "CV-90331"),
                    (
                        "Grippe saisonnière, vaccin inactivé haute dose",
                        "Annuelle",
                        "{J-110}",
                        "HD-4380",
                    ),
                ),
            ),
        ),
        DemoDocument(
            Category.LABORATORY,
            "Suivi du diabète — HbA1c, bilan rénal et lipidique",
            25,
            LABO,
            HANSEN,
            (
                lab(
                    "Biochimie (à jeun)",
                    ("Glycémie à jeun", "142", "mg/dL", "70 – 100", "H"),
                    ("Hémoglobine glyquée (HbA1c)", "7,4", "%", "< 5,7", "H"),
                    ("Créatinine", "1,05", "mg/dL", "0,70 – 1,20", ""),
                    ("DFG estimé (CKD-EPI)", "71", "mL/min/1,73 m²", "> 60", ""),
                    ("Potassium", "4,4", "mmol/L", "3,5 – 5,1", ""),
                    ("Cholestérol LDL (calculé)", "61", "mg/dL", "< 55 (objectif)", "H"),
                    ("ALAT (GPT)", "48", "U/L", "< 41", "H"),
                ),
                lab(
                    "Urines",
                    ("Rapport albumine / créatinine", "45", "mg/g", "< 30", "H"),
                ),
                text(
                    "Commentaire du biologiste",
                    "HbA1c à 7,4 % (7,1 % au bilan précédent). Microalbuminurie.",
                ),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — traitement de fond",
            25,
            CABINET_FLAMMANG,
            FLAMMANG,
            (
                medicines(
                    (
                        "Metformine 1000 mg, comprimé",
                        "1 comprimé matin et soir, pendant le repas",
                        "3 mois",
                    ),
                    ("Empagliflozine 10 mg, comprimé", "1 comprimé le matin", "3 mois"),
                    ("Ramipril 5 mg, comprimé", "1 comprimé le matin", "3 mois"),
                    ("Atorvastatine 40 mg, comprimé", "1 comprimé le soir", "3 mois"),
                    (
                        "Acide acétylsalicylique 100 mg, comprimé",
                        "1 comprimé par jour, au repas de midi",
                        "3 mois",
                    ),
                ),
                text("", "Ordonnance renouvelable une fois."),
            ),
        ),
    ),
    ("Marie", "Hoffmann"): (
        DemoDocument(
            Category.LABORATORY,
            "Bilan phosphocalcique et vitamine D",
            220,
            LABO,
            HANSEN,
            (
                lab(
                    "Biochimie",
                    ("Calcium", "2,38", "mmol/L", "2,15 – 2,55", ""),
                    ("Phosphore", "1,10", "mmol/L", "0,81 – 1,45", ""),
                    ("25-OH vitamine D", "16", "ng/mL", "30 – 100", "B"),
                    ("Parathormone (PTH)", "72", "pg/mL", "15 – 65", "H"),
                    ("Créatinine", "0,78", "mg/dL", "0,50 – 0,90", ""),
                ),
                text(
                    "Commentaire du biologiste",
                    "Carence en vitamine D avec hyperparathyroïdie secondaire probable.",
                ),
            ),
        ),
        DemoDocument(
            Category.IMAGING,
            "Ostéodensitométrie (DXA)",
            215,
            CHL.at("Service d'imagerie médicale"),
            MERSCH,
            (
                text("Indication", "Femme ménopausée de {age}, carence en vitamine D."),
                Grid(
                    "Résultats",
                    ("Site", "DMO (g/cm²)", "T-score", "Z-score"),
                    (40, 20, 20, 20),
                    (
                        ("Rachis lombaire L1-L4", "0,912", "-2,1", "-0,9"),
                        ("Col du fémur gauche", "0,741", "-1,8", "-0,6"),
                        ("Hanche totale gauche", "0,835", "-1,3", "-0,4"),
                    ),
                ),
                text(
                    "Conclusion",
                    "Ostéopénie (T-score le plus bas : -2,1 au rachis lombaire). Contrôle "
                    "dans deux à trois ans, après correction de la carence en vitamine D.",
                ),
            ),
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — vitamine D",
            210,
            CABINET_REDING,
            REDING,
            (
                medicines(
                    (
                        "Cholécalciférol 25 000 UI, solution buvable en ampoule",
                        "1 ampoule par semaine pendant 8 semaines, puis 1 ampoule par mois",
                        "6 mois",
                    ),
                ),
                text(
                    "",
                    "Apports calciques par l'alimentation (trois produits laitiers par jour). "
                    "Marche ou activité physique régulière. Dosage de la vitamine D de "
                    "contrôle dans trois mois.",
                ),
            ),
        ),
        DemoDocument(
            Category.HOSPITAL,
            "Compte rendu de coloscopie",
            130,
            HRS.at("Service de gastro-entérologie"),
            ORIGER,
            (
                text(
                    "Indication",
                    "Test immunologique de recherche de sang dans les selles positif, dans le "
                    "cadre du Programme de dépistage organisé du cancer colorectal.",
                ),
                text(
                    "Déroulement",
                    "Sédation au propofol. Préparation colique bonne (score de Boston 8/9). "
                    "Coloscopie complète jusqu'au caecum, intubation de l'iléon terminal.",
                ),
                text(
                    "Constatations",
                    "- Polype sessile de 6 mm du côlon sigmoïde, réséqué à l'anse froide et "
                    "récupéré pour analyse.",
                    "- Quelques diverticules sigmoïdiens non compliqués.",
                    "- Reste de la muqueuse colique et iléale normal.",
                ),
                text(
                    "Conclusion",
                    "Polype sigmoïdien réséqué ; diverticulose sigmoïdienne. La date de la "
                    "prochaine coloscopie sera fixée selon le résultat anatomopathologique.",
                ),
            ),
        ),
        DemoDocument(
            Category.LABORATORY,
            "Examen anatomopathologique — polype sigmoïdien",
            123,
            LNS,
            LORANG,
            (
                text("Renseignements cliniques", "Polype sessile de 6 mm du côlon sigmoïde."),
                text(
                    "Macroscopie",
                    "Un fragment de 6 x 4 x 3 mm, inclus en totalité.",
                ),
                text(
                    "Microscopie",
                    "Prolifération de glandes tubulaires bordées d'un épithélium en dysplasie "
                    "de bas grade. Pas de dysplasie de haut grade, pas de carcinome. Marges "
                    "de résection saines.",
                ),
                text(
                    "Conclusion",
                    "Adénome tubulaire en dysplasie de bas grade, d'exérèse complète.",
                ),
            ),
        ),
    ),
    ("Luc", "Wagner"): (
        DemoDocument(
            Category.HOSPITAL,
            "Consultation — accident d'exposition au sang",
            120,
            CHL.at("Service national des maladies infectieuses"),
            BECKER,
            (
                text(
                    "Motif",
                    "{patient}, {age}, infirmier, s'est piqué ce jour au doigt avec une "
                    "aiguille creuse, après un prélèvement veineux chez un patient dont les "
                    "statuts sérologiques ne sont pas connus.",
                ),
                text(
                    "Évaluation",
                    "Blessure profonde, saignement spontané ; lavage et antisepsie réalisés "
                    "dans les minutes qui ont suivi. Vacciné contre l'hépatite B, répondeur "
                    "(anticorps anti-HBs à 142 UI/L). Risque de transmission jugé suffisant "
                    "pour un traitement post-exposition.",
                ),
                text(
                    "Conduite",
                    "- Traitement post-exposition pour 28 jours, débuté 2 heures après "
                    "l'exposition.",
                    "- Sérologies VIH, hépatite C et syphilis initiales ce jour ; contrôle à "
                    "6 semaines et à 3 mois.",
                    "- Déclaration d'accident du travail à l'Association d'assurance accident.",
                ),
            ),
            RESTRICTED,
        ),
        DemoDocument(
            Category.PRESCRIPTION,
            "Ordonnance — traitement post-exposition",
            120,
            CHL.at("Service national des maladies infectieuses"),
            BECKER,
            (
                medicines(
                    (
                        "Bictégravir / emtricitabine / ténofovir alafénamide 50/200/25 mg",
                        "1 comprimé par jour, à heure fixe",
                        "28 jours",
                    ),
                ),
                text("", "Délivrance par la pharmacie hospitalière."),
            ),
            RESTRICTED,
        ),
        DemoDocument(
            Category.LABORATORY,
            "Sérologies de contrôle à 3 mois — VIH, hépatites B et C",
            30,
            LABO,
            HANSEN,
            (
                lab(
                    "Sérologies",
                    ("VIH 1/2 (antigène p24 et anticorps)", "Négatif", "", "Négatif", ""),
                    ("Antigène HBs", "Négatif", "", "Négatif", ""),
                    ("Anticorps anti-HBs", "138", "UI/L", "> 10 (protecteur)", ""),
                    ("Anticorps anti-VHC", "Négatif", "", "Négatif", ""),
                    ("Syphilis (anticorps anti-tréponème)", "Négatif", "", "Négatif", ""),
                ),
                text(
                    "Commentaire du biologiste",
                    "Absence de séroconversion trois mois après l'exposition.",
                ),
            ),
            VERY_RESTRICTED,
        ),
    ),
}


# Loading.


@transaction.atomic
def load_demo_documents(people: list[InsuredPerson]) -> int:
    """Give the demo persons their documents, the missing ones only; returns how many
    were created. Deceased persons and closed records get none."""
    today = timezone.localdate()
    created = 0
    for person in people:
        documents = DOCUMENTS.get((person.first_name, person.last_name), ())
        if not documents or person.date_of_death is not None:
            continue
        record, _ = CareRecord.objects.get_or_create(person=person)
        if record.closed_at is not None:
            continue
        present = set(
            record.documents.filter(uploaded_by__isnull=True).values_list("title", flat=True)
        )
        for demo in documents:
            if demo.title in present:
                continue
            add_document(record, person, demo, today)
            created += 1
    return created


def add_document(
    record: CareRecord, person: InsuredPerson, demo: DemoDocument, today: datetime.date
) -> Document:
    day = today - datetime.timedelta(days=demo.days_ago)
    pdf = render_pdf(demo, person, day, today)
    stored_name = save_file(record.public_id, ContentFile(pdf, name="document.pdf"))
    return Document.objects.create(
        record=record,
        category=demo.category,
        title=demo.title,
        author=demo.author,
        document_date=day,
        stored_name=stored_name,
        content_type="application/pdf",
        size=len(pdf),
        # Received from the provider at the end of that day.
        added_at=datetime.datetime.combine(
            day, datetime.time(18, 0), tzinfo=timezone.get_current_timezone()
        ),
        uploaded_by=None,
        confidentiality=demo.confidentiality,
    )


# Placeholders.

PLACEHOLDER = re.compile(r"\{(patient|age|N|J-(\d+)|N\+(\d+)m)\}")


def fill(template: str, person: InsuredPerson, day: datetime.date, today: datetime.date) -> str:
    def replace(match: re.Match[str]) -> str:
        name, days, months = match.groups()
        if days is not None:
            return short_date(today - datetime.timedelta(days=int(days)))
        if months is not None:
            return short_date(add_months(person.birth_date, int(months)))
        if name == "N":
            return short_date(person.birth_date)
        if name == "age":
            return age_text(person, day)
        return patient_name(person, day)

    return PLACEHOLDER.sub(replace, template)


def short_date(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def add_months(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def age_text(person: InsuredPerson, day: datetime.date) -> str:
    """« 108 ans », « 6 ans », or in months before 2 years: « 13 mois »."""
    birth = person.birth_date
    months = (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)
    if months < 24:
        return f"{months} mois"
    years = person.age(on=day)
    return f"{years} ans"


def patient_name(person: InsuredPerson, day: datetime.date) -> str:
    if person.age(on=day) < 18:
        return person.full_name
    title = {"M": "M.", "F": "Mme"}.get(person.sex, "")
    return f"{title} {person.full_name}".strip()


# The PDF.

INK = HexColor("#222222")
GREY = HexColor("#5f6368")
RULE = HexColor("#9aa0a6")
SHADE = HexColor("#eef1f3")
MARK = HexColor("#b3261e")
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
FRAME_PADDING = 6  # platypus's default, inside the margins
LEFT = MARGIN + FRAME_PADDING
RIGHT = PAGE_WIDTH - LEFT
TEXT_WIDTH = RIGHT - LEFT


def style(name: str, size: float = 10, *, font: str = "Helvetica", **kwargs: Any) -> ParagraphStyle:
    kwargs.setdefault("textColor", INK)
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.3, **kwargs)


BODY = style("body", spaceAfter=4)
BULLET = style("bullet", leftIndent=5 * mm, bulletIndent=1 * mm, spaceAfter=2)
PROVIDER = style("provider", 12, font="Helvetica-Bold", spaceAfter=1)
SMALL = style("small", 9, textColor=GREY)
SMALL_BOLD = style("small-bold", 9, font="Helvetica-Bold")
PLACE_DATE = style("place-date", alignment=TA_RIGHT, spaceBefore=4, spaceAfter=10)
TITLE = style("title", 14, font="Helvetica-Bold", spaceAfter=8)
HEADING = style("heading", 10.5, font="Helvetica-Bold", spaceBefore=6, spaceAfter=3)
CELL = style("cell", 9)
CELL_BOLD = style("cell-bold", 9, font="Helvetica-Bold")
CELL_MARK = style("cell-mark", 9, font="Helvetica-Bold", textColor=MARK)
SIGNATURE = style("signature", leftIndent=100 * mm, spaceBefore=14, font="Helvetica-Bold")
SIGNATURE_ROLE = style("signature-role", 9, leftIndent=100 * mm, textColor=GREY)


def render_pdf(
    demo: DemoDocument, person: InsuredPerson, day: datetime.date, today: datetime.date
) -> bytes:
    """The document as an A4 PDF, one or two pages."""
    output = io.BytesIO()
    pdf = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=22 * mm,
        title=demo.title,
        author=demo.author,
        subject=f"{demo.title} — {person.full_name}",
        creator="Données de démonstration",
    )
    with translation.override("fr"), binary_streams():
        story = [
            *header(demo, person),
            Paragraph(para(f"{demo.provider.locality}, le {french_date(day)}"), PLACE_DATE),
            Paragraph(para(demo.title), TITLE),
        ]
        for block in demo.blocks:
            story.extend(draw_block(block, person, day, today))
        story.append(
            KeepTogether(
                [
                    Paragraph(para(demo.signatory.name), SIGNATURE),
                    Paragraph(para(demo.signatory.role), SIGNATURE_ROLE),
                ]
            )
        )

        def footer(canvas: Canvas, document: Any) -> None:
            draw_footer(canvas, demo.provider, canvas.getPageNumber())

        pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return output.getvalue()


def para(value: str) -> str:
    """Plain text for a Paragraph, whose text is a mini-markup."""
    return html.escape(value, quote=False)


def header(demo: DemoDocument, person: InsuredPerson) -> list[Flowable]:
    provider = demo.provider
    left: list[Flowable] = [Paragraph(para(provider.name), PROVIDER)]
    if provider.service:
        left.append(Paragraph(para(provider.service), SMALL_BOLD))
    left.extend(Paragraph(para(line), SMALL) for line in provider.address)
    born = {"M": "Né le", "F": "Née le"}.get(person.sex, "Date de naissance :")
    right: list[Flowable] = [
        Paragraph("Patient", SMALL),
        Paragraph(para(person.full_name), SMALL_BOLD),
        Paragraph(para(f"{born} {short_date(person.birth_date)}"), SMALL),
        *(Paragraph(para(line), SMALL) for line in person.postal_lines),
    ]
    table = Table(
        [[left, right]],
        colWidths=[TEXT_WIDTH - 68 * mm, 68 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("BACKGROUND", (1, 0), (1, 0), SHADE),
                ("LEFTPADDING", (1, 0), (1, 0), 3 * mm),
                ("TOPPADDING", (1, 0), (1, 0), 2 * mm),
                ("BOTTOMPADDING", (1, 0), (1, 0), 2 * mm),
            ]
        ),
    )
    return [table, Spacer(1, 4 * mm), HRFlowable(width="100%", thickness=0.6, color=RULE)]


def draw_block(
    block: Block, person: InsuredPerson, day: datetime.date, today: datetime.date
) -> list[Flowable]:
    def filled(value: str) -> str:
        return para(fill(value, person, day, today))

    flowables: list[Flowable] = []
    if block.heading:
        flowables.append(Paragraph(filled(block.heading), HEADING))
    if isinstance(block, Text):
        for paragraph in block.paragraphs:
            if paragraph.startswith("- "):
                flowables.append(Paragraph(filled(paragraph[2:]), BULLET, bulletText="•"))
            else:
                flowables.append(Paragraph(filled(paragraph), BODY))
        return flowables
    rows: list[list[Paragraph]] = [[Paragraph(filled(name), CELL_BOLD) for name in block.columns]]
    for row in block.rows:
        out_of_range = block.flagged and bool(row[-1])
        rows.append(
            [
                Paragraph(
                    filled(cell),
                    CELL_MARK if out_of_range and column in (1, len(row) - 1) else CELL,
                )
                for column, cell in enumerate(row)
            ]
        )
    total = sum(block.widths)
    table = Table(
        rows,
        colWidths=[TEXT_WIDTH * width / total for width in block.widths],
        repeatRows=1,
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        ),
    )
    flowables.extend([table, Spacer(1, 3 * mm)])
    return flowables


def draw_footer(canvas: Canvas, provider: Provider, page: int) -> None:
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.line(LEFT, 15 * mm, RIGHT, 15 * mm)
    canvas.setFont("Helvetica", 7.5)
    canvas.setFillColor(GREY)
    canvas.drawString(LEFT, 11 * mm, f"{provider.name} — {', '.join(provider.address)}")
    canvas.drawRightString(RIGHT, 7.5 * mm, f"Page {page}")
    canvas.drawString(LEFT, 7.5 * mm, "Document fictif — données de démonstration")
    canvas.restoreState()
