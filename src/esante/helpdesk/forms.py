"""The helpdesk's forms, with their French messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from esante.accounts.authenticators.one_time_codes import normalize_code
from esante.accounts.forms import one_time_code_error


class StaffLoginForm(forms.Form):
    username = forms.CharField(
        label=_("Identifiant"),
        max_length=150,
        error_messages={"required": _("Saisissez votre identifiant.")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        max_length=128,
        error_messages={"required": _("Saisissez votre mot de passe.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class StaffCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code de votre application d'authentification"),
        max_length=12,
        error_messages={"required": _("Saisissez le code affiché par votre application.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean_code(self) -> str:
        typed = self.cleaned_data["code"]
        code = normalize_code(typed)
        if code is None:
            raise forms.ValidationError(one_time_code_error(typed, app=True, recovery=False))
        return code


class LookupForm(forms.Form):
    q = forms.CharField(
        label=_("Matricule ou identifiant eSanté"),
        max_length=32,
        help_text=_("Le numéro exact : 11 ou 13 chiffres (matricule) ou 10 chiffres (eSanté)."),
        error_messages={"required": _("Saisissez un matricule ou un identifiant eSanté.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_q(self) -> str:
        value = "".join(char for char in self.cleaned_data["q"] if char.isalnum())
        if not value.isdigit() or len(value) not in (10, 11, 13):
            raise forms.ValidationError(
                _("Saisissez 11 ou 13 chiffres (matricule) ou 10 chiffres (identifiant eSanté).")
            )
        return value


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"),
        max_length=500,
        min_length=5,
        help_text=_("Par exemple : « appel du 12/03, courrier perdu ». Il est inscrit au journal."),
        error_messages={
            "required": _("Indiquez le motif de l'action."),
            "min_length": _("Le motif doit compter au moins 5 caractères."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note de l'appel"),
        max_length=2000,
        error_messages={"required": _("Écrivez la note.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StaffPasswordForm(PasswordChangeForm):
    """Django's own change form: the current password, the new one twice, checked by
    AUTH_PASSWORD_VALIDATORS (15 characters, common passwords, the service's words)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name, autocomplete in (
            ("old_password", "current-password"),
            ("new_password1", "new-password"),
            ("new_password2", "new-password"),
        ):
            self.fields[name].widget.attrs["autocomplete"] = autocomplete
            self.fields[name].widget.attrs.pop("autofocus", None)
