"""What the CSV imports' tests share: writing a file, reading an import's result."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from esante.csv_import import ImportResult


def write_csv(
    path: Path,
    rows: Sequence[dict[str, str] | Sequence[str]],
    *,
    columns: Sequence[str],
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """A header of `columns`, then `rows`: a dict by column name, or a line's values."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(name, "") for name in columns] if isinstance(row, dict) else row)
    path.write_text(out.getvalue(), encoding=encoding)
    return path


def counts(result: ImportResult) -> tuple[int, int, int, int]:
    """Created, updated, unchanged, rejected."""
    return result.created, result.updated, result.unchanged, len(result.rejected)


def reasons(result: ImportResult) -> dict[int, str]:
    """Each rejected line's reason, by line number."""
    return {rejected.line: rejected.reason for rejected in result.rejected}
