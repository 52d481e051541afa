"""Every change of the professionals' register: an upsert by national code."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.csv_import import ImportResult
from esante.professionals.models import Profession, Professional

DEFAULT_COUNTRY = "LU"
# Rows per INSERT statement (13 columns: within SQLite's limit of variables).
WRITE_BATCH = 500


@dataclass(frozen=True)
class ProfessionalRow:
    """One professional as a source (the CNS's file, the demo) states them."""

    national_code: str
    last_name: str
    first_name: str
    profession: Profession
    address_line1: str
    postal_code: str
    locality: str
    specialty: str = ""
    practice_name: str = ""
    address_line2: str = ""
    country: str = DEFAULT_COUNTRY
    is_active: bool = True


# What a source may change on a known professional: every field but the code.
FIELDS = tuple(
    field.name for field in dataclasses.fields(ProfessionalRow) if field.name != "national_code"
)


def merge_professionals(
    rows: Sequence[ProfessionalRow], result: ImportResult, *, fields: Sequence[str] = FIELDS
) -> None:
    """Create the new professionals among `rows` and update the known ones where one of
    `fields` differs (the others keep their stored values), adding to `result`'s counts.
    Never deletes. The caller holds the transaction and writes the audit event."""
    stored = Professional.objects.in_bulk(
        [row.national_code for row in rows], field_name="national_code"
    )
    written: list[Professional] = []
    for row in rows:
        values = dataclasses.asdict(row)
        known = stored.get(row.national_code)
        if known is None:
            result.created += 1
        elif any(getattr(known, name) != values[name] for name in fields):
            # The fields the source leaves out keep the stored values.
            values.update({name: getattr(known, name) for name in FIELDS if name not in fields})
            result.updated += 1
        else:
            result.unchanged += 1
            continue
        written.append(Professional(**values))
    # One INSERT ... ON CONFLICT (national_code) DO UPDATE per batch for the new and the
    # changed alike (Django's bulk_update, a CASE per column and row, took eight times
    # as long for 10,000 changed rows on SQLite); created_at stays the first import's.
    # A professional created meanwhile by another import merely turns an insert into an
    # update.
    Professional.objects.bulk_create(
        written,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["national_code"],
        update_fields=[*fields, "updated_at"],
    )


def register_professionals(
    rows: Sequence[ProfessionalRow], *, actor: str, source: str
) -> ImportResult:
    """Upsert `rows` (all fields) in one transaction, with one audit event of the counts
    when it changed something: how a source other than a file (the demo, at each start)
    fills the register. A file's import audits every run, an unchanged one too."""
    result = ImportResult(file_name=source)
    with transaction.atomic():
        merge_professionals(rows, result)
        if result.created or result.updated:
            audit_import(result, actor=actor)
    return result


def audit_import(result: ImportResult, *, actor: str) -> None:
    record_event(EventType.PROFESSIONALS_IMPORTED, actor=actor, **result.audit_details())
