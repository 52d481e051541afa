"""« 4 essais », never « essai(s) »: no text the platform shows or prints writes a plural
with "(s)"; counted words go through ngettext (whose French catalogue has the French rule:
singular for 0 and 1)."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
from django.utils import translation

from esante.accounts.authenticators.one_time_codes import Outcome, Verification
from esante.accounts.code_step import refusal

SOURCE = Path(__file__).resolve().parents[2] / "src" / "esante"
BRACKETED_PLURAL = re.compile(r"\w\(s\)")


def strings_with_bracketed_plurals(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return [f"{path}: {match.group()}" for match in BRACKETED_PLURAL.finditer(text)]
    return [
        f"{path}:{token.start[0]}: {token.string[:70]}"
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.STRING and BRACKETED_PLURAL.search(token.string)
    ]


def test_no_string_of_the_source_writes_a_plural_with_brackets() -> None:
    found = [
        each
        for path in sorted(SOURCE.rglob("*"))
        if path.suffix in {".py", ".html", ".txt"} and "locale" not in path.parts
        for each in strings_with_bracketed_plurals(path)
    ]
    assert found == []


def test_the_scan_sees_a_bracketed_plural(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('MESSAGE = _("Il vous reste %(count)d essai(s).")  # ok(s)\n')
    assert len(strings_with_bracketed_plurals(sample)) == 1


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [(4, "Il vous reste 4 essais avant"), (1, "Il vous reste 1 essai avant")],
)
def test_the_tries_left_agree_with_their_number(remaining: int, expected: str) -> None:
    wrong = Verification(Outcome.WRONG, remaining_attempts=remaining)
    with translation.override("fr"):
        assert expected in refusal(wrong)
