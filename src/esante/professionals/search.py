"""Finding a professional in the register by name and locality, as a patient types them
(*Mes professionnels*, « Ajouter un professionnel »): accents, case and hyphens aside,
every word of the name found in the professional's first and last names, the locality
in theirs. Only active professionals are found.

The names are folded in Python (`folded`), not in SQL: SQLite and PostgreSQL fold
accents differently (PostgreSQL needs its `unaccent` extension), and the register is a
few thousand rows, of which only four short columns are read.
"""

from __future__ import annotations

from esante.professionals.models import PHYSICIANS, Professional, folded

MAX_RESULTS = 20


def name_words(name: str) -> list[str]:
    """The words of a typed name, folded; empty when nothing searchable is left."""
    return [word for word in folded(name).split("-") if word]


def find_professionals(
    name: str, locality: str = "", *, physicians_only: bool = False, limit: int = MAX_RESULTS
) -> tuple[list[Professional], bool]:
    """The first `limit` matches by last then first name, and whether there were more."""
    words = name_words(name)
    place = folded(locality)
    if not words:
        return [], False
    candidates = Professional.objects.filter(is_active=True)
    if physicians_only:
        candidates = candidates.filter(profession__in=PHYSICIANS)
    matches = []
    for pk, first_name, last_name, town in candidates.values_list(
        "pk", "first_name", "last_name", "locality"
    ).iterator():
        full_name = folded(f"{first_name} {last_name}")
        if all(word in full_name for word in words) and (not place or place in folded(town)):
            matches.append((folded(last_name), folded(first_name), pk))
    matches.sort()
    chosen = [pk for _last, _first, pk in matches[:limit]]
    found = Professional.objects.in_bulk(chosen)
    return [found[pk] for pk in chosen], len(matches) > limit
