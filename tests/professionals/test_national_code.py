"""The professional's national code: the CNS's provider code, format only (no check digit
is published: esante/professionals/national_code.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from esante.professionals import national_code


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("12345678", "12345678"),
        (" 123456-78 ", "12345678"),
        ("1234 5678", "12345678"),
        ("12.34.56.78", "12345678"),
        ("123456/78", "12345678"),
        ("123456", "123456"),
        ("1234567890", "1234567890"),
    ],
)
def test_a_code_of_6_to_10_digits_is_valid_with_its_separators_removed(
    written: str, code: str
) -> None:
    assert national_code.validate(written) == code


@pytest.mark.parametrize(
    "written",
    [
        "12345",  # too short
        "12345678901",  # too long
        "1980051712345",  # a matricule in the wrong column
        "1234567A",  # a letter
        "Dupont",
        "١٢٣٤٥٦٧٨",  # digits, but not ASCII ones
        "1234_5678",  # not a separator people write
    ],
)
def test_a_code_of_another_form_is_refused_with_the_expected_form(written: str) -> None:
    with pytest.raises(ValidationError) as refused:
        national_code.validate(written)

    assert refused.value.code == "format"
    assert refused.value.messages == [
        f"Le code national « {written} » n'a pas la forme attendue : de 6 à 10 chiffres."
    ]


@pytest.mark.parametrize("written", ["", "   ", " - "])
def test_an_empty_code_is_refused(written: str) -> None:
    with pytest.raises(ValidationError) as refused:
        national_code.validate(written)

    assert refused.value.messages == ["Le code national est vide."]


def test_no_check_digit_is_checked_since_none_is_published() -> None:
    # Any last digit passes: the platform invents no algorithm the CNS has not published.
    assert {national_code.validate(f"1234567{digit}") for digit in range(10)} == {
        f"1234567{digit}" for digit in range(10)
    }
