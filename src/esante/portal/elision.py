"""French elision before a first name: « le compte d'Emma », « le compte de Jules ».

French writes « de » as « d' » before a vowel sound: a vowel (Emma, Inès, Olivier), a Y
read as a vowel (Yves, but « de Yann »), a mute h (Hugo, Hélène, but « de Heidi », whose h
is aspirated). German and English have their own genitive (Emmas Konto, Emma's account),
so a sentence naming someone is two whole msgids, one for each French spelling, which
translators give the same translation; `NamedSentence` picks the right one.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.utils.functional import Promise

VOWELS = frozenset("aeiouàâäéèêëîïôöùûüœæ")
ACCENTED_VOWELS = VOWELS - frozenset("aeiou")
# First names whose h is mute in French; the others (Hans, Heidi, Harry…, mostly Germanic
# or English) keep « de ». An accented vowel after the h (Hélène, Hervé) marks a French
# name, whose h is mute too.
MUTE_H_NAMES = frozenset(
    {
        "hadrien",
        "hector",
        "henri",
        "henriette",
        "hermine",
        "hervé",
        "hilaire",
        "hippolyte",
        "honoré",
        "honorine",
        "horace",
        "hortense",
        "hubert",
        "hugo",
        "hyacinthe",
    }
)


def elides(first_name: str) -> bool:
    """Whether French writes « d' » rather than « de » before `first_name`."""
    name = unicodedata.normalize("NFC", first_name.strip()).casefold()
    if not name:
        return False
    first, rest = name[0], name[1:]
    if first in VOWELS:
        return True
    if first == "y":
        # A vowel in Yves and Yvonne; a consonant in Yann, Yasmine, Yohan.
        return bool(rest) and rest[0] not in VOWELS
    if first == "h":
        given = name.replace(" ", "-").split("-")[0]
        return given in MUTE_H_NAMES or (bool(rest) and rest[0] in ACCENTED_VOWELS)
    return False


@dataclass(frozen=True)
class NamedSentence:
    """A sentence naming a person after « de » (%(name)s), in its two French spellings."""

    before_consonant: str | Promise  # « … de %(name)s … »
    before_vowel: str | Promise  # « … d'%(name)s … »

    def __call__(self, first_name: str, **values: object) -> str:
        chosen = self.before_vowel if elides(first_name) else self.before_consonant
        return str(chosen) % {"name": first_name, **values}
