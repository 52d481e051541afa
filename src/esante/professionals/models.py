"""The health professionals' register (FHIR: a Practitioner with the national code as
identifier, and a PractitionerRole for the profession, specialty and practice)."""

from __future__ import annotations

import unicodedata
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def folded(text: str) -> str:
    """`text` without accents, case, surrounding spaces nor inner spaces: "Médecin
    dentiste" and "medecin-dentiste" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "-".join(bare.replace("-", " ").split())


class Profession(models.TextChoices):
    """The regulated health professions whose members the CNS gives a provider code
    under a convention (cns.public.lu, *Professionnels de santé*: one page per
    profession). What a professional may do later depends on it (emergency access is for
    physicians and dentists), not on the specialty."""

    PHYSICIAN = "medecin", _("Médecin")
    DENTIST = "medecin-dentiste", _("Médecin-dentiste")
    PHARMACIST = "pharmacien", _("Pharmacien")
    LABORATORY = "laboratoire", _("Laboratoire d'analyses médicales")
    NURSE = "infirmier", _("Infirmier")
    MIDWIFE = "sage-femme", _("Sage-femme")
    PHYSIOTHERAPIST = "kinesitherapeute", _("Kinésithérapeute")
    PSYCHOTHERAPIST = "psychotherapeute", _("Psychothérapeute")
    SPEECH_THERAPIST = "orthophoniste", _("Orthophoniste")
    OCCUPATIONAL_THERAPIST = "ergotherapeute", _("Ergothérapeute")
    DIETITIAN = "dieteticien", _("Diététicien")
    PSYCHOMOTOR_THERAPIST = "psychomotricien", _("Psychomotricien")
    ORTHOPTIST = "orthoptiste", _("Orthoptiste")

    @classmethod
    def parse(cls, text: str) -> Profession | None:
        """The profession written `text` in a file: its value or its French name, with
        or without accents, in any case; None when it is none of them."""
        return _PROFESSIONS_BY_FOLDED_NAME.get(folded(text))


_PROFESSIONS_BY_FOLDED_NAME = {
    **{folded(str(profession.label)): profession for profession in Profession},
    **{profession.value: profession for profession in Profession},
}


class Professional(models.Model):
    """A health professional, or a laboratory, as the CNS lists its providers.

    The specialty is free text, as the CNS's list writes it (« Médecin spécialiste en
    cardiologie »): the specialties are many, change with the regulations, and no rule of
    the platform depends on them (the rules read the profession), so an import never
    refuses a row for a specialty it does not know yet.
    """

    national_code = models.CharField(_("code national"), max_length=16, unique=True)
    # The identifier the platform gives away (the `fhirUser` claim, the FHIR API's
    # Practitioner id): opaque, never the national code.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    last_name = models.CharField(_("nom"), max_length=100)
    # Empty for a laboratory, which the CNS lists under its name alone.
    first_name = models.CharField(_("prénom"), max_length=100, blank=True)
    profession = models.CharField(_("profession"), max_length=32, choices=Profession.choices)
    specialty = models.CharField(_("spécialité"), max_length=100, blank=True)
    practice_name = models.CharField(_("nom du cabinet"), max_length=200, blank=True)
    address_line1 = models.CharField(_("adresse"), max_length=200)
    address_line2 = models.CharField(_("complément d'adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=16)
    locality = models.CharField(_("localité"), max_length=100)
    country = models.CharField(_("pays"), max_length=2, default="LU")
    # A professional who stops practising is made inactive by the next import, never
    # deleted: documents and journal lines keep naming them.
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("professionnel de santé")
        verbose_name_plural = _("professionnels de santé")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_physician(self) -> bool:
        """Médecin or médecin-dentiste: who may open a record in an emergency, be a
        médecin référent, and read the organ-donation declaration."""
        return self.profession in PHYSICIANS


PHYSICIANS = frozenset([Profession.PHYSICIAN, Profession.DENTIST])
