"""The forms of the activation wizard: what is typed, and the French message for each error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from esante.accounts.authenticators import contacts, totp
from esante.accounts.authenticators.one_time_codes import (
    CODE_DIGITS,
    foreign_characters,
    normalize_code,
    typed_characters,
)
from esante.accounts.authenticators.passwords import MAX_LENGTH, validate_password
from esante.accounts.child_wording import child_wording
from esante.accounts.models import CodeChannel
from esante.portal.captcha import CaptchaField
from esante.registry import letters
from esante.registry import matricule as matricule_rules
from esante.registry.models import InsuredPerson

DIGITS = "0123456789"

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


class CguForm(forms.Form):
    accept_cgu = forms.BooleanField(
        label=_("En cochant cette case, j'accepte les Conditions Générales d'Utilisation."),
        error_messages={
            "required": _(
                "Pour activer votre compte, cochez la case qui accepte les Conditions "
                "Générales d'Utilisation."
            )
        },
    )


def matricule_field(autocomplete: str = "off") -> forms.CharField:
    """The matricule; `autocomplete="username"` where it is the login's identifier."""
    return forms.CharField(
        label=_("Matricule"),
        max_length=32,  # 13 digits and the spaces people put in
        help_text=_("11 ou 13 chiffres, imprimés sur votre courrier et votre carte CNS."),
        error_messages={"required": _("Saisissez votre matricule.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": autocomplete}),
    )


def current_password_field() -> forms.CharField:
    """The password typed again in *Mon compte*, before a sensitive change."""
    return forms.CharField(
        label=_("Mot de passe actuel"),
        strip=False,
        max_length=MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe actuel.")},
    )


def clean_matricule(value: str) -> str:
    return matricule_rules.validate(value)


