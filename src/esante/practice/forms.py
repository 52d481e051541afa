"""The forms of a professional's side of the DSP: declaring a care relationship, an
emergency access, and the documents they write. What is typed, and the French message
for each error."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from esante.records import documents
from esante.records.models import Category, Confidentiality
from esante.registry import matricule as matricule_rules


def matricule_field() -> forms.CharField:
    """The patient's matricule, checked as the patients' forms check theirs."""
    return forms.CharField(
        label=_("Numéro d'identification"),
        max_length=32,  # 13 digits and the spaces people put in
        help_text=_("Les 13 chiffres du matricule, imprimés sur la carte CNS du patient."),
        error_messages={"required": _("Saisissez le numéro d'identification du patient.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


def last_name_field() -> forms.CharField:
    return forms.CharField(
        label=_("Nom du patient"),
        max_length=100,
        help_text=_("Son nom de famille, tel qu'il figure sur sa carte CNS."),
        error_messages={"required": _("Saisissez le nom du patient.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class PatientForm(forms.Form):
    """Who the patient in front of the professional is."""

    matricule = matricule_field()
    last_name = last_name_field()

    def clean_matricule(self) -> str:
        return matricule_rules.validate(self.cleaned_data["matricule"])


class DeclareForm(PatientForm):
    reason = forms.CharField(
        label=_("Motif"),
        max_length=300,
        help_text=_("En quelques mots, par exemple « consultation de suivi »."),
        error_messages={"required": _("Indiquez le motif de la relation de soins.")},
    )


class EmergencyForm(PatientForm):
    reason = forms.CharField(
        label=_("Motif de l'urgence"),
        max_length=500,
        help_text=_("Décrivez la situation : ce motif est lu par l'Agence eSanté."),
        error_messages={"required": _("Décrivez l'urgence.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_(
            "Je confirme qu'il s'agit d'une urgence réelle. Je sais que cet accès est signalé "
            "au patient et vérifié par l'Agence eSanté."
        ),
        error_messages={"required": _("Cochez la case pour confirmer l'urgence.")},
    )


def professional_confidentiality_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Niveau de confidentialité"),
        choices=Confidentiality.choices,
        initial=Confidentiality.NORMAL,
        help_text=_(
            "Normal : visible par les professionnels qui ont accès au dossier. Restreint : "
            "vous, le médecin référent et les professionnels que le patient a nommés. Très "
            "restreint : vous seul. Le patient voit toujours ses documents."
        ),
        error_messages={
            "required": _("Choisissez l'un des niveaux proposés."),
            "invalid_choice": _("Choisissez l'un des niveaux proposés."),
        },
    )


PROFESSIONAL_CATEGORIES = [
    (value, label) for value, label in Category.choices if value != Category.PATIENT
]


class ProfessionalDocumentForm(forms.Form):
    """A new version of a document the professional wrote: its file, title, date and
    level (the category stays)."""

    file = forms.FileField(
        label=_("Fichier PDF"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
        error_messages={
            "required": _("Choisissez le fichier PDF à ajouter."),
            "empty": _("Le fichier est vide."),
            "invalid": _("Le fichier n'a pas pu être lu : choisissez-le à nouveau."),
        },
    )
    title = forms.CharField(
        label=_("Titre"),
        max_length=200,
        error_messages={"required": _("Donnez un titre au document.")},
    )
    document_date = forms.DateField(
        label=_("Date du document"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Indiquez la date du document."),
            "invalid": _("Indiquez une date valide, par exemple 2026-03-14."),
        },
    )
    confidentiality = professional_confidentiality_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PDF uniquement, %(size)s Mo au plus.") % {
            "size": f"{documents.max_bytes() / (1024 * 1024):.0f}"
        }

    def clean_document_date(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["document_date"]
        if value > timezone.localdate():
            raise ValidationError(_("La date du document ne peut pas être dans le futur."))
        if value.year < 1900:
            raise ValidationError(_("Indiquez une date valide, par exemple 2026-03-14."))
        return value


class AddDocumentForm(ProfessionalDocumentForm):
    category = forms.ChoiceField(
        label=_("Catégorie"),
        choices=[("", _("Choisissez une catégorie")), *PROFESSIONAL_CATEGORIES],
        error_messages={
            "required": _("Choisissez la catégorie du document."),
            "invalid_choice": _("Choisissez l'une des catégories proposées."),
        },
    )

    field_order = ["file", "category", "title", "document_date", "confidentiality"]


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Je confirme vouloir retirer ce document du DSP."),
        error_messages={"required": _("Cochez la case pour confirmer le retrait.")},
    )
