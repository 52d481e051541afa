"""Where one-time codes go: mobile numbers (phonenumbers) and e-mail addresses, masked.

The masked form is what every page shows ("*****@agence-esante.lu"), so that a page
never confirms more of an address than its owner already knows.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from esante.accounts.models import CodeChannel

DEFAULT_REGION = "LU"
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def parse_mobile(value: str) -> str:
    """A mobile number in E.164 (+352 by default, other countries in international form)."""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _(
                "Ce numéro de téléphone n'est pas valable. Saisissez un numéro luxembourgeois "
                "(621 123 456) ou un numéro étranger au format international (+33 6 12 34 56 78)."
            ),
            code="invalid",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "Ce numéro de téléphone n'existe pas. Vérifiez le nombre de chiffres et "
                "l'indicatif du pays."
            ),
            code="invalid",
        )
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValidationError(
            _("Ce numéro n'est pas un numéro de téléphone portable : le code est envoyé par SMS."),
            code="not_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_email(value: str) -> str:
    address = value.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(
            _("Cette adresse e-mail n'est pas valable (exemple : prenom.nom@exemple.lu)."),
            code="invalid",
        ) from None
    local, _at, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_destination(channel: str, value: str) -> str:
    return parse_mobile(value) if channel == CodeChannel.SMS else parse_email(value)


def mask(channel: str, destination: str) -> str:
    """ "*****@domaine.lu" for an address, "+352 *** *** 456" for a number."""
    if channel == CodeChannel.TOTP:
        return str(_("votre application d'authentification"))
    if channel == CodeChannel.EMAIL:
        return "*****@" + destination.rpartition("@")[2]
    country_code = phonenumbers.parse(destination).country_code
    return f"+{country_code} *** *** {destination[-3:]}"