class ActivationCodeForm(forms.Form):
    matricule = matricule_field()
    code = forms.CharField(
        label=_("Code d'activation"),
        max_length=30,
        help_text=_("12 lettres et chiffres, par exemple K7QM-4XPA-9TRE."),
        error_messages={"required": _("Saisissez le code d'activation de votre courrier.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    captcha = CaptchaField()

    def clean_matricule(self) -> str:
        return clean_matricule(self.cleaned_data["matricule"])

    def clean_code(self) -> str:
        typed = self.cleaned_data["code"]
        code = letters.normalize_code(typed)
        if code is None:
            raise ValidationError(activation_code_error(typed), code="malformed")
        return code


def activation_code_error(typed: str) -> str:
    """Why what was typed cannot be an activation code: the characters that codes never
    contain, by name, or else how many characters were typed (spaces and dashes apart)."""
    if wrong := letters.foreign_symbols(typed):
        return ngettext(
            "Le code ne contient jamais le caractère %(characters)s : vérifiez votre courrier.",
            "Le code ne contient jamais les caractères %(characters)s : vérifiez votre courrier.",
            len(wrong),
        ) % {"characters": ", ".join(wrong)}
    count = len(letters.typed_symbols(typed))
    return ngettext(
        "Le code d'activation compte 12 caractères (par exemple K7QM-4XPA-9TRE) ; vous en "
        "avez saisi %(count)d : vérifiez votre courrier.",
        "Le code d'activation compte 12 caractères (par exemple K7QM-4XPA-9TRE) ; vous en "
        "avez saisi %(count)d : vérifiez votre courrier.",
        count,
    ) % {"count": count}


class NewLetterForm(forms.Form):
    matricule = matricule_field()
    captcha = CaptchaField()

    def clean_matricule(self) -> str:
        return clean_matricule(self.cleaned_data["matricule"])


class PasswordForm(forms.Form):
    """Step 2. When a password was already chosen (the visitor came back with *Etape
    précédente*), leaving both fields empty keeps it."""

    password1 = forms.CharField(
        label=_("Votre mot de passe"),
        strip=False,
        max_length=MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={
            "required": _("Choisissez un mot de passe."),
            "max_length": _("Le mot de passe ne peut pas dépasser 128 caractères."),
        },
    )
    password2 = forms.CharField(
        label=_("Confirmation de votre mot de passe"),
        strip=False,
        max_length=MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={
            "required": _("Saisissez une seconde fois votre mot de passe."),
            "max_length": _("Le mot de passe ne peut pas dépasser 128 caractères."),
        },
    )

    def __init__(
        self,
        *args: Any,
        person: InsuredPerson,
        has_password: bool,
        for_child: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.person = person
        self.has_password = has_password
        # A parent choosing a minor's password: the labels and errors name the child.
        self.child = child_wording(person) if for_child else None
        if self.child is not None:
            self.fields["password1"].label = self.child["password"]
            self.fields["password2"].label = self.child["password_confirmation"]
            self.fields["password2"].error_messages["required"] = self.child["password_again"]
        if has_password:
            self.fields["password1"].required = False
            self.fields["password2"].required = False

    def clean_password1(self) -> str:
        password: str = self.cleaned_data["password1"]
        if password:
            try:
                validate_password(password, self.person)
            except ValidationError as error:
                key = f"password_has_{error.code}"
                if self.child is not None and key in self.child:
                    raise ValidationError(self.child[key], code=error.code) from None
                raise
        return password

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if "password1" not in self.errors and first != second:
            if self.has_password and not first:
                self.add_error("password1", _("Saisissez votre nouveau mot de passe."))
            else:
                self.add_error(
                    "password2",
                    _("Les deux mots de passe ne sont pas identiques. Saisissez-les à nouveau."),
                )
        return cleaned

    @property
    def keeps_password(self) -> bool:
        return self.has_password and not self.cleaned_data.get("password1")


def choose_among(labels: list[str]) -> str:
    """« Choisissez Mobile, E-mail ou Application d'authentification. », naming only the
    channels offered (ESANTE_CODE_CHANNELS)."""
    if len(labels) == 1:
        return gettext("Choisissez %(channel)s.") % {"channel": labels[0]}
    # Translators: %(channels)s: channels separated by commas; %(last)s: the last channel.
    pattern = gettext("Choisissez %(channels)s ou %(last)s.")
    return pattern % {"channels": ", ".join(labels[:-1]), "last": labels[-1]}


class ContactForm(forms.Form):
    """Step 3: where the one-time code goes. Both inputs are on the page (the choice
    only hides one with JavaScript); the chosen one is required."""

    channel = forms.ChoiceField(
        label=_("Code à usage unique à recevoir par"),
        choices=CodeChannel.choices,
        initial=CodeChannel.SMS,
        widget=forms.RadioSelect,
    )
    mobile = forms.CharField(
        label=_("Mobile"),
        required=False,
        max_length=30,
        help_text=_("Un numéro luxembourgeois (621 123 456) ou étranger (+33 6 12 34 56 78)."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.CharField(
        label=_("E-mail"),
        required=False,
        max_length=254,
        help_text=_("Votre adresse e-mail personnelle."),
        widget=forms.TextInput(
            attrs={"type": "email", "autocomplete": "email", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args: Any, app_secret: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The app's sealed secret already shown in this flow, kept if the app is chosen
        # again (the person may have scanned it already).
        self.app_secret = app_secret
        # Only the channels the agency allows (ESANTE_CODE_CHANNELS): another is refused.
        self.allowed = [
            value for value, _label in CodeChannel.choices if value in settings.ESANTE_CODE_CHANNELS
        ]
        channel = cast(forms.ChoiceField, self.fields["channel"])
        channel.choices = [each for each in CodeChannel.choices if each[0] in self.allowed]
        channel.initial = CodeChannel.SMS if CodeChannel.SMS in self.allowed else self.allowed[0]
        channel.error_messages["required"] = choose_among(
            [str(label) for value, label in CodeChannel.choices if value in self.allowed]
        )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        channel = cleaned.get("channel")
        if channel == CodeChannel.TOTP:
            cleaned["destination"] = self.app_secret or totp.seal(totp.new_secret())
        elif channel == CodeChannel.SMS:
            self._destination(
                "mobile", contacts.parse_mobile, _("Saisissez votre numéro de mobile.")
            )
        elif channel == CodeChannel.EMAIL:
            self._destination("email", contacts.parse_email, _("Saisissez votre adresse e-mail."))
        return cleaned

    def _destination(self, name: str, parse: Any, missing: _StrPromise) -> None:
        value = self.cleaned_data.get(name, "").strip()
        if not value:
            self.add_error(name, missing)
            return
        try:
            self.cleaned_data["destination"] = parse(value)
        except ValidationError as error:
            self.add_error(name, error)


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code reçu par SMS ou par E-mail"),
        max_length=20,
        error_messages={"required": _("Saisissez le code reçu par SMS ou par e-mail.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": CODE_DIGITS}
        ),
    )

    def __init__(self, *args: Any, channel: str = "", allow_recovery: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # "any": a page that must not tell which channel the account uses (recovery).
        self.app = channel in (CodeChannel.TOTP, "any")
        # A recovery code stands in for the app at login, never to confirm one's identity
        # before changing a factor (esante.accounts.reauth).
        self.allow_recovery = allow_recovery
        if channel == "any":
            self.fields["code"].label = _("Code reçu, ou affiché par votre application")
        elif self.app:
            field = self.fields["code"]
            field.label = _("Code affiché par votre application d'authentification")
            field.help_text = (
                _("6 chiffres ; ou, sans votre application, un code de secours.")
                if allow_recovery
                else _("6 chiffres.")
            )
            field.error_messages["required"] = _("Saisissez le code affiché par votre application.")

    def clean_code(self) -> str:
        typed: str = self.cleaned_data["code"]
        code = normalize_code(typed)
        if code is not None:
            return code
        if self.app and totp.normalize_recovery(typed) is not None:
            if not self.allow_recovery:
                raise ValidationError(
                    _(
                        "Un code de secours ne suffit pas pour confirmer votre identité : "
                        "saisissez le code à 6 chiffres affiché par votre application."
                    ),
                    code="recovery_refused",
                )
            return typed
        raise ValidationError(
            one_time_code_error(typed, app=self.app, recovery=self.allow_recovery),
            code="malformed",
        )


def one_time_code_error(typed: str, *, app: bool = False, recovery: bool = True) -> str:
    """Why what was typed cannot be a one-time code: the characters that such codes never
    contain, by name, or else how many characters were typed (spaces and dashes apart).
    `app`: a code of the authenticator app, or (`recovery`) a recovery code."""
    recovery = app and recovery
    alphabet = DIGITS + totp.RECOVERY_ALPHABET if recovery else DIGITS
    if wrong := foreign_characters(typed, alphabet):
        characters = ", ".join(wrong)
        if recovery:
            return ngettext(
                "Le code ne contient jamais le caractère %(characters)s : vérifiez votre saisie.",
                "Le code ne contient jamais les caractères %(characters)s : vérifiez votre saisie.",
                len(wrong),
            ) % {"characters": characters}
        return ngettext(
            "Le code ne contient que des chiffres, jamais le caractère %(characters)s : "
            "vérifiez votre saisie.",
            "Le code ne contient que des chiffres, jamais les caractères %(characters)s : "
            "vérifiez votre saisie.",
            len(wrong),
        ) % {"characters": characters}
    text = typed_characters(typed)
    count = len(text)
    if recovery and not text.isdigit():
        message = ngettext(
            "Un code de secours compte 10 caractères ; vous en avez saisi %(count)d.",
            "Un code de secours compte 10 caractères ; vous en avez saisi %(count)d.",
            count,
        )
    elif app:
        message = ngettext(
            "Le code compte 6 chiffres ; vous en avez saisi %(count)d : vérifiez votre saisie.",
            "Le code compte 6 chiffres ; vous en avez saisi %(count)d : vérifiez votre saisie.",
            count,
        )
    else:
        message = ngettext(
            "Le code reçu compte 6 chiffres ; vous en avez saisi %(count)d : vérifiez votre "
            "saisie.",
            "Le code reçu compte 6 chiffres ; vous en avez saisi %(count)d : vérifiez votre "
            "saisie.",
            count,
        )
    return message % {"count": count}


class LoginForm(forms.Form):
    """*Matricule, mot de passe et code*, first page. The captcha is added after 3
    failures from the visitor's address or on the matricule typed."""

    # WCAG 1.3.5: the browser and password managers fill in the matricule with the password.
    matricule = matricule_field(autocomplete="username")
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        max_length=MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe.")},
    )

    def __init__(self, *args: Any, with_captcha: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if with_captcha:
            self.fields["captcha"] = CaptchaField()

    def clean_matricule(self) -> str:
        return clean_matricule(self.cleaned_data["matricule"])


class CurrentPasswordForm(PasswordForm):
    """*Mon compte* → change the password: the current one, then the new one twice."""

    current = current_password_field()
    field_order = ["current", "password1", "password2"]

    def __init__(self, *args: Any, person: InsuredPerson, **kwargs: Any):
        super().__init__(*args, person=person, has_password=False, **kwargs)
        self.fields["password1"].label = _("Nouveau mot de passe")
        self.fields["password2"].label = _("Confirmation du nouveau mot de passe")


class ReauthenticationForm(forms.Form):
    """A sensitive change in *Mon compte* (unlinking a provider): the password again."""

    current = current_password_field()


class ContactChangeForm(ContactForm):
    """*Mon compte*: a new code channel, after the password again (ASVS 5.0 7.5.1: a stolen
    session must not move the second factor to the thief's phone)."""

    current = current_password_field()
    field_order = ["current", "channel", "mobile", "email"]
