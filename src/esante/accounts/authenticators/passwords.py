"""The password rules of activation step 2, each refused with its own message.

The guide's rule (at least 8 characters, a letter and a digit) comes first; a blocklist
of common passwords and the person's own data (matricule, names, birth date) follow, as
ASVS and NIST ask. Any Unicode is accepted, up to 128 characters.

The guide's rule is a deviation from ASVS 5.0 (6.2.1 recommends 15 characters, 6.2.5
forbids composition rules): ESANTE_PASSWORD_MIN_LENGTH and
ESANTE_PASSWORD_LETTER_AND_DIGIT=0 remove it (docs/security.md).
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from esante.registry.models import InsuredPerson

MAX_LENGTH = 128
# As the guide prints it.
PASSWORD_RULE = _(
    "Le mot de passe doit faire au minimum 8 caractères, comprendre au moins un caractère "
    "alphabétique et au moins un caractère numérique."
)


def rule_text() -> str:
    """The rule in force, as the password pages and the refusal print it."""
    length = settings.ESANTE_PASSWORD_MIN_LENGTH
    if not settings.ESANTE_PASSWORD_LETTER_AND_DIGIT:
        return _("Le mot de passe doit faire au minimum %(length)s caractères.") % {
            "length": length
        }
    if length == 8:
        return str(PASSWORD_RULE)
    return _(
        "Le mot de passe doit faire au minimum %(length)s caractères, comprendre au moins un "
        "caractère alphabétique et au moins un caractère numérique."
    ) % {"length": length}


def _breaks_rule(password: str) -> bool:
    if len(password) < settings.ESANTE_PASSWORD_MIN_LENGTH:
        return True
    if not settings.ESANTE_PASSWORD_LETTER_AND_DIGIT:
        return False
    return not any(char.isalpha() for char in password) or not any(
        char.isdigit() for char in password
    )


_common_passwords = CommonPasswordValidator()


def _folded(text: str) -> str:
    """Lower case without accents, for comparisons ("Léa" is in "lea2024!")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _birth_date_forms(person: InsuredPerson) -> set[str]:
    date = person.birth_date
    day, month, year = f"{date.day:02d}", f"{date.month:02d}", f"{date.year:04d}"
    return {
        year + month + day,
        day + month + year,
        day + month + year[2:],
        f"{day}/{month}/{year}",
        f"{day}.{month}.{year}",
        f"{day}-{month}-{year}",
        f"{year}-{month}-{day}",
    }


def validate_password(password: str, person: InsuredPerson) -> None:
    """Raise ValidationError with the first rule the password breaks."""
    if len(password) > MAX_LENGTH:
        raise ValidationError(
            _("Le mot de passe ne peut pas dépasser 128 caractères."), code="too_long"
        )
    if _breaks_rule(password):
        raise ValidationError(rule_text(), code="composition")
    try:
        _common_passwords.validate(password)
    except ValidationError:
        raise ValidationError(
            _("Ce mot de passe est trop courant et serait vite deviné. Choisissez-en un autre."),
            code="common",
        ) from None
    folded = _folded(password)
    compact = "".join(char for char in folded if char.isalnum())
    if person.matricule in compact:
        raise ValidationError(
            _("Le mot de passe ne doit pas contenir votre matricule."), code="matricule"
        )
    names = {person.first_name, person.last_name, *person.last_name.replace("-", " ").split()}
    if any(len(name) >= 3 and _folded(name) in folded for name in names):
        raise ValidationError(
            _("Le mot de passe ne doit pas contenir votre nom ou votre prénom."), code="name"
        )
    if any(form in folded for form in _birth_date_forms(person)):
        raise ValidationError(
            _("Le mot de passe ne doit pas contenir votre date de naissance."), code="birth_date"
        )
    ContextWordsValidator().validate(password)


# The service's own words, the first an attacker tries (ASVS 5.0 6.1.2, 6.2.11): refused
# in patients' and staff's passwords, compared without case, accents nor punctuation.
CONTEXT_WORDS = (
    "esante",
    "dsp",
    "dossierdesoinspartage",
    "luxtrust",
    "helpdesk",
    "agenceesante",
    "messervices",
)


class ContextWordsValidator:
    """A Django password validator (AUTH_PASSWORD_VALIDATORS, for staff) that the patients'
    `validate_password` runs too."""

    def validate(self, password: str, user: object = None) -> None:
        compact = "".join(char for char in _folded(password) if char.isalnum())
        if any(word in compact for word in CONTEXT_WORDS):
            raise ValidationError(
                _(
                    "Le mot de passe ne doit pas contenir le nom du service (eSanté, DSP, "
                    "LuxTrust…) : ce sont les premiers mots essayés."
                ),
                code="context_word",
            )

    def get_help_text(self) -> str:
        return str(_("Le mot de passe ne doit pas contenir le nom du service (eSanté, DSP…)."))
