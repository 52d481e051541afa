"""The public eSanté identifier: 10 digits, random, with a Luhn check digit.

It is what others see of a person (the guide's "D Filat (6393913168)"), so it carries
nothing of the matricule, and its check digit catches a mistyped digit.
"""

from __future__ import annotations

import secrets

from stdnum import luhn


def new_esante_id() -> str:
    body = str(100_000_000 + secrets.randbelow(900_000_000))  # 9 digits, no leading zero
    return body + luhn.calc_check_digit(body)


def is_valid_esante_id(value: str) -> bool:
    return len(value) == 10 and value.isascii() and value.isdigit() and luhn.is_valid(value)
