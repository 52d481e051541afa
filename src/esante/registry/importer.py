"""Import of the national insurance feed into the registry (`esante import-registry`).

The feed is a CSV file read by the rules every import shares (esante/csv_import.py):
UTF-8 (a byte-order mark is accepted), a header row, then one insured person per row. The
delimiter is `,`; a header line holding more `;` than `,` switches it to `;`. Header
names are matched without regard to case or surrounding spaces, in any order.

| column          | required | content                                                     |
|-----------------|----------|-------------------------------------------------------------|
| `matricule`     | yes      | 13 digits (or a legacy 11), spaces tolerated                |
| `last_name`     | yes      | not empty, at most 100 characters                           |
| `first_name`    | yes      | not empty, at most 100 characters                           |
| `birth_date`    | no       | `YYYY-MM-DD`; empty: the date the matricule encodes (an     |
|                 |          | unknown month or day, `00`, counts as the first); given: it |
|                 |          | must agree with the matricule's known year, month and day,  |
|                 |          | and not be in the future                                    |
| `sex`           | no       | `M`, `F`, `X` or empty                                      |
| `address_line1` | yes      | not empty, at most 200 characters                           |
| `address_line2` | no       | at most 200 characters                                      |
| `postal_code`   | yes      | not empty, at most 16 characters                            |
| `locality`      | yes      | not empty, at most 100 characters                           |
| `country`       | no       | ISO 3166 two-letter code; empty: `LU`                       |
| `date_of_death` | no       | `YYYY-MM-DD` or empty; not before the birth date, not in    |
|                 |          | the future                                                  |
| `language`      | no       | `fr`, `de`, `en` (any case) or empty: the language of the   |
|                 |          | person's activation letters until they have an account;     |
|                 |          | empty: `fr`                                                 |

A required column missing from the header refuses the whole file. An optional column
missing from the header is left as it is on persons already in the registry, and takes
its default on new ones. Unknown columns are ignored (and reported). Values are stripped
of surrounding spaces; a value holding a control character (a tab, a line break, NUL...)
is refused.

Each line of the file is one record, read on its own (lines end with LF or CRLF): since
a value may not hold a line break, a quoted value cannot run on into the next line, and
a quote left open costs its own line only, never the lines after it. Blank lines are
skipped.

A person is identified by the matricule. A new one is created with a fresh public eSanté
identifier; a known one is updated only where a value differs, and keeps its eSanté
identifier, so importing the same file twice changes nothing the second time. A bad row
(wrong matricule, empty name, bad date, death before birth, over-long value, a matricule
already seen earlier in the file, a line that is not valid CSV...) is reported with its
line number and reason and skipped; the good rows land. A file that cannot be read as a
whole (missing, not UTF-8, header without a required column) changes nothing: the import
runs in one transaction, which also writes one audit event with the counts. As a last
guard against rows lost without a word, every data line must come out created, updated,
unchanged or rejected; if the counts do not add up, the whole import is undone.

Speed: rows are parsed and checked in Python by chunks; each chunk is loaded into a
temporary table (COPY on PostgreSQL) and merged by a single
`INSERT ... SELECT ... ON CONFLICT (matricule) DO UPDATE ... WHERE <a value differs>`.
"""

from __future__ import annotations

import contextlib
import datetime
import operator
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.csv_import import (
    Header,
    ImportFileError,
    ImportResult,
    Progress,
    RowRefused,
    country_value,
    max_length_of,
    open_csv,
    text_value,
)
from esante.registry import identifiers
from esante.registry import matricule as matricule_rules
from esante.registry.models import InsuredPerson, Language, Sex

CHUNK_SIZE = 10_000
ACTOR = "command:import-registry"

REQUIRED_COLUMNS = (
    "matricule",
    "last_name",
    "first_name",
    "address_line1",
    "postal_code",
    "locality",
)
OPTIONAL_COLUMNS = ("birth_date", "sex", "address_line2", "country", "date_of_death", "language")
FEED_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
DEFAULT_COUNTRY = "LU"
DEFAULT_LANGUAGE = Language.FRENCH
TEXT_COLUMNS = (
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "locality",
)

# A checked row, in the order of ROW_COLUMNS without esante_id, which is added once we
# know which persons are new.
ParsedRow = tuple[
    str, str, str, datetime.date, str, str, str, str, str, str, datetime.date | None, str
]
# A row of the temporary table: the same with the eSanté id second.
LoadedRow = tuple[
    str, str, str, str, datetime.date, str, str, str, str, str, str, datetime.date | None, str
]
ROW_COLUMNS = (
    "matricule",
    "esante_id",
    "first_name",
    "last_name",
    "birth_date",
    "sex",
    "address_line1",
    "address_line2",
    "postal_code",
    "locality",
    "country",
    "date_of_death",
    "language",
)
TEMP_TABLE = "esante_import_rows"

