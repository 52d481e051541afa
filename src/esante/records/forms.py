"""The forms of the DSP: what is typed, and the French message for each error."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from esante.professionals.models import Professional
from esante.professionals.search import name_words
from esante.records import documents
from esante.records.models import AssistantType, Category, Confidentiality
from esante.registry import matricule as matricule_rules


class CloseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Je confirme vouloir fermer mon DSP."),
        error_messages={"required": _("Cochez la case pour confirmer la fermeture.")},
    )


LATER = "later"  # « Je déciderai plus tard »: nothing stored, asked again at the next login
ANSWERS = [("0", _("Oui, j'accepte")), ("1", _("Non, je refuse"))]


class OrganDonationForm(forms.Form):
    """The plain question; « plus tard » is offered only while no answer is recorded."""

    refuses_removal = forms.ChoiceField(
        label=_("Souhaitez-vous faire don de vos organes après votre décès ?"),
        choices=[*ANSWERS, (LATER, _("Je déciderai plus tard"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez l'une des réponses.")},
    )

    def __init__(self, *args: Any, later: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not later:
            field = self.fields["refuses_removal"]
            if isinstance(field, forms.ChoiceField):
                field.choices = ANSWERS


class CategoryFilterForm(forms.Form):
    categorie = forms.ChoiceField(
        label=_("Catégorie"),
        required=False,
        choices=[("", _("Toutes les catégories")), *Category.choices],
    )


def confidentiality_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Niveau de confidentialité"),
        choices=Confidentiality.choices,
        initial=Confidentiality.NORMAL,
        help_text=_(
            "Normal : visible par les professionnels de santé qui vous soignent. Restreint et "
            "très restreint : réservé à un cercle de plus en plus étroit de professionnels."
        ),
        error_messages={"invalid_choice": _("Choisissez l'un des niveaux proposés.")},
    )


class UploadForm(forms.Form):
    title = forms.CharField(
        label=_("Titre du document"),
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
    confidentiality = confidentiality_field()
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, JPEG ou PNG."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
        error_messages={
            "required": _("Choisissez le fichier à ajouter."),
            "empty": _("Le fichier est vide."),
            "invalid": _("Le fichier n'a pas pu être lu : choisissez-le à nouveau."),
        },
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["file"].help_text = _("PDF, JPEG ou PNG, %(size)s Mo au plus.") % {
            "size": f"{documents.max_bytes() / (1024 * 1024):.0f}"
        }

    def clean_document_date(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["document_date"]
        if value > timezone.localdate():
            raise ValidationError(_("La date du document ne peut pas être dans le futur."))
        if value.year < 1900:
            raise ValidationError(_("Indiquez une date valide, par exemple 2026-03-14."))
        return value

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        try:
            self.content_type = documents.sniff_content_type(upload)
        except documents.UploadRefused as refusal:
            raise ValidationError(refusal.message) from refusal
        return upload


class ConfidentialityForm(forms.Form):
    """The holder may raise a document's level, never lower it below the level its author
    set (`floor`): only the allowed levels are offered."""

    confidentiality = confidentiality_field()

    def __init__(
        self, *args: Any, floor: Confidentiality = Confidentiality.NORMAL, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["confidentiality"]
        if isinstance(field, forms.ChoiceField):
            field.choices = [
                (value, label)
                for value, label in Confidentiality.choices
                if Confidentiality(value).rank >= floor.rank
            ]


class AssistantSearchForm(forms.Form):
    numero = forms.CharField(
        label=_("Numéro assuré"),
        max_length=32,
        help_text=_("Le matricule exact de la personne, 11 ou 13 chiffres."),
        error_messages={"required": _("Saisissez le numéro assuré de la personne.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_numero(self) -> str:
        return matricule_rules.validate(self.cleaned_data["numero"])


class AssistantAddForm(forms.Form):
    candidate = forms.CharField(
        label=_("Nom"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Cliquez sur le nom trouvé pour le choisir.")},
    )
    type = forms.ChoiceField(
        label=_("Type"),
        choices=AssistantType.choices,
        error_messages={
            "required": _("Choisissez le type Assistant DSP."),
            "invalid_choice": _("Choisissez le type Assistant DSP."),
        },
    )
    role = forms.CharField(
        label=_("Rôle"),
        required=False,
        max_length=50,
        help_text=_("Facultatif, par exemple « Mère »."),
    )


# Mes professionnels ----------------------------------------------------------------------


class ProfessionalSearchForm(forms.Form):
    nom = forms.CharField(
        label=_("Nom"),
        max_length=100,
        help_text=_("Le nom du professionnel, ou le nom et le prénom."),
        error_messages={"required": _("Saisissez le nom du professionnel.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    localite = forms.CharField(
        label=_("Localité"),
        max_length=100,
        required=False,
        help_text=_("Facultatif, par exemple Esch-sur-Alzette."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_nom(self) -> str:
        name: str = self.cleaned_data["nom"]
        if sum(len(word) for word in name_words(name)) < 2:
            raise ValidationError(_("Saisissez au moins deux lettres du nom."))
        return name


def professional_choice_label(professional: Professional) -> str:
    return f"{professional.full_name} ({professional.get_profession_display()})"


class NamedProfessionalsForm(forms.Form):
    """The professionals who may read a Restreint document beside its author and the
    médecin référent: among those `choices` (the record's current relationships, and the
    ones named already)."""

    professionnels = forms.TypedMultipleChoiceField(
        label=_("Professionnels nommés"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Choisissez parmi les professionnels proposés."),
            "invalid_list": _("Choisissez parmi les professionnels proposés."),
        },
    )

    def __init__(self, *args: Any, choices: list[Professional], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.professionals = {professional.pk: professional for professional in choices}
        field = self.fields["professionnels"]
        if isinstance(field, forms.ChoiceField):
            field.choices = [
                (pk, professional_choice_label(p)) for pk, p in self.professionals.items()
            ]

    def chosen(self) -> list[Professional]:
        return [self.professionals[pk] for pk in self.cleaned_data["professionnels"]]


class EmergencyAccessForm(forms.Form):
    refuser = forms.ChoiceField(
        choices=[("1", _("Refuser l'accès en urgence")), ("0", _("Autoriser l'accès en urgence"))],
        error_messages={
            "required": _("Choisissez d'autoriser ou de refuser l'accès en urgence."),
            "invalid_choice": _("Choisissez d'autoriser ou de refuser l'accès en urgence."),
        },
    )


class JournalFilterForm(forms.Form):
    """*Historique des accès*: the lines of one professional (among those in the journal)."""

    professionnel = forms.TypedChoiceField(
        label=_("Professionnel"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Choisissez l'un des professionnels de la liste.")},
    )

    def __init__(self, *args: Any, professionals: list[Professional], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["professionnel"]
        if isinstance(field, forms.ChoiceField):
            field.choices = [
                ("", _("Tous les accès")),
                *((p.pk, professional_choice_label(p)) for p in professionals),
            ]
