"""The rules behind the wizard, one unit test each: passwords, contacts, codes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from esante.accounts.authenticators import contacts
from esante.accounts.authenticators.one_time_codes import normalize_code
from esante.accounts.authenticators.passwords import validate_password
from esante.registry.models import InsuredPerson


def refused(password: str, person: InsuredPerson) -> str:
    with pytest.raises(ValidationError) as error:
        validate_password(password, person)
    return str(error.value.error_list[0].code)


@pytest.mark.django_db
def test_password_rules_each_have_their_own_code(lea: InsuredPerson) -> None:
    birth = lea.birth_date
    assert refused("court1", lea) == "composition"
    assert refused("sanschiffre", lea) == "composition"
    assert refused("12345678", lea) == "composition"
    assert refused("password123", lea) == "common"
    assert refused(f"{lea.matricule}x", lea) == "matricule"
    assert refused("lea-est-la-2024", lea) == "name"  # "Léa", accents folded
    assert refused("MARTIN 2024 ok", lea) == "name"
    assert refused(f"né le {birth:%d.%m.%Y}", lea) == "birth_date"
    assert refused("a1" + "x" * 127, lea) == "too_long"
    validate_password("Trois chats gris 7", lea)
    validate_password("日本語のパスワード2", lea)  # any Unicode letters count as letters


def test_mobile_numbers_default_to_luxembourg() -> None:
    assert contacts.parse_mobile("621 123 456") == "+352621123456"
    assert contacts.parse_mobile("+352 691 000 000") == "+352691000000"
    assert contacts.parse_mobile("+33 6 12 34 56 78") == "+33612345678"
    assert contacts.parse_mobile("0049 151 23456789") == "+4915123456789"


@pytest.mark.parametrize("value", ["", "abc", "12", "+352 27 12 50 18"])
def test_what_is_not_a_mobile_number_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        contacts.parse_mobile(value)


def test_email_addresses_keep_their_local_part_and_lower_the_domain() -> None:
    assert contacts.parse_email(" Alice.Martin@Example.LU ") == "Alice.Martin@example.lu"
    with pytest.raises(ValidationError):
        contacts.parse_email("alice@")


def test_destinations_are_masked_as_the_guide_shows() -> None:
    assert contacts.mask("email", "helpdesk@agence-esante.lu") == "*****@agence-esante.lu"
    assert contacts.mask("sms", "+352621123456") == "+352 *** *** 456"
    assert contacts.mask("sms", "+33612345678") == "+33 *** *** 678"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("123-456", "123456"),
        ("12345", None),
        ("1234567", None),
        ("12345a", None),
        ("١٢٣٤٥٦", None),
    ],
)
def test_one_time_codes_are_six_ascii_digits(typed: str, code: str | None) -> None:
    assert normalize_code(typed) == code
