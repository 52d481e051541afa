"""Demo data: about twenty insured persons, families with minors, and their letters.

Loaded by `make run` (`esante load-demo`). Idempotent: a person is recognised by name,
so a second run — even on a later day, when ages relative to today give other birth
dates — keeps who is there and only issues letters that are missing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from esante.demo.documents import load_demo_documents, open_demo_records_to_professionals
from esante.demo.professionals import load_demo_professionals
from esante.records.actions import open_records
from esante.registry import matricule
from esante.registry.actions import create_person
from esante.registry.letters import issue_letters, persons_needing_letters
from esante.registry.models import InsuredPerson


@dataclass(frozen=True)
class DemoPerson:
    first_name: str
    last_name: str
    birth: datetime.date | int  # a date, or an age in days before today's date
    sex: str
    address: tuple[str, str, str]  # line 1, postal code, locality
    serial: int = 101
    matricule: str = ""  # fixed when the guide prints one
    esante_id: str = ""
    date_of_death: datetime.date | None = None


def _years(years: int, plus_days: int = 0) -> int:
    """An age in days: `years` years and `plus_days` days (approximately, for demo)."""
    return round(years * 365.2425) + plus_days


SCHMIT = ("14, rue de Hollerich", "L-1741", "Luxembourg")
WEBER = ("3, Grand-Rue", "L-9051", "Ettelbruck")
DA_SILVA = ("27, rue de l'Alzette", "L-4011", "Esch-sur-Alzette")

PEOPLE: tuple[DemoPerson, ...] = (
    # The Schmit family: two parents and two children.
    DemoPerson("Marc", "Schmit", datetime.date(1980, 6, 14), "M", SCHMIT),
    DemoPerson("Claire", "Schmit-Hoffmann", datetime.date(1982, 2, 3), "F", SCHMIT),
    DemoPerson("Emma", "Schmit", _years(6, 40), "F", SCHMIT),
    DemoPerson("Noah", "Schmit", _years(12, 100), "M", SCHMIT),
    # The Weber family: Léa turns 18 within 30 days.
    DemoPerson("Sophie", "Weber", datetime.date(1975, 9, 22), "F", WEBER),
    DemoPerson("Paul", "Weber", datetime.date(1973, 11, 5), "M", WEBER),
    DemoPerson("Léa", "Weber", _years(18) - 20, "F", WEBER),
    # The Da Silva family: a toddler.
    DemoPerson("Ana", "Da Silva", datetime.date(1988, 4, 30), "F", DA_SILVA),
    DemoPerson("Tiago", "Da Silva", _years(2, 15), "M", DA_SILVA),
    # The guide's own examples (pp. 15-16).
    DemoPerson(
        "Hector",
        "Doe-Rita",
        datetime.date(1918, 3, 15),
        "M",
        ("8, avenue Monterey", "L-2163", "Luxembourg"),
    ),
    DemoPerson(
        "Daniel",
        "Filat",
        datetime.date(1918, 9, 1),
        "M",
        ("8, avenue Monterey", "L-2163", "Luxembourg"),
        matricule="1918090138700",
        esante_id="6393913168",
    ),
    # Adults living alone.
    DemoPerson(
        "Jean",
        "Muller",
        datetime.date(1950, 1, 19),
        "M",
        ("5, rue du Moulin", "L-6914", "Roodt-sur-Syre"),
    ),
    DemoPerson(
        "Marie",
        "Hoffmann",
        datetime.date(1962, 7, 8),
        "F",
        ("41, route d'Arlon", "L-8009", "Strassen"),
    ),
    DemoPerson(
        "Luc",
        "Wagner",
        datetime.date(1991, 12, 1),
        "M",
        ("2, place Guillaume II", "L-1648", "Luxembourg"),
    ),
    DemoPerson(
        "Nathalie",
        "Klein",
        datetime.date(1969, 5, 27),
        "F",
        ("18, rue de la Paix", "L-7244", "Bereldange"),
    ),
    DemoPerson(
        "Tom",
        "Reuter",
        datetime.date(2000, 10, 10),
        "M",
        ("9, rue Principale", "L-5240", "Sandweiler"),
    ),
    DemoPerson(
        "Isabelle",
        "Thill",
        datetime.date(1958, 3, 2),
        "F",
        ("66, boulevard Royal", "L-2449", "Luxembourg"),
    ),
    DemoPerson(
        "Fatima",
        "Benali",
        datetime.date(1985, 8, 16),
        "F",
        ("12, rue Dicks", "L-4081", "Esch-sur-Alzette"),
    ),
    DemoPerson(
        "Yves", "Lentz", datetime.date(1998, 2, 11), "M", ("7, rue de Diekirch", "L-9530", "Wiltz")
    ),
    # Born in 1945, month and day unknown: his matricule reads 19450000…
    DemoPerson(
        "Georges",
        "Kieffer",
        datetime.date(1945, 1, 1),
        "M",
        ("4, Um Bierg", "L-6868", "Wecker"),
        matricule="19450000123" + matricule.check_digits("19450000123"),
    ),
    # Deceased: in the registry, never sent a letter.
    DemoPerson(
        "Roger",
        "Meyer",
        datetime.date(1940, 4, 4),
        "M",
        ("1, rue de l'Église", "L-6720", "Grevenmacher"),
        date_of_death=datetime.date(2025, 12, 2),
    ),
)


def birth_date_of(person: DemoPerson, today: datetime.date) -> datetime.date:
    if isinstance(person.birth, datetime.date):
        return person.birth
    return today - datetime.timedelta(days=person.birth)


def matricule_of(person: DemoPerson, birth: datetime.date) -> str:
    if person.matricule:
        return person.matricule
    return matricule.make(birth, person.serial)


@transaction.atomic
def load_demo_people() -> list[InsuredPerson]:
    """Create the demo persons that are missing; returns all of them, in list order."""
    today = timezone.localdate()
    people = []
    for demo in PEOPLE:
        existing = InsuredPerson.objects.filter(
            first_name=demo.first_name, last_name=demo.last_name
        ).first()
        if existing is not None:
            people.append(existing)
            continue
        birth = birth_date_of(demo, today)
        line1, postal_code, locality = demo.address
        person = create_person(
            matricule=matricule_of(demo, birth),
            first_name=demo.first_name,
            last_name=demo.last_name,
            birth_date=birth,
            sex=demo.sex,
            address_line1=line1,
            postal_code=postal_code,
            locality=locality,
            date_of_death=demo.date_of_death,
            esante_id=demo.esante_id,
        )
        people.append(person)
    return people


def load_demo() -> tuple[list[InsuredPerson], int]:
    """The demo people, and how many letters this run issued for those who had none.

    Several of them also get their DSP with documents from care providers (the missing
    ones: esante.demo.documents), whose authors are demo health professionals
    (esante.demo.professionals)."""
    load_demo_professionals()  # the documents' authors among them
    people = load_demo_people()
    missing = persons_needing_letters().filter(pk__in=[person.pk for person in people])
    count = missing.count()
    if count:
        issue_letters(missing, actor="command:load-demo")  # their DSPs open with them
    # And those of a demo loaded before the opt-out, whose letters opened none.
    living = [person.pk for person in people if person.date_of_death is None]
    open_records(living, at=timezone.now())
    load_demo_documents(people)
    open_demo_records_to_professionals(people)
    return people, count
