"""Demo health professionals: the authors of the demo documents, and a few others.

Every author of a document of documents.toml is a professional here: each physician who
signs a report, prescription or image (by the signatory's name, « Dr Paul Reding »), and
each laboratory whose name signs its results. Their practice and its address are those
of the provider the documents come from. A pharmacist, a nurse, a physiotherapist and a
midwife complete the professions. The national codes are invented, of the form the
platform accepts (esante/professionals/national_code.py).

Loaded by `esante load-demo` with the demo persons; idempotent: an upsert by national
code, so a second run changes nothing (and writes no audit event).
"""

from __future__ import annotations

from dataclasses import dataclass

from esante.csv_import import ImportResult
from esante.demo.documents import PROVIDERS, SIGNATORIES
from esante.professionals.actions import ProfessionalRow, register_professionals
from esante.professionals.models import Profession

ACTOR = "command:load-demo"


@dataclass(frozen=True)
class Author:
    """A physician who signs demo documents, by documents.toml's keys."""

    signatory: str
    national_code: str
    specialty: str
    provider: str  # where they practise
    service: str = ""


AUTHORS = (
    Author("REDING", "10381524", "Médecine générale", "CABINET_REDING"),
    Author("FLAMMANG", "10472093", "Médecine générale", "CABINET_FLAMMANG"),
    Author("KRIER", "10529361", "Médecine générale", "CABINET_KRIER"),
    Author("FEYDER", "11208746", "Pédiatrie", "PEDIATRIE_FEYDER"),
    Author("CARVALHO", "11317852", "Pédiatrie", "PEDIATRIE_CARVALHO"),
    Author("SCHROEDER", "11426078", "Pédiatrie", "CHL", "Kannerklinik — Urgences pédiatriques"),
    Author("LANNERS", "11534190", "Pédiatrie", "CHEM", "Service de pédiatrie"),
    Author("KREMER", "12063518", "Gériatrie", "CHL", "Service de gériatrie"),
    Author("WOLTER", "12174629", "Cardiologie", "CHL", "Service de cardiologie"),
    Author("MERSCH", "12285730", "Radiologie", "CHL", "Service d'imagerie médicale"),
    Author("BETTENDORF", "12396841", "Radiologie", "HRS", "Service de radiologie"),
    Author(
        "HASTERT",
        "12407952",
        "Radiologie",
        "CHDN",
        "Service d'imagerie médicale — Programme Mammographie",
    ),
    Author(
        "FABER", "12518063", "Chirurgie orthopédique", "HRS", "Service de chirurgie orthopédique"
    ),
    Author("ORIGER", "12629174", "Gastro-entérologie", "HRS", "Service de gastro-entérologie"),
    Author("THOSS", "12730285", "Psychiatrie", "CHDN", "Service de psychiatrie"),
    Author(
        "BECKER",
        "12841396",
        "Maladies infectieuses",
        "CHL",
        "Service national des maladies infectieuses",
    ),
)

# The laboratories that sign their results under their own name: provider key, code.
LABORATORIES = (("LABO", "90164827"), ("LNS", "90275938"))

OTHERS = (
    ProfessionalRow(
        national_code="70481263",
        last_name="Thill",
        first_name="Martine",
        profession=Profession.PHARMACIST,
        practice_name="Pharmacie de la Gare",
        address_line1="41, avenue de la Gare",
        postal_code="L-1611",
        locality="Luxembourg",
    ),
    ProfessionalRow(
        national_code="60592374",
        last_name="Goergen",
        first_name="Luc",
        profession=Profession.NURSE,
        specialty="Soins à domicile",
        address_line1="8, rue du Canal",
        postal_code="L-4050",
        locality="Esch-sur-Alzette",
    ),
    ProfessionalRow(
        national_code="50613485",
        last_name="Weis",
        first_name="Carole",
        profession=Profession.PHYSIOTHERAPIST,
        practice_name="Kiné Ettelbruck",
        address_line1="22, Grand-Rue",
        postal_code="L-9050",
        locality="Ettelbruck",
    ),
    ProfessionalRow(
        national_code="40724596",
        last_name="Schiltz",
        first_name="Anne",
        profession=Profession.MIDWIFE,
        address_line1="5, rue de la Montagne",
        postal_code="L-6470",
        locality="Echternach",
    ),
)


@dataclass(frozen=True)
class Practice:
    name: str
    street: str
    postal_code: str
    locality: str


def _practice(provider_key: str, service: str = "") -> Practice:
    """Where a provider of documents.toml is: its name (with the service), its address."""
    provider = PROVIDERS[provider_key]
    street, place = provider.address
    postal_code, locality = place.split(" ", 1)
    name = f"{provider.name} — {service}" if service else provider.name
    return Practice(name, street, postal_code, locality)


def _author_row(author: Author) -> ProfessionalRow:
    # « Dr Paul Reding »: the title, the first name, then the last name.
    first_name, last_name = SIGNATORIES[author.signatory].name.removeprefix("Dr ").split(" ", 1)
    practice = _practice(author.provider, author.service)
    return ProfessionalRow(
        national_code=author.national_code,
        last_name=last_name,
        first_name=first_name,
        profession=Profession.PHYSICIAN,
        specialty=author.specialty,
        practice_name=practice.name,
        address_line1=practice.street,
        postal_code=practice.postal_code,
        locality=practice.locality,
    )


def _laboratory_row(provider_key: str, national_code: str) -> ProfessionalRow:
    # A laboratory is listed under its name alone, the name its results are signed with.
    practice = _practice(provider_key)
    return ProfessionalRow(
        national_code=national_code,
        last_name=practice.name,
        first_name="",
        profession=Profession.LABORATORY,
        address_line1=practice.street,
        postal_code=practice.postal_code,
        locality=practice.locality,
    )


def demo_professionals() -> tuple[ProfessionalRow, ...]:
    return (
        *(_author_row(author) for author in AUTHORS),
        *(_laboratory_row(key, code) for key, code in LABORATORIES),
        *OTHERS,
    )


def load_demo_professionals() -> ImportResult:
    """Register the demo professionals; what changed (nothing on a second run)."""
    return register_professionals(demo_professionals(), actor=ACTOR, source="démo")
