"""Import of the CNS's list of providers into the professionals' register
(`esante import-professionals`).

The file is a CSV file read by the rules every import shares (esante/csv_import.py):
UTF-8 (a byte-order mark is accepted), a header row, then one professional per row. The
delimiter is `,`; a header line holding more `;` than `,` switches it to `;`. Header
names are matched without regard to case or surrounding spaces, in any order.

| column          | required | content                                                     |
|-----------------|----------|-------------------------------------------------------------|
| `national_code` | yes      | the CNS's provider code (code prestataire, code médecin):   |
|                 |          | 6 to 10 digits; spaces, dots, dashes and slashes tolerated  |
|                 |          | (see below: no check digit is published, none is checked)   |
| `last_name`     | yes      | not empty, at most 100 characters; a laboratory's name      |
| `first_name`    | yes      | at most 100 characters; empty only for a laboratory         |
| `profession`    | yes      | `medecin`, `medecin-dentiste`, `pharmacien`, `laboratoire`, |
|                 |          | `infirmier`, `sage-femme`, `kinesitherapeute`,              |
|                 |          | `psychotherapeute`, `orthophoniste`, `ergotherapeute`,      |
|                 |          | `dieteticien`, `psychomotricien`, `orthoptiste`; or its     |
|                 |          | French name (« Médecin-dentiste »), in any case, with or    |
|                 |          | without accents                                             |
| `specialty`     | no       | free text, at most 100 characters (« Cardiologie »)         |
| `practice_name` | no       | at most 200 characters (« Cabinet médical de la Syre »)     |
| `address_line1` | yes      | the practice's address: not empty, at most 200 characters   |
| `address_line2` | no       | at most 200 characters                                      |
| `postal_code`   | yes      | not empty, at most 16 characters                            |
| `locality`      | yes      | not empty, at most 100 characters                           |
| `country`       | no       | ISO 3166 two-letter code; empty: `LU`                       |
| `active`        | no       | `1`, `oui`, `true` (active) or `0`, `non`, `false`          |
|                 |          | (inactive), any case; empty: active                         |

The national code: the CNS publishes that it assigns one to every provider, not its
structure nor any check digit (esante/professionals/national_code.py says where we
looked). The 6 to 10 digits are the platform's own assumption, to catch a shifted column
or an empty cell; no check digit is computed, none is invented.

A required column missing from the header refuses the whole file. An optional column
missing from the header is left as it is on professionals already in the register, and
takes its default on new ones. Unknown columns are ignored (and reported). Values are
stripped of surrounding spaces; a value holding a control character (a tab, a line
break, NUL...) is refused. Each line of the file is one record (a value cannot hold a
line break; a quote left open costs its own line only); blank lines are skipped.

A professional is identified by the national code. A new one is created; a known one is
updated only where a value differs, so importing the same file twice changes nothing the
second time. A professional marked inactive becomes inactive; nobody is ever deleted,
and a professional absent from the file is left as they are (the file may be a part of
the list). A bad row (wrong code, unknown profession, empty name, over-long value, a code
already seen earlier in the file, a line that is not valid CSV...) is reported with its
line number and reason and skipped; the good rows land. A file that cannot be read as a
whole (missing, not UTF-8, header without a required column) changes nothing: the import
runs in one transaction, which also writes one audit event with the counts. Every data
line must come out created, updated, unchanged or rejected; if the counts do not add up,
the whole import is undone.

Speed: about 10,000 professionals nationally; rows are checked in Python and written by
chunks through the ORM (one query to read a chunk's known professionals, then bulk
inserts and updates).
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from esante.csv_import import (
    Header,
    ImportResult,
    Progress,
    RowRefused,
    country_value,
    max_length_of,
    open_csv,
    text_value,
)
from esante.professionals import national_code
from esante.professionals.actions import (
    DEFAULT_COUNTRY,
    ProfessionalRow,
    audit_import,
    merge_professionals,
)
from esante.professionals.models import Profession, Professional

CHUNK_SIZE = 2_000
ACTOR = "command:import-professionals"

REQUIRED_COLUMNS = (
    "national_code",
    "last_name",
    "first_name",
    "profession",
    "address_line1",
    "postal_code",
    "locality",
)
OPTIONAL_COLUMNS = ("specialty", "practice_name", "address_line2", "country", "active")
FILE_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
TEXT_COLUMNS = (
    "last_name",
    "first_name",
    "specialty",
    "practice_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "locality",
)
# The file's columns that are not the model's field of the same name.
FIELD_OF_COLUMN = {"active": "is_active"}
_NOT_EMPTY = frozenset(("last_name", "address_line1", "postal_code", "locality"))
_ACTIVE = {"": True, "1": True, "oui": True, "true": True, "0": False, "non": False, "false": False}


def import_professionals(
    path: Path,
    *,
    actor: str = ACTOR,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the file at `path` (see the module docstring); raise ImportFileError when
    the file as a whole cannot be imported."""
    result = ImportResult(file_name=path.name)
    with open_csv(path, columns=FILE_COLUMNS, progress=progress) as file:
        parser = _RowParser(file.header)
        result.ignored_columns = parser.header.ignored_columns
        with transaction.atomic():
            file.import_rows(
                parser.parse,
                lambda rows: merge_professionals(rows, result, fields=parser.update_fields),
                result,
                chunk_size=chunk_size,
            )
            audit_import(result, actor=actor)
    return result


