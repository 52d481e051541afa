"""The matricule rules: 13 digits with a Luhn and a Verhoeff check digit, legacy 11."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from esante.registry import matricule

# A fixed "today", so that generated dates never depend on the day the tests run.
TODAY = datetime.date(2025, 3, 14)
GUIDE_EXAMPLE = "1918090138700"

birth_dates = st.dates(min_value=datetime.date(1850, 1, 1), max_value=TODAY)
serials = st.integers(min_value=0, max_value=999)


def refusal_code(number: str) -> str:
    with pytest.raises(ValidationError) as refused:
        matricule.validate(number, today=TODAY)
    code = refused.value.code
    assert code is not None
    return code


@given(birth_dates, serials)
def test_every_made_matricule_is_valid(birth: datetime.date, serial: int) -> None:
    number = matricule.make(birth, serial)

    assert len(number) == 13
    assert matricule.validate(number, today=TODAY) == number
    assert matricule.birth_date_of(number, today=TODAY) == birth


@given(birth_dates, serials)
def test_every_single_digit_change_is_refused(birth: datetime.date, serial: int) -> None:
    number = matricule.make(birth, serial)
    for position in range(13):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1 :]
            code = refusal_code(changed)
            # A changed date digit may also make an impossible date; any other change
            # is caught by the check digits.
            expected = {"date", "check_digits"} if position < 8 else {"check_digits"}
            assert code in expected, (number, changed, code)


@given(birth_dates, serials)
def test_every_adjacent_transposition_is_refused(birth: datetime.date, serial: int) -> None:
    number = matricule.make(birth, serial)
    for position in range(12):
        left, right = number[position], number[position + 1]
        if left == right:
            continue  # swapping equal digits changes nothing
        swapped = number[:position] + right + left + number[position + 2 :]
        code = refusal_code(swapped)
        expected = {"date", "check_digits"} if position < 8 else {"check_digits"}
        assert code in expected, (number, swapped, code)


def test_luhn_alone_would_miss_a_transposition_the_verhoeff_digit_catches() -> None:
    # 09 <-> 90 is the transposition Luhn cannot see: the Verhoeff digit must.
    number = matricule.make(datetime.date(1990, 1, 1), 9)  # serial 009
    swapped = number[:9] + "90" + number[11:]
    assert number[9:11] == "09"
    assert matricule.check_digits(number[:11])[0] == matricule.check_digits(swapped[:11])[0]
    assert refusal_code(swapped) == "check_digits"


def test_the_guides_example_is_valid() -> None:
    assert matricule.validate(GUIDE_EXAMPLE) == GUIDE_EXAMPLE
    assert matricule.birth_date_of(GUIDE_EXAMPLE) == datetime.date(1918, 9, 1)


@pytest.mark.parametrize(
    "typed",
    [
        "1918 0901 387 00",
        "  1918090138700  ",
        "19180901\u00a038700",
        "1918\t0901\u202f38700",
    ],
)
def test_spaces_are_tolerated(typed: str) -> None:
    assert matricule.validate(typed) == GUIDE_EXAMPLE


@given(st.integers(min_value=1850, max_value=TODAY.year - 1), serials)
def test_unknown_month_and_day_are_accepted(year: int, serial: int) -> None:
    unknown_day_and_month = f"{year:04d}0000{serial:03d}"
    unknown_day = f"{year:04d}0700{serial:03d}"
    for first_eleven, birth in (
        (unknown_day_and_month, datetime.date(year, 1, 1)),
        (unknown_day, datetime.date(year, 7, 1)),
    ):
        number = first_eleven + matricule.check_digits(first_eleven)
        assert matricule.validate(number, today=TODAY) == number
        assert matricule.birth_date_of(number, today=TODAY) == birth


def test_unknown_month_with_a_known_day_is_refused() -> None:
    first_eleven = "19800015123"
    assert refusal_code(first_eleven + matricule.check_digits(first_eleven)) == "date"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("1918O90138700", "digits"),
        ("١٩١٨٠٩٠١٣٨٧٠٠", "digits"),  # Arabic-Indic digits are digits, not ours
        ("191809013870", "length"),
        ("19180901387001", "length"),
        ("1918090138", "length"),
        ("1918130138700", "date"),  # month 13
        ("1918093138700", "date"),  # 31 September
        ("1849120138700", "date"),  # before any issued number
        ("1918090138701", "check_digits"),
        ("1918090138710", "check_digits"),
    ],
)
def test_each_refusal_names_its_rule(typed: str, code: str) -> None:
    assert refusal_code(typed) == code


def test_length_message_gives_the_count() -> None:
    with pytest.raises(ValidationError) as refused:
        matricule.validate("123456789012")
    assert "12" in refused.value.messages[0]
    assert "11 ou 13" in refused.value.messages[0]


@given(birth_dates, st.integers(min_value=0, max_value=999))
def test_a_legacy_number_passes_on_format_and_date_whatever_its_check_digit(
    birth: datetime.date, last_three: int
) -> None:
    number = f"{birth:%Y%m%d}{last_three:03d}"
    assert matricule.validate(number, today=TODAY) == number
    assert matricule.birth_date_of(number, today=TODAY) == birth


@pytest.mark.parametrize("number", ["19181301387", "19180230123", "19180001123", "21000101123"])
def test_a_legacy_number_with_an_impossible_date_is_refused(number: str) -> None:
    assert refusal_code(number) == "date"


@given(
    st.dates(min_value=TODAY + datetime.timedelta(days=1), max_value=datetime.date(9999, 12, 31))
)
def test_a_future_birth_date_is_refused(birth: datetime.date) -> None:
    assert refusal_code(matricule.make(birth, 123)) == "date"
    assert refusal_code(f"{birth:%Y%m%d}12") == "length"
    assert refusal_code(f"{birth:%Y%m%d}123") == "date"


def test_tomorrow_is_refused_and_today_accepted_by_default() -> None:
    with time_machine.travel(datetime.datetime(2025, 3, 14, 12, tzinfo=datetime.UTC), tick=False):
        assert matricule.is_valid(matricule.make(datetime.date(2025, 3, 14), 1))
        assert not matricule.is_valid(matricule.make(datetime.date(2025, 3, 15), 1))
