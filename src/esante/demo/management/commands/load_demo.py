from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import ngettext

from esante.commands import BaseCommand
from esante.demo.persons import load_demo
from esante.demo.staff import DEMO_PASSWORD, load_demo_staff
from esante.professionals.models import Professional


class Command(BaseCommand):
    help = "Charge les personnes de démonstration et émet leurs courriers (mode démo seulement)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.ESANTE_DEMO:
            raise CommandError("Les données de démonstration exigent ESANTE_DEMO=1.")
        people, letters = load_demo()
        self.stdout.write(
            ngettext(
                "%(people)d personnes de démonstration, %(count)d courrier émis.",
                "%(people)d personnes de démonstration, %(count)d courriers émis.",
                letters,
            )
            % {"people": len(people), "count": letters}
        )
        self.stdout.write(demo_table(people))
        self.stdout.write(
            f"{Professional.objects.count()} professionnels de santé de démonstration "
            "(esante.demo.professionals)."
        )
        self.stdout.write(
            f"Helpdesk (/helpdesk/), mot de passe « {DEMO_PASSWORD} », code de l'application "
            "d'authentification avec la clé :"
        )
        for staff in load_demo_staff():
            self.stdout.write(f"  {staff.username} ({staff.role}) : {staff.secret}")


def demo_table(people: list[Any]) -> str:
    rows = [("Nom", "Matricule", "Âge")]
    for person in people:
        age = f"{person.age()} ans" + (" (décédé)" if person.date_of_death else "")
        rows.append((person.full_name, person.matricule, age))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
