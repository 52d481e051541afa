"""The national identification number (matricule) and its rules.

13 digits: the birth date YYYYMMDD (month or day 00 when unknown), a 3-digit serial,
then a Luhn check digit and a Verhoeff check digit, both over the first 11 digits.
Legacy 11-digit numbers (YYYYMMDD, a 2-digit serial, one check digit issued under
several mod-11 schemes) are checked on format and date only.
"""

from __future__ import annotations

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import luhn, verhoeff

_SEPARATORS = str.maketrans("", "", " \t\u00a0\u202f.-")


def normalize(value: str) -> str:
    """The matricule as typed, without the spaces (and dots or dashes) people put in."""
    return value.translate(_SEPARATORS)


def check_digits(first_eleven: str) -> str:
    return luhn.calc_check_digit(first_eleven) + verhoeff.calc_check_digit(first_eleven)


def validate(value: str, *, today: datetime.date | None = None) -> str:
    """The normalized matricule, or a ValidationError saying which rule failed."""
    number = normalize(value)
    if not number:
        raise ValidationError(_("Veuillez saisir votre matricule."), code="required")
    if not number.isascii() or not number.isdigit():
        raise ValidationError(
            _("Le matricule ne contient que des chiffres (11 ou 13 chiffres)."), code="digits"
        )
    if len(number) not in (11, 13):
        raise ValidationError(
            _("Le matricule compte 11 ou 13 chiffres ; vous en avez saisi %(count)d.")
            % {"count": len(number)},
            code="length",
        )
    if birth_date_of(number, today=today) is None:
        raise ValidationError(
            _("Le matricule ne commence pas par une date de naissance valable (AAAAMMJJ)."),
            code="date",
        )
    if len(number) == 13 and number[11:] != check_digits(number[:11]):
        raise ValidationError(
            _("Les chiffres de contrôle du matricule ne correspondent pas : vérifiez la saisie."),
            code="check_digits",
        )
    return number


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except ValidationError:
        return False
    return True


def birth_date_of(number: str, *, today: datetime.date | None = None) -> datetime.date | None:
    """The birth date the matricule encodes, or None when it encodes no possible date.

    An unknown month or day (00) counts as the first (January, or the 1st), so that the
    age of such a person is never overestimated by more than the unknown part.
    """
    year, month, day = int(number[0:4]), int(number[4:6]), int(number[6:8])
    today = today or timezone.localdate()
    if year < 1850 or month > 12:
        return None
    if month == 0 and day != 0:
        return None  # an unknown month with a known day is not issued
    try:
        date = datetime.date(year, month or 1, day or 1)
    except ValueError:
        return None
    if date > today:
        return None
    return date


def make(birth: datetime.date, serial: int | None = None) -> str:
    """A valid 13-digit matricule for a birth date (demo data and tests)."""
    if serial is None:
        serial = secrets.randbelow(1000)
    first_eleven = f"{birth:%Y%m%d}{serial:03d}"
    return first_eleven + check_digits(first_eleven)
