"""Import of the national insurance feed into the registry (`esante import-registry`).

The feed is a CSV file: UTF-8 (a byte-order mark is accepted), a header row, then one
insured person per row. The delimiter is `,`; a header line holding more `;` than `,`
switches it to `;`. Header names are matched without regard to case or surrounding
spaces, in any order.

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

import _csv
import codecs
import contextlib
import csv
import datetime
import operator
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from esante.audit.actions import record_event
from esante.audit.models import EventType
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

_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_SEXES = frozenset(["", *Sex.values])
_LANGUAGES = frozenset(Language.values)


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was changed."""


class Progress(Protocol):
    def start(self, total_rows: int) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass
class ImportResult:
    file_name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()


def import_registry(
    path: Path,
    *,
    actor: str = ACTOR,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the feed at `path` (see the module docstring); raise ImportFileError when
    the file as a whole cannot be imported."""
    total_lines = _count_data_lines(path)
    if progress is not None:
        progress.start(total_lines)
    result = ImportResult(file_name=path.name)
    with _open_text(path) as feed:
        delimiter, header = _read_header(feed)
        parser = _RowParser(header, today=timezone.localdate())
        result.ignored_columns = parser.ignored_columns
        with transaction.atomic():
            store = _RegistryStore(update_columns=parser.update_columns, now=timezone.now())
            store.create_temp_table()
            blank_lines = 0
            for chunk in _parsed_chunks(feed, delimiter, parser, chunk_size):
                result.rejected.extend(chunk.rejected)
                blank_lines += chunk.blank_lines
                if chunk.rows:
                    store.merge(chunk.rows, result)
                if progress is not None:
                    progress.advance(chunk.lines)
            _check_every_line_is_counted(result, data_lines=total_lines - blank_lines)
            store.drop_temp_table()
            if result.created + result.updated >= ANALYZE_AFTER_ROWS:
                store.analyze()
            record_event(
                EventType.REGISTRY_IMPORTED,
                actor=actor,
                file=result.file_name,
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                rejected=len(result.rejected),
            )
    return result


# Reading the file --------------------------------------------------------------------


def _read_error(path: Path, exc: OSError) -> ImportFileError:
    if isinstance(exc, FileNotFoundError):
        message = _("Le fichier %(path)s n'existe pas.")
    elif isinstance(exc, IsADirectoryError):
        message = _("%(path)s est un dossier, pas un fichier CSV.")
    else:
        message = _("Le fichier %(path)s ne peut pas être lu : %(error)s.")
    return ImportFileError(message % {"path": path, "error": exc.strerror or exc})


def _not_utf8(line: int) -> ImportFileError:
    return ImportFileError(
        _("Le fichier n'est pas encodé en UTF-8 (ligne %(line)d) : enregistrez-le en UTF-8.")
        % {"line": line}
    )


def _count_data_lines(path: Path) -> int:
    """The number of lines after the header, for the progress bar. On the way, check that
    the whole file is UTF-8, so that a badly encoded file is refused before any change."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    lines = 0
    ends_with_newline = True
    try:
        with path.open("rb") as raw:
            while block := raw.read(1 << 20):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    # exc.start counts from the bytes the decoder still held, at most 3.
                    raise _not_utf8(lines + block.count(b"\n", 0, max(exc.start, 0)) + 1) from None
                lines += block.count(b"\n")
                ends_with_newline = block.endswith(b"\n")
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise _not_utf8(lines + 1) from None
    except OSError as exc:
        raise _read_error(path, exc) from exc
    if not ends_with_newline:
        lines += 1
    return max(lines - 1, 0)


def _open_text(path: Path) -> IO[str]:
    # Lines end at LF only (a CRLF's CR is cut by _lines()), as _count_data_lines counts
    # them: a lone CR inside a value stays in it, and is refused as a control character.
    try:
        return path.open(encoding="utf-8-sig", newline="\n")
    except OSError as exc:
        raise _read_error(path, exc) from exc


def _read_header(feed: IO[str]) -> tuple[str, list[str]]:
    """The delimiter and the column names (lower case) of the header line."""
    try:
        first_line = feed.readline()
    except UnicodeDecodeError:
        raise _not_utf8(1) from None
    if not first_line.strip():
        raise ImportFileError(
            _("La première ligne doit nommer les colonnes (%(columns)s) ; elle est vide.")
            % {"columns": ", ".join(FEED_COLUMNS)}
        )
    header_line = first_line.removesuffix("\n").removesuffix("\r")
    if "\r" in header_line:
        raise ImportFileError(
            _(
                "Ligne 1 : l'en-tête contient un retour chariot (CR) ; les lignes du fichier "
                "doivent finir par un saut de ligne (LF ou CRLF)."
            )
        )
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    try:
        header = _fields(header_line, _dialect(delimiter))
    except _RowRefused as refusal:
        raise ImportFileError(
            _("Ligne 1 (en-tête) : %(reason)s") % {"reason": refusal.reason}
        ) from None
    return delimiter, [name.strip().lower() for name in header]


def _dialect(delimiter: str) -> _csv.Dialect:
    """The file's CSV dialect, built once: csv.reader() builds one at each call given
    keyword arguments, which costs more than reading the line itself."""
    return csv.reader((), delimiter=delimiter, strict=True).dialect


def _lines(feed: IO[str]) -> Iterator[tuple[int, str]]:
    """(line number, text without its line end) for each line after the header."""
    lines = iter(feed)
    number = 1  # the header's
    while True:
        number += 1
        try:
            line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise _not_utf8(number) from None
        except OSError as exc:
            raise ImportFileError(
                _("Ligne %(line)d : lecture du fichier impossible (%(error)s).")
                % {"line": number, "error": exc.strerror or exc}
            ) from exc
        yield number, line.removesuffix("\n").removesuffix("\r")


def _fields(line: str, dialect: _csv.Dialect) -> list[str]:
    """The values of one line (its line end cut); none for an empty line.

    The csv module reads the line on its own, so that a quote left open ends with the
    line instead of running on into the next ones. A line without quotes is merely
    split: the same values, in less time.
    """
    if '"' not in line:
        return line.split(dialect.delimiter) if line else []
    try:
        return next(csv.reader((line,), dialect), [])
    except csv.Error as exc:
        raise _RowRefused(_csv_error_reason(exc, dialect.delimiter)) from None


def _csv_error_reason(error: csv.Error, delimiter: str) -> str:
    """The csv module's (English) complaint about one line, as a French reason."""
    message = str(error)
    if message == "unexpected end of data":
        return str(
            _(
                "Guillemet non refermé : une valeur entre guillemets doit se terminer sur "
                "sa ligne (une valeur ne peut pas contenir de saut de ligne)."
            )
        )
    if message.endswith("expected after '\"'"):
        return _(
            "Guillemet mal placé : le guillemet qui ferme une valeur doit être suivi de "
            "« %(delimiter)s » ou de la fin de la ligne (dans une valeur entre guillemets, "
            'un guillemet s\'écrit "").'
        ) % {"delimiter": delimiter}
    if message.startswith("field larger than field limit"):
        return _("Une valeur dépasse %(limit)d caractères.") % {"limit": csv.field_size_limit()}
    if message.startswith(("new-line character", "line contains NUL")):
        return str(
            _("La ligne contient un caractère de contrôle (retour chariot, NUL...) mal placé.")
        )
    return _("CSV mal formé (%(error)s).") % {"error": message}


@dataclass
class _Chunk:
    rows: list[ParsedRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    lines: int = 0
    blank_lines: int = 0


def _parsed_chunks(
    feed: IO[str], delimiter: str, parser: _RowParser, chunk_size: int
) -> Iterator[_Chunk]:
    """The lines of the file after the header, checked, by chunks of `chunk_size` good
    rows."""
    dialect = _dialect(delimiter)
    chunk = _Chunk()
    for number, line in _lines(feed):
        chunk.lines += 1
        try:
            fields = _fields(line, dialect)
            if not fields:
                chunk.blank_lines += 1
                continue
            chunk.rows.append(parser.parse(fields, number))
        except _RowRefused as refusal:
            chunk.rejected.append(RejectedRow(number, refusal.reason))
            continue
        if len(chunk.rows) >= chunk_size:
            yield chunk
            chunk = _Chunk()
    if chunk.lines:
        yield chunk


def _check_every_line_is_counted(result: ImportResult, *, data_lines: int) -> None:
    """The last guard against rows lost without a word (a quote left open once swallowed
    the lines after it): every data line is created, updated, unchanged or rejected, or
    the import is refused, and its transaction undoes everything."""
    counted = result.created + result.updated + result.unchanged + len(result.rejected)
    if counted != data_lines:
        raise ImportFileError(
            ngettext(
                "Import annulé, rien n'a été modifié : le fichier compte %(lines)d ligne "
                "de données, mais le décompte des personnes créées, mises à jour, "
                "inchangées ou rejetées donne %(counted)d. Signalez ce fichier à l'équipe "
                "technique.",
                "Import annulé, rien n'a été modifié : le fichier compte %(lines)d lignes "
                "de données, mais le décompte des personnes créées, mises à jour, "
                "inchangées ou rejetées donne %(counted)d. Signalez ce fichier à l'équipe "
                "technique.",
                data_lines,
            )
            % {"lines": data_lines, "counted": counted}
        )


# Checking rows ---------------------------------------------------------------------


class _RowRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _model_field(name: str) -> models.Field[Any, Any]:
    model_field = InsuredPerson._meta.get_field(name)
    if not isinstance(model_field, models.Field):
        raise TypeError(f"InsuredPerson.{name} is not a column")
    return model_field


def _max_length(name: str) -> int:
    max_length = _model_field(name).max_length
    if max_length is None:
        raise TypeError(f"InsuredPerson.{name} has no max_length")
    return max_length


class _RowParser:
    """Turns the fields of one record into a row to load, or refuses it with a reason."""

    def __init__(self, header: list[str], *, today: datetime.date) -> None:
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            raise ImportFileError(
                ngettext(
                    "Colonne obligatoire absente de l'en-tête : %(missing)s. "
                    "Colonnes attendues : %(columns)s.",
                    "Colonnes obligatoires absentes de l'en-tête : %(missing)s. "
                    "Colonnes attendues : %(columns)s.",
                    len(missing),
                )
                % {"missing": ", ".join(missing), "columns": ", ".join(FEED_COLUMNS)}
            )
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise ImportFileError(
                ngettext(
                    "Colonne en double dans l'en-tête : %(repeated)s.",
                    "Colonnes en double dans l'en-tête : %(repeated)s.",
                    len(repeated),
                )
                % {"repeated": ", ".join(name or '""' for name in repeated)}
            )
        self.header = header
        self.width = len(header)
        # Where each feed column sits in a record. An absent optional column reads the
        # empty string that parse() appends to every record, at index `width`.
        self.position = {
            name: header.index(name) if name in header else self.width for name in FEED_COLUMNS
        }
        # Columns that a re-import may change on a known person: those in the file.
        self.update_columns = tuple(
            name for name in ROW_COLUMNS if name != "esante_id" and name in header
        )
        self.ignored_columns = tuple(name for name in header if name not in FEED_COLUMNS)
        self.today = today
        self.max_length = {name: _max_length(name) for name in TEXT_COLUMNS}
        self.first_line_of: dict[str, int] = {}  # matricule -> line of its first row
        self.parsed_dates: dict[str, datetime.date | None] = {}  # None: not a date

    def parse(self, fields: list[str], line: int) -> ParsedRow:
        if len(fields) != self.width:
            raise _RowRefused(
                ngettext(
                    "La ligne compte %(count)d valeur au lieu de %(expected)d.",
                    "La ligne compte %(count)d valeurs au lieu de %(expected)d.",
                    len(fields),
                )
                % {"count": len(fields), "expected": self.width}
            )
        if _CONTROL_CHARACTER.search("".join(fields)):
            column = next(
                name
                for name, value in zip(self.header, fields, strict=True)
                if _CONTROL_CHARACTER.search(value)
            )
            raise _RowRefused(
                _(
                    "La colonne %(column)s contient un caractère de contrôle (tabulation, "
                    "saut de ligne...)."
                )
                % {"column": column}
            )
        fields.append("")
        position = self.position

        try:
            number = matricule_rules.validate(fields[position["matricule"]], today=self.today)
        except ValidationError as exc:
            raise _RowRefused(str(exc.messages[0])) from None
        first_line = self.first_line_of.setdefault(number, line)
        if first_line != line:
            raise _RowRefused(
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
                raise _RowRefused(
                    _("La date de décès %(death)s précède la date de naissance %(birth)s.")
                    % {"death": date_of_death, "birth": birth_date}
                )
            if date_of_death > self.today:
                raise _RowRefused(
                    _("La date de décès %(date)s est dans le futur.") % {"date": date_of_death}
                )

        sex = fields[position["sex"]].strip().upper()
        if sex not in _SEXES:
            raise _RowRefused(
                _("Le sexe « %(value)s » n'est pas M, F, X ni vide.")
                % {"value": fields[position["sex"]].strip()}
            )
        country = fields[position["country"]].strip().upper() or DEFAULT_COUNTRY
        if not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise _RowRefused(
                _("Le pays « %(value)s » n'est pas un code ISO de deux lettres.")
                % {"value": fields[position["country"]].strip()}
            )
        language = fields[position["language"]].strip().lower() or DEFAULT_LANGUAGE
        if language not in _LANGUAGES:
            raise _RowRefused(
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
        value = value.strip()
        if len(value) > self.max_length[column]:
            raise _RowRefused(
                _("La colonne %(column)s dépasse %(max)d caractères (%(length)d).")
                % {"column": column, "max": self.max_length[column], "length": len(value)}
            )
        if not value and column in REQUIRED_COLUMNS:
            raise _RowRefused(_("La colonne %(column)s est vide.") % {"column": column})
        return value

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
            raise _RowRefused(
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
            raise _RowRefused(
                _(
                    "La date de naissance %(date)s ne correspond pas à celle du matricule "
                    "(%(encoded)s, 00 pour un mois ou un jour inconnu)."
                )
                % {"date": birth_date, "encoded": f"{number[0:4]}-{number[4:6]}-{number[6:8]}"}
            )
        if birth_date > self.today:
            raise _RowRefused(
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