# Drawing eSanté ids repeats while some drawn ids are taken, keeping the free ones; with
# real random ids (a 1 in 900 chance per id at a million people) two rounds suffice.
MAX_ID_ROUNDS = 50
# A chunk whose insert meets an id inserted meanwhile by another transaction is redone.
MAX_CHUNK_ATTEMPTS = 3
SQLITE_IN_BATCH = 500
ANALYZE_AFTER_ROWS = 10_000

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_SEXES = frozenset(["", *Sex.values])
_LANGUAGES = frozenset(Language.values)


def import_registry(
    path: Path,
    *,
    actor: str = ACTOR,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the feed at `path` (see the module docstring); raise ImportFileError when
    the file as a whole cannot be imported."""
    result = ImportResult(file_name=path.name)
    with open_csv(path, columns=FEED_COLUMNS, progress=progress) as file:
        parser = _RowParser(file.header, today=timezone.localdate())
        result.ignored_columns = parser.ignored_columns
        with transaction.atomic():
            store = _RegistryStore(update_columns=parser.update_columns, now=timezone.now())
            store.create_temp_table()
            file.import_rows(
                parser.parse,
                lambda rows: store.merge(rows, result),
                result,
                chunk_size=chunk_size,
            )
            store.drop_temp_table()
            if result.created + result.updated >= ANALYZE_AFTER_ROWS:
                store.analyze()
            record_event(EventType.REGISTRY_IMPORTED, actor=actor, **result.audit_details())
    return result


# Checking rows ---------------------------------------------------------------------


def _model_field(name: str) -> models.Field[Any, Any]:
    model_field = InsuredPerson._meta.get_field(name)
    if not isinstance(model_field, models.Field):
        raise TypeError(f"InsuredPerson.{name} is not a column")
    return model_field


class _RowParser:
    """Turns the fields of one record into a row to load, or refuses it with a reason."""

    def __init__(self, header: list[str], *, today: datetime.date) -> None:
        self.header = Header(header, required=REQUIRED_COLUMNS, known=FEED_COLUMNS)
        self.position = self.header.position
        # Columns that a re-import may change on a known person: those in the file.
        self.update_columns = tuple(
            name for name in ROW_COLUMNS if name != "esante_id" and name in header
        )
        self.ignored_columns = self.header.ignored_columns
        self.today = today
        self.max_length = {name: max_length_of(InsuredPerson, name) for name in TEXT_COLUMNS}
        self.first_line_of: dict[str, int] = {}  # matricule -> line of its first row
        self.parsed_dates: dict[str, datetime.date | None] = {}  # None: not a date

    def parse(self, fields: list[str], line: int) -> ParsedRow:
        fields = self.header.values(fields)
        position = self.position

        try:
            number = matricule_rules.validate(fields[position["matricule"]], today=self.today)
        except ValidationError as exc:
            raise RowRefused(str(exc.messages[0])) from None
        first_line = self.first_line_of.setdefault(number, line)
        if first_line != line:
            raise RowRefused(
                _("Le matricule %(matricule)s figure déjà à la ligne %(line)d.")
                % {"matricule": number, "line": first_line}
            )

        text = {name: self._text(name, fields[position[name]]) for name in TEXT_COLUMNS}

        birth_date = self._date("birth_date", fields[position["birth_date"]])
        if birth_date is None:
            # validate() refused every matricule that encodes no possible date.
            birth_date = matricule_rules.birth_date_of(number, today=self.today)
            assert birth_date is not None  # noqa: S101
        else:
            self._check_birth_date(birth_date, number)

        date_of_death = self._date("date_of_death", fields[position["date_of_death"]])
        if date_of_death is not None:
            if date_of_death < birth_date:
                raise RowRefused(
                    _("La date de décès %(death)s précède la date de naissance %(birth)s.")
                    % {"death": date_of_death, "birth": birth_date}
                )
            if date_of_death > self.today:
                raise RowRefused(
                    _("La date de décès %(date)s est dans le futur.") % {"date": date_of_death}
                )

        sex = fields[position["sex"]].strip().upper()
        if sex not in _SEXES:
            raise RowRefused(
                _("Le sexe « %(value)s » n'est pas M, F, X ni vide.")
                % {"value": fields[position["sex"]].strip()}
            )
        country = country_value(fields[position["country"]], default=DEFAULT_COUNTRY)
        language = fields[position["language"]].strip().lower() or DEFAULT_LANGUAGE
        if language not in _LANGUAGES:
            raise RowRefused(
                _("La langue « %(value)s » n'est pas fr, de, en ni vide.")
                % {"value": fields[position["language"]].strip()}
            )
        return (
            number,
            text["first_name"],
            text["last_name"],
            birth_date,
            sex,
            text["address_line1"],
            text["address_line2"],
            text["postal_code"],
            text["locality"],
            country,
            date_of_death,
            language,
        )

    def _text(self, column: str, value: str) -> str:
        return text_value(
            column,
            value,
            max_length=self.max_length[column],
            required=column in REQUIRED_COLUMNS,
        )

    def _date(self, column: str, value: str) -> datetime.date | None:
        """The date of a YYYY-MM-DD value, None when empty."""
        value = value.strip()
        if not value:
            return None
        try:
            date = self.parsed_dates[value]
        except KeyError:
            # fromisoformat() alone would also take 20240131 or 2024-W05-3.
            date = None
            if _ISO_DATE.fullmatch(value):
                with contextlib.suppress(ValueError):
                    date = datetime.date.fromisoformat(value)
            self.parsed_dates[value] = date
        if date is None:
            raise RowRefused(
                _("La colonne %(column)s n'est pas une date AAAA-MM-JJ valable : « %(value)s ».")
                % {"column": column, "value": value}
            )
        return date

    def _check_birth_date(self, birth_date: datetime.date, number: str) -> None:
        year, month, day = int(number[0:4]), int(number[4:6]), int(number[6:8])
        if (
            birth_date.year != year
            or (month and birth_date.month != month)
            or (day and birth_date.day != day)
        ):
            raise RowRefused(
                _(
                    "La date de naissance %(date)s ne correspond pas à celle du matricule "
                    "(%(encoded)s, 00 pour un mois ou un jour inconnu)."
                )
                % {"date": birth_date, "encoded": f"{number[0:4]}-{number[4:6]}-{number[6:8]}"}
            )
        if birth_date > self.today:
            raise RowRefused(
                _("La date de naissance %(date)s est dans le futur.") % {"date": birth_date}
            )


# Writing the registry ------------------------------------------------------------------


class _RegistryStore:
    """The SQL side: a temporary table per import, one merge statement per chunk."""

    def __init__(self, *, update_columns: Sequence[str], now: datetime.datetime) -> None:
        if connection.vendor not in ("postgresql", "sqlite"):
            raise ImportFileError(
                _("L'import du registre ne fonctionne qu'avec PostgreSQL ou SQLite.")
            )
        self.postgres = connection.vendor == "postgresql"
        quote = connection.ops.quote_name
        self.table = quote(InsuredPerson._meta.db_table)
        # Schema-qualified so that dropping it can never reach a regular table.
        self.temp_table = f"pg_temp.{TEMP_TABLE}" if self.postgres else f"temp.{TEMP_TABLE}"
        self.now = connection.ops.adapt_datetimefield_value(now)
        columns = ", ".join(quote(name) for name in ROW_COLUMNS)
        self.copy_sql = f"COPY {self.temp_table} ({columns}) FROM STDIN"
        placeholders = ", ".join(["%s"] * len(ROW_COLUMNS))
        self.insert_temp_sql = f"INSERT INTO {self.temp_table} ({columns}) VALUES ({placeholders})"  # noqa: S608 -- names only
        timestamp = "CAST(%s AS timestamp with time zone)" if self.postgres else "%s"
        is_distinct = "IS DISTINCT FROM" if self.postgres else "IS NOT"
        assignments = ", ".join(
            f"{quote(name)} = EXCLUDED.{quote(name)}" for name in (*update_columns, "updated_at")
        )
        differs = " OR ".join(
            f"{self.table}.{quote(name)} {is_distinct} EXCLUDED.{quote(name)}"
            for name in update_columns
        )
        # The rows found unchanged never reach this statement; its WHERE still keeps a
        # row that someone else set to the same values meanwhile from being rewritten.
        # "WHERE 1 = 1" lets SQLite parse ON CONFLICT after a SELECT. Inserting in
        # matricule order walks that index in order: a fifth faster on PostgreSQL.
        self.merge_sql = (
            f"INSERT INTO {self.table} ({columns}, created_at, updated_at) "  # noqa: S608 -- names only
            f"SELECT {columns}, {timestamp}, {timestamp} FROM {self.temp_table} WHERE 1 = 1 "
            f"ORDER BY {quote('matricule')} "
            f"ON CONFLICT ({quote('matricule')}) DO UPDATE SET {assignments} WHERE {differs}"
        )
        # What a re-import compares: the stored values of the columns in the file.
        parsed_columns = [name for name in ROW_COLUMNS if name != "esante_id"]
        self.stored_columns = ("matricule", "esante_id", *update_columns)
        self.compared_values = operator.itemgetter(
            *(parsed_columns.index(name) for name in update_columns)
        )
        self.column_types = {name: _model_field(name).db_type(connection) for name in ROW_COLUMNS}

    def create_temp_table(self) -> None:
        definition = ", ".join(
            f"{connection.ops.quote_name(name)} {db_type}"
            for name, db_type in self.column_types.items()
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.temp_table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_TABLE} ({definition})")

    def drop_temp_table(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {self.temp_table}")

    def merge(self, rows: Sequence[ParsedRow], result: ImportResult) -> None:
        """Insert the new persons and update the changed ones among `rows`."""
        for attempt in range(1, MAX_CHUNK_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    created, updated, unchanged = self._merge_once(rows)
            except IntegrityError:
                # Another transaction took one of our new eSanté ids after we looked:
                # look again, draw again. (A person it created meanwhile with one of our
                # matricules merely turns our insert into an update.)
                if attempt == MAX_CHUNK_ATTEMPTS:
                    raise
                continue
            result.created += created
            result.updated += updated
            result.unchanged += unchanged
            return

    def _merge_once(self, rows: Sequence[ParsedRow]) -> tuple[int, int, int]:
        stored_rows = self._select_where_in(
            self.stored_columns, "matricule", [row[0] for row in rows]
        )
        stored_by_matricule = {stored[0]: stored for stored in stored_rows}
        new_rows: list[ParsedRow] = []
        loaded: list[LoadedRow] = []
        for row in rows:
            stored = stored_by_matricule.get(row[0])
            if stored is None:
                new_rows.append(row)
            elif self.compared_values(row) != stored[2:]:
                # A known person keeps the eSanté id it has (SQLite checks NOT NULL
                # before ON CONFLICT, so the column cannot just be left empty).
                loaded.append((row[0], stored[1], *row[1:]))
            # else: unchanged, left out, so the merge does not even lock its row.
        new_ids = self.draw_esante_ids(len(new_rows))
        loaded.extend(
            (row[0], esante_id, *row[1:]) for row, esante_id in zip(new_rows, new_ids, strict=True)
        )
        written = self._write(loaded) if loaded else 0
        created = len(new_rows)
        updated = written - created
        return created, updated, len(stored_by_matricule) - updated

    def _write(self, rows: Sequence[LoadedRow]) -> int:
        """Load `rows` into the temporary table and merge them; the rows written."""
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(f"TRUNCATE {self.temp_table}")
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.execute(f"DELETE FROM {self.temp_table}")  # noqa: S608 -- names only
                cursor.executemany(self.insert_temp_sql, rows)
            cursor.execute(self.merge_sql, [self.now, self.now])
            written: int = cursor.rowcount  # inserted + updated, not the rows left as they were
        return written

    def analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the registry after a large change, so that
        the next queries are not planned for the table as it was before the import."""
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {self.table}")

    def draw_esante_ids(self, count: int) -> list[str]:
        """`count` new public identifiers, distinct and free in the registry.

        Random 10-digit ids collide (at a million people, about one draw in 900 is
        taken, and a chunk of 10,000 draws holds a duplicate more often than not), so
        duplicates and taken ids are dropped and drawn again.
        """
        chosen: set[str] = set()
        for _round in range(MAX_ID_ROUNDS):
            missing = count - len(chosen)
            if not missing:
                break
            drawn = {identifiers.new_esante_id() for _draw in range(missing)} - chosen
            taken = self._select_where_in(("esante_id",), "esante_id", drawn)
            chosen |= drawn - {esante_id for (esante_id,) in taken}
        if len(chosen) < count:
            raise RuntimeError(f"no free eSanté ids after {MAX_ID_ROUNDS} rounds of draws")
        return list(chosen)

    def _select_where_in(
        self, selected: Sequence[str], column: str, values: Collection[str]
    ) -> list[tuple[Any, ...]]:
        """The `selected` columns of the persons whose `column` is one of `values`."""
        if not values:
            return []
        quote = connection.ops.quote_name
        selected_sql = ", ".join(quote(name) for name in selected)
        select = f"SELECT {selected_sql} FROM {self.table}"  # noqa: S608 -- names only
        found: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            if self.postgres:
                # One index lookup per value, whatever the planner believes of the table:
                # during a first import its statistics still describe an empty table,
                # and a join or "= ANY(...)" over 10,000 values gets planned as a scan
                # of the whole table, once per chunk. LIMIT 1 keeps the subquery apart.
                cursor.execute(
                    f"SELECT found.* FROM unnest(CAST(%s AS varchar[])) AS wanted (value) "  # noqa: S608
                    f"CROSS JOIN LATERAL ({select} WHERE {quote(column)} = wanted.value "
                    f"LIMIT 1) AS found",
                    [list(values)],
                )
                found.extend(cursor.fetchall())
            else:
                ordered = list(values)
                for start in range(0, len(ordered), SQLITE_IN_BATCH):
                    batch = ordered[start : start + SQLITE_IN_BATCH]
                    placeholders = ", ".join(["%s"] * len(batch))
                    cursor.execute(f"{select} WHERE {quote(column)} IN ({placeholders})", batch)
                    found.extend(cursor.fetchall())
        return found
