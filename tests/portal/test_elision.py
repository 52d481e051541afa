"""« le compte d'Emma », « le compte de Zoé »: French elision before a first name."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from esante.portal.elision import NamedSentence, elides


@pytest.mark.parametrize(
    "first_name",
    ["Emma", "Olivier", "Ines", "Inès", "Élise", "Ugo", "Anne-Sophie", "Œlia", " emma "],
)
def test_a_vowel_elides(first_name: str) -> None:
    assert elides(first_name)


@pytest.mark.parametrize("first_name", ["Zoé", "Jules", "Léa", "Jean-Luc", "Wendy", "", "  "])
def test_a_consonant_does_not(first_name: str) -> None:
    assert not elides(first_name)


@pytest.mark.parametrize("first_name", ["Yves", "Yvonne", "Ylan"])
def test_a_y_read_as_a_vowel_elides(first_name: str) -> None:
    assert elides(first_name)


@pytest.mark.parametrize("first_name", ["Yann", "Yasmine", "Yohan", "Y"])
def test_a_y_read_as_a_consonant_does_not(first_name: str) -> None:
    assert not elides(first_name)


@pytest.mark.parametrize("first_name", ["Hugo", "Hélène", "Hervé", "Henri", "Hugo-Alexandre"])
def test_a_mute_h_elides(first_name: str) -> None:
    assert elides(first_name)


@pytest.mark.parametrize("first_name", ["Heidi", "Hans", "Harry", "Helga"])
def test_an_aspirated_h_does_not(first_name: str) -> None:
    assert not elides(first_name)


ACCOUNT = NamedSentence(
    gettext_lazy("Activation du compte eSanté de %(name)s"),
    gettext_lazy("Activation du compte eSanté d'%(name)s"),
)


def test_a_named_sentence_picks_the_french_spelling() -> None:
    with translation.override("fr"):
        assert ACCOUNT("Emma") == "Activation du compte eSanté d'Emma"
        assert ACCOUNT("Zoé") == "Activation du compte eSanté de Zoé"
        assert ACCOUNT("Hugo") == "Activation du compte eSanté d'Hugo"
