"""What the platform's CSV imports share (`esante import-registry`,
`esante import-professionals`): reading the file, its header and its lines, and the
reasons a line or a whole file is refused, in French.

The file rules, the same for every import (each importer's docstring lists its columns):
UTF-8 (a byte-order mark is accepted), a header row, then one record per line. The
delimiter is `,`; a header line holding more `;` than `,` switches it to `;`. Header names
are matched without regard to case or surrounding spaces, in any order; a required column
missing from the header, or a column named twice, refuses the whole file; unknown columns
are ignored (and reported). A value holding a control character (a tab, a line break,
NUL...) is refused.

Each line of the file is one record, read on its own (lines end with LF or CRLF): since a
value may not hold a line break, a quoted value cannot run on into the next line, and a
quote left open costs its own line only, never the lines after it. Blank lines are
skipped. A file that is not UTF-8 is refused before anything is changed. As a last guard
against rows lost without a word, every data line must come out created, updated,
unchanged or rejected (`check_every_line_is_counted`).

The command side too: ImportCommand, the base of each import's command (the file
argument, the help's column list kept as written, a tqdm progress bar on stderr shown only
on a terminal, the report of refused lines and counts).

Imports no app, only the lowest floor's `commands`: it sits just above it, under every
importer.
"""

from __future__ import annotations

import _csv
import argparse
import codecs
import contextlib
import csv
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar

from django.core.management.base import CommandError, CommandParser, DjangoHelpFormatter
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from tqdm import tqdm

from esante.commands import BaseCommand

CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")

Row = TypeVar("Row")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was changed."""


class RowRefused(Exception):
    """One record cannot be imported; `reason` says why, in French."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Progress(Protocol):
    def start(self, total_rows: int) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass
class ImportResult:
    """What an import did: the counts of its records, its refused lines, the columns of
    the file it did not know."""

    file_name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()

    @property
    def counted(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)

    def audit_details(self) -> dict[str, Any]:
        """What the import's audit event records: the file and the counts."""
        return {
            "file": self.file_name,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
        }


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


def count_data_lines(path: Path) -> int:
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


def open_text(path: Path) -> IO[str]:
    # Lines end at LF only (a CRLF's CR is cut by _lines()), as count_data_lines counts
    # them: a lone CR inside a value stays in it, and is refused as a control character.
    try:
        return path.open(encoding="utf-8-sig", newline="\n")
    except OSError as exc:
        raise _read_error(path, exc) from exc


