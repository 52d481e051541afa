"""The DE and EN catalogues are complete, compiled, and keep every placeholder and tag."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import polib
import pytest

LOCALE_DIR = Path(__file__).resolve().parents[2] / "src" / "esante" / "locale"
LANGUAGES = ["de", "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return list(entry.msgstr_plural.values())
    return [entry.msgstr]


def key(entry: polib.POEntry | polib.MOEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str) -> None:
    po = catalogue(language)
    assert len(po) > 0
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy}"
    assert not po.metadata_is_fuzzy, f"the {language} header is still marked fuzzy"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_the_po_file(language: str) -> None:
    """A forgotten `compilemessages` leaves the .mo behind the .po: this fails then."""
    po = catalogue(language)
    mo = polib.mofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"))
    in_po = {key(entry): translations(entry) for entry in po.translated_entries()}
    in_mo = {key(entry): translations(entry) for entry in mo if entry.msgid}
    missing = sorted(str(k) for k in in_po.keys() - in_mo.keys())
    stale = sorted(str(k) for k in in_mo.keys() - in_po.keys())
    changed = sorted(str(k) for k in in_po.keys() & in_mo.keys() if in_po[k] != in_mo[k])
    assert not (missing or stale or changed), (
        f"{language}: django.mo is not compiled from django.po "
        f"(run `esante compilemessages`): missing {missing}, stale {stale}, changed {changed}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_placeholder_of_the_source_is_in_the_translation(language: str) -> None:
    problems = []
    for entry in catalogue(language).translated_entries():
        expected = set(PLACEHOLDER.findall(entry.msgid))
        allowed = expected | set(PLACEHOLDER.findall(entry.msgid_plural or ""))
        for translation in translations(entry):
            found = set(PLACEHOLDER.findall(translation))
            # A plural form may drop %(count)d in the singular, never elsewhere.
            expected_here = expected - {"count", "counter"} if entry.msgid_plural else expected
            if not expected_here <= found:
                problems.append(f"{entry.msgid!r}: lacks {sorted(expected_here - found)}")
            if not found <= allowed:
                # An unknown name would raise KeyError when the text is formatted.
                problems.append(f"{entry.msgid!r}: unknown {sorted(found - allowed)}")
    assert not problems, f"{language}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_translation_keeps_the_html_tags_of_the_source(language: str) -> None:
    problems = []
    for entry in catalogue(language).translated_entries():
        expected = Counter(TAG_NAME.findall(entry.msgid))
        for translation in translations(entry):
            if Counter(TAG_NAME.findall(translation)) != expected:
                problems.append(f"{entry.msgid!r} → {translation!r}")
    assert not problems, f"{language}:\n" + "\n".join(problems)


def test_french_counts_0_and_1_in_the_singular() -> None:
    """The source text is French, but gettext's fallback rule is English: the French
    catalogue (`esante french_plurals`) brings every plural message under French's rule."""
    from django.utils import translation

    french = polib.pofile(str(LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.po"))
    plurals = {key(entry) for entry in catalogue("de") if entry.msgid_plural}
    assert {key(entry) for entry in french} == plurals
    assert "plural=(n > 1)" in french.metadata["Plural-Forms"]
    compiled = polib.mofile(str(LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.mo"))
    assert {key(entry) for entry in compiled if entry.msgid} == plurals

    singular, plural = "%(name)s (%(age)s an)", "%(name)s (%(age)s ans)"
    with translation.override("fr"):
        ages = [
            translation.ngettext(singular, plural, n) % {"name": "Léa", "age": n} for n in (0, 1, 2)
        ]
    assert ages == ["Léa (0 an)", "Léa (1 an)", "Léa (2 ans)"]