class _RowParser:
    """Turns the fields of one record into a ProfessionalRow, or refuses it with a
    reason."""

    def __init__(self, header: list[str]) -> None:
        self.header = Header(header, required=REQUIRED_COLUMNS, known=FILE_COLUMNS)
        # The fields that a re-import may change on a known professional: the columns in
        # the file (the required ones always are).
        self.update_fields = tuple(
            FIELD_OF_COLUMN.get(name, name)
            for name in FILE_COLUMNS
            if name != "national_code" and name in header
        )
        self.max_length = {name: max_length_of(Professional, name) for name in TEXT_COLUMNS}
        self.first_line_of: dict[str, int] = {}  # national code -> line of its first row

    def parse(self, fields: list[str], line: int) -> ProfessionalRow:
        fields = self.header.values(fields)
        position = self.header.position

        try:
            code = national_code.validate(fields[position["national_code"]])
        except ValidationError as exc:
            raise RowRefused(str(exc.messages[0])) from None
        first_line = self.first_line_of.setdefault(code, line)
        if first_line != line:
            raise RowRefused(
                _("Le code national %(code)s figure déjà à la ligne %(line)d.")
                % {"code": code, "line": first_line}
            )

        written_profession = fields[position["profession"]].strip()
        profession = Profession.parse(written_profession)
        if profession is None:
            raise RowRefused(
                _("La profession « %(value)s » n'est pas connue ; professions : %(known)s.")
                % {"value": written_profession, "known": ", ".join(Profession.values)}
            )

        text = {
            name: text_value(
                name,
                fields[position[name]],
                max_length=self.max_length[name],
                required=name in _NOT_EMPTY,
            )
            for name in TEXT_COLUMNS
        }
        if not text["first_name"] and profession != Profession.LABORATORY:
            raise RowRefused(
                str(
                    _(
                        "La colonne first_name est vide (elle ne peut l'être que pour un "
                        "laboratoire)."
                    )
                )
            )

        written_active = fields[position["active"]].strip()
        is_active = _ACTIVE.get(written_active.lower())
        if is_active is None:
            raise RowRefused(
                _(
                    "La valeur « %(value)s » de la colonne active n'est pas 1, 0, oui, non, "
                    "true, false ni vide."
                )
                % {"value": written_active}
            )

        return ProfessionalRow(
            national_code=code,
            last_name=text["last_name"],
            first_name=text["first_name"],
            profession=profession,
            specialty=text["specialty"],
            practice_name=text["practice_name"],
            address_line1=text["address_line1"],
            address_line2=text["address_line2"],
            postal_code=text["postal_code"],
            locality=text["locality"],
            country=country_value(fields[position["country"]], default=DEFAULT_COUNTRY),
            is_active=is_active,
        )
