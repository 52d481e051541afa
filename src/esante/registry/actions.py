"""State changes of the registry's people. Letters have theirs in letters.py."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

from esante.registry import matricule as matricule_rules
from esante.registry.identifiers import new_esante_id
from esante.registry.models import InsuredPerson

ID_ATTEMPTS = 5


def create_person(
    *,
    matricule: str,
    first_name: str,
    last_name: str,
    birth_date: datetime.date | None = None,
    address_line1: str,
    postal_code: str,
    locality: str,
    esante_id: str = "",
    **fields: object,
) -> InsuredPerson:
    """One person with a fresh public identifier, unless one is given (the bulk import
    has its own path)."""
    number = matricule_rules.validate(matricule)
    # validate() refused every number that encodes no date.
    birth_date = birth_date or matricule_rules.birth_date_of(number) or datetime.date.min
    for attempt in range(ID_ATTEMPTS):
        try:
            with transaction.atomic():
                return InsuredPerson.objects.create(
                    matricule=number,
                    esante_id=esante_id or new_esante_id(),
                    first_name=first_name,
                    last_name=last_name,
                    birth_date=birth_date,
                    address_line1=address_line1,
                    postal_code=postal_code,
                    locality=locality,
                    **fields,
                )
        except IntegrityError:
            # A clash of the random public identifier: draw again. A clash of the
            # matricule raises again on every attempt and ends up re-raised below.
            if (
                attempt == ID_ATTEMPTS - 1
                or InsuredPerson.objects.filter(matricule=number).exists()
            ):
                raise
    raise RuntimeError("unreachable: the last attempt re-raises")
