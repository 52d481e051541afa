"""The professional's national code: the provider code the CNS assigns (« code
prestataire »; for physicians and dentists « code médecin », « code médecin-dentiste »).

What is published: the CNS gives every provider an individual code before they may work
under a convention (cns.public.lu, « Procédure d'attribution du code prestataire », one
page per profession; the convention with the AMMD, art. 4: « les médecins (et
médecins-dentistes) se font attribuer par la Caisse nationale de santé un code médecin
(ou médecin-dentiste) individuel »). Neither the code's structure nor a check digit is
published there, nor in any public source we found (searched December 2026: the CNS's
pages for each profession, its conventions and the cahiers des charges on legilux.lu).

So this module checks no check digit and invents none. It checks only what the register
needs to tell codes apart and to catch the plainest slips (a name, a matricule or an
empty cell in the code's column): the code is ASCII digits, from MIN_DIGITS to MAX_DIGITS
of them, once the separators people write (spaces, dots, dashes, slashes) are removed.
Those bounds are the platform's own assumption, not a CNS rule: tighten them here, and
add the check digit, once the CNS's specification of the code is at hand.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MIN_DIGITS = 6
MAX_DIGITS = 10

_SEPARATORS = str.maketrans("", "", " \t\u00a0\u202f.-/")


def normalize(value: str) -> str:
    """The code as written, without the separators people put in."""
    return value.translate(_SEPARATORS)


def validate(value: str) -> str:
    """The normalized national code, or a ValidationError saying what is wrong."""
    code = normalize(value)
    if not code:
        raise ValidationError(_("Le code national est vide."), code="required")
    if not (code.isascii() and code.isdigit() and MIN_DIGITS <= len(code) <= MAX_DIGITS):
        raise ValidationError(
            _(
                "Le code national « %(value)s » n'a pas la forme attendue : de %(min)d à "
                "%(max)d chiffres."
            ),
            code="format",
            params={"value": value.strip(), "min": MIN_DIGITS, "max": MAX_DIGITS},
        )
    return code