def read_header(feed: IO[str], expected: Sequence[str]) -> tuple[str, list[str]]:
    """The delimiter and the column names (lower case) of the header line; `expected`,
    the importer's columns, are named in the refusal of an empty first line."""
    try:
        first_line = feed.readline()
    except UnicodeDecodeError:
        raise _not_utf8(1) from None
    if not first_line.strip():
        raise ImportFileError(
            _("La première ligne doit nommer les colonnes (%(columns)s) ; elle est vide.")
            % {"columns": ", ".join(expected)}
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
    except RowRefused as refusal:
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
        raise RowRefused(_csv_error_reason(exc, dialect.delimiter)) from None


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
class Chunk(Generic[Row]):
    rows: list[Row] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    lines: int = 0
    blank_lines: int = 0


def parsed_chunks(
    feed: IO[str],
    delimiter: str,
    parse: Callable[[list[str], int], Row],
    chunk_size: int,
) -> Iterator[Chunk[Row]]:
    """The lines of the file after the header, each turned into a row by `parse(values,
    line number)` or refused (RowRefused), by chunks of `chunk_size` good rows."""
    dialect = _dialect(delimiter)
    chunk: Chunk[Row] = Chunk()
    for number, line in _lines(feed):
        chunk.lines += 1
        try:
            fields = _fields(line, dialect)
            if not fields:
                chunk.blank_lines += 1
                continue
            chunk.rows.append(parse(fields, number))
        except RowRefused as refusal:
            chunk.rejected.append(RejectedRow(number, refusal.reason))
            continue
        if len(chunk.rows) >= chunk_size:
            yield chunk
            chunk = Chunk()
    if chunk.lines:
        yield chunk


def check_every_line_is_counted(result: ImportResult, *, data_lines: int) -> None:
    """The last guard against rows lost without a word (a quote left open once swallowed
    the lines after it): every data line is created, updated, unchanged or rejected, or
    the import is refused, and its transaction undoes everything."""
    counted = result.counted
    if counted != data_lines:
        raise ImportFileError(
            ngettext(
                "Import annulé, rien n'a été modifié : le fichier compte %(lines)d ligne "
                "de données, mais le décompte des lignes créées, mises à jour, "
                "inchangées ou rejetées donne %(counted)d. Signalez ce fichier à l'équipe "
                "technique.",
                "Import annulé, rien n'a été modifié : le fichier compte %(lines)d lignes "
                "de données, mais le décompte des lignes créées, mises à jour, "
                "inchangées ou rejetées donne %(counted)d. Signalez ce fichier à l'équipe "
                "technique.",
                data_lines,
            )
            % {"lines": data_lines, "counted": counted}
        )


# An import's run ------------------------------------------------------------------------


@dataclass
class CsvFile:
    """An import's file, open after its header: `open_csv` gives it."""

    feed: IO[str]
    delimiter: str
    header: list[str]
    total_lines: int
    progress: Progress | None

    def import_rows(
        self,
        parse: Callable[[list[str], int], Row],
        merge: Callable[[list[Row]], None],
        result: ImportResult,
        *,
        chunk_size: int,
    ) -> None:
        """Every line after the header, turned into a row by `parse` (or rejected into
        `result`), handed to `merge` by chunks of `chunk_size` rows; then the guard that
        every line was counted. `merge` adds its counts to `result`."""
        blank_lines = 0
        for chunk in parsed_chunks(self.feed, self.delimiter, parse, chunk_size):
            result.rejected.extend(chunk.rejected)
            blank_lines += chunk.blank_lines
            if chunk.rows:
                merge(chunk.rows)
            if self.progress is not None:
                self.progress.advance(chunk.lines)
        check_every_line_is_counted(result, data_lines=self.total_lines - blank_lines)


@contextlib.contextmanager
def open_csv(path: Path, *, columns: Sequence[str], progress: Progress | None) -> Iterator[CsvFile]:
    """The file at `path`, checked to be UTF-8 throughout and opened past its header
    (`columns`, the importer's, are named when the header is empty); the progress is
    started with its number of data lines."""
    total_lines = count_data_lines(path)
    if progress is not None:
        progress.start(total_lines)
    with open_text(path) as feed:
        delimiter, header = read_header(feed, columns)
        yield CsvFile(feed, delimiter, header, total_lines, progress)


# Checking a record's shape -------------------------------------------------------------


class Header:
    """The columns of a file, against those an importer knows: where each sits in a
    record, which are ignored; `values()` checks a record's width and characters."""

    def __init__(self, header: list[str], *, required: Sequence[str], known: Sequence[str]) -> None:
        missing = [name for name in required if name not in header]
        if missing:
            raise ImportFileError(
                ngettext(
                    "Colonne obligatoire absente de l'en-tête : %(missing)s. "
                    "Colonnes attendues : %(columns)s.",
                    "Colonnes obligatoires absentes de l'en-tête : %(missing)s. "
                    "Colonnes attendues : %(columns)s.",
                    len(missing),
                )
                % {"missing": ", ".join(missing), "columns": ", ".join(known)}
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
        self.names = header
        self.width = len(header)
        # Where each known column sits in a record. An absent optional column reads the
        # empty string that values() appends to every record, at index `width`.
        self.position = {
            name: header.index(name) if name in header else self.width for name in known
        }
        self.ignored_columns = tuple(name for name in header if name not in known)

    def values(self, fields: list[str]) -> list[str]:
        """`fields`, with an empty value appended for the absent columns; RowRefused when
        it has not one value per column or a value holds a control character."""
        if len(fields) != self.width:
            raise RowRefused(
                ngettext(
                    "La ligne compte %(count)d valeur au lieu de %(expected)d.",
                    "La ligne compte %(count)d valeurs au lieu de %(expected)d.",
                    len(fields),
                )
                % {"count": len(fields), "expected": self.width}
            )
        if CONTROL_CHARACTER.search("".join(fields)):
            column = next(
                name
                for name, value in zip(self.names, fields, strict=True)
                if CONTROL_CHARACTER.search(value)
            )
            raise RowRefused(
                _(
                    "La colonne %(column)s contient un caractère de contrôle (tabulation, "
                    "saut de ligne...)."
                )
                % {"column": column}
            )
        fields.append("")
        return fields


def text_value(column: str, value: str, *, max_length: int, required: bool) -> str:
    """`value` stripped; RowRefused when it is longer than `max_length`, or empty and
    `required`."""
    value = value.strip()
    if len(value) > max_length:
        raise RowRefused(
            _("La colonne %(column)s dépasse %(max)d caractères (%(length)d).")
            % {"column": column, "max": max_length, "length": len(value)}
        )
    if not value and required:
        raise RowRefused(_("La colonne %(column)s est vide.") % {"column": column})
    return value


def country_value(value: str, *, default: str) -> str:
    """An ISO 3166 two-letter code in capitals, `default` when empty."""
    country = value.strip().upper() or default
    if not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise RowRefused(
            _("Le pays « %(value)s » n'est pas un code ISO de deux lettres.")
            % {"value": value.strip()}
        )
    return country


def max_length_of(model: type[models.Model], name: str) -> int:
    """The max_length of `model`'s column `name`, the bound its import checks."""
    model_field: Any = model._meta.get_field(name)
    max_length = getattr(model_field, "max_length", None)
    if not isinstance(max_length, int):
        raise TypeError(f"{model.__name__}.{name} has no max_length")
    return max_length


# The commands ------------------------------------------------------------------------


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's ordering of options, with the column list kept as written."""


class ProgressBar:
    """An import's progress, as a tqdm bar on stderr (shown only on a terminal)."""

    def __init__(self) -> None:
        self.bar: tqdm[Any] | None = None

    def start(self, total_rows: int) -> None:
        self.bar = tqdm(
            total=total_rows, unit=" lignes", unit_scale=True, file=sys.stderr, disable=None
        )

    def advance(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class ImportCommand(BaseCommand):
    """`esante import-… FICHIER.csv`: runs `import_file`, then reports its refused lines
    and its counts, worded by `counts` (each agrees with the import's noun)."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = _HelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FICHIER", help="le fichier CSV à importer")

    def import_file(self, path: Path, progress: Progress) -> ImportResult:
        raise NotImplementedError

    def counts(self, result: ImportResult) -> list[str]:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        progress = ProgressBar()
        try:
            result = self.import_file(path, progress)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()
        self.report(result)

    def report(self, result: ImportResult) -> None:
        if result.ignored_columns:
            self.stdout.write(
                self.style.WARNING(
                    ngettext(
                        "Colonne inconnue, ignorée : %(columns)s",
                        "Colonnes inconnues, ignorées : %(columns)s",
                        len(result.ignored_columns),
                    )
                    % {"columns": ", ".join(name or '""' for name in result.ignored_columns)}
                )
            )
        for rejected in result.rejected:
            self.stdout.write(self.style.ERROR(f"ligne {rejected.line} : {rejected.reason}"))
        summary = f"{result.file_name} : {', '.join(self.counts(result))}."
        self.stdout.write(self.style.SUCCESS(summary) if not result.rejected else summary)
