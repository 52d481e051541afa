"""Health professionals for the patient's side of *Mes professionnels*: *paul* the
physician in Luxembourg, *sophie* the nurse in Esch-sur-Alzette (her name with an umlaut,
her town with hyphens), and a physician who left the register (inactive)."""

from __future__ import annotations

import itertools
from typing import Any

from django.test import Client
from django.urls import reverse

from esante.professionals.models import Profession, Professional
from esante.records.models import CareRecord

_codes = itertools.count(20_000_000)


def make_professional(
    first_name: str = "Paul",
    last_name: str = "Reding",
    profession: Profession = Profession.PHYSICIAN,
    locality: str = "Luxembourg",
    **fields: Any,
) -> Professional:
    values: dict[str, Any] = {
        "national_code": str(next(_codes)),
        "first_name": first_name,
        "last_name": last_name,
        "profession": profession,
        "specialty": "Médecine générale" if profession == Profession.PHYSICIAN else "",
        "practice_name": f"Cabinet {last_name}",
        "address_line1": "12, rue de Strasbourg",
        "postal_code": "L-2560",
        "locality": locality,
        **fields,
    }
    return Professional.objects.create(**values)


def make_paul() -> Professional:
    return make_professional()


def make_sophie() -> Professional:
    return make_professional(
        "Sophie", "Müller", Profession.NURSE, "Esch-sur-Alzette", postal_code="L-4002"
    )


def record_of(person: Any) -> CareRecord:
    return CareRecord.objects.get(person=person)


def url(name: str, record: CareRecord, *args: Any) -> str:
    return reverse(f"records:{name}", args=[record.public_id, *args])


def grant(client: Client, record: CareRecord, professional: Professional) -> Any:
    return client.post(url("professional_grant", record, professional.pk))
