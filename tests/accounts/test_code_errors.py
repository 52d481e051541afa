"""What a malformed code's error says: the characters codes never contain, by name and
each once in the order typed, or else how many characters were typed (spaces and dashes
apart)."""

from __future__ import annotations

from esante.accounts.forms import activation_code_error, one_time_code_error
from esante.helpdesk.forms import StaffCodeForm


def test_activation_code_names_each_wrong_character_once_in_typed_order() -> None:
    assert activation_code_error("ko1o-i0") == (
        "Le code ne contient jamais les caractères O, 1, I, 0 : vérifiez votre courrier."
    )


def test_activation_code_names_a_single_wrong_character_in_the_singular() -> None:
    assert activation_code_error("K7QM-4XPA-9TRS") == (
        "Le code ne contient jamais le caractère S : vérifiez votre courrier."
    )


def test_activation_code_length_counts_without_spaces_and_dashes() -> None:
    assert "vous en avez saisi 13 :" in activation_code_error("K7QM 4XPA–9TRE-3")


def test_received_code_names_the_letters_typed() -> None:
    assert one_time_code_error("1a2b3a") == (
        "Le code ne contient que des chiffres, jamais les caractères A, B : vérifiez votre saisie."
    )


def test_received_code_length_counts_without_spaces_and_dashes() -> None:
    assert one_time_code_error("123-45 67") == (
        "Le code reçu compte 6 chiffres ; vous en avez saisi 7 : vérifiez votre saisie."
    )


def test_app_code_accepts_recovery_letters_and_names_o_and_i() -> None:
    assert one_time_code_error("ABCD-EFGO-HI", app=True) == (
        "Le code ne contient jamais les caractères O, I : vérifiez votre saisie."
    )
    assert one_time_code_error("ABCD-EFGH", app=True) == (
        "Un code de secours compte 10 caractères ; vous en avez saisi 8."
    )


def test_helpdesk_code_names_the_letters_typed() -> None:
    form = StaffCodeForm(data={"code": "12x 456"})

    assert not form.is_valid()
    assert form.errors["code"] == [
        "Le code ne contient que des chiffres, jamais le caractère X : vérifiez votre saisie."
    ]
