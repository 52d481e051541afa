"""The insured-person registry and the activation letters sent to its people."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAJORITY_AGE = 18


def born_on_or_before(day: datetime.date) -> datetime.date:
    """The latest birth date of someone who is 18 on `day`: `birth_date <= it` is the
    database's `not is_minor` (a 29 February birth comes of age on 1 March)."""
    try:
        return day.replace(year=day.year - MAJORITY_AGE)
    except ValueError:  # 29 February
        return datetime.date(day.year - MAJORITY_AGE, 2, 28)


class Sex(models.TextChoices):
    FEMALE = "F", _("Féminin")
    MALE = "M", _("Masculin")
    OTHER = "X", _("Autre")


class Language(models.TextChoices):
    """The languages of the portal, and of a person's letters, e-mails and SMS."""

    FRENCH = "fr", _("Français")
    GERMAN = "de", _("Deutsch")
    ENGLISH = "en", _("English")

    @classmethod
    def of(cls, code: str | None) -> Language:
        """The language of a code such as Django's active language ("de", "en-us"):
        French, the agency's language, for a code the portal does not speak."""
        primary = (code or "").lower().split("-")[0]
        return cls(primary) if primary in cls.values else cls.FRENCH


class InsuredPerson(models.Model):
    """A person of the national insurance feed (FHIR: Patient, matricule as identifier)."""

    matricule = models.CharField(_("matricule"), max_length=13, unique=True)
    # Public identifier shown to others (the guide's "D Filat (6393913168)"): never the
    # matricule, which encodes the birth date.
    esante_id = models.CharField(_("identifiant eSanté"), max_length=10, unique=True)
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    birth_date = models.DateField(_("date de naissance"))
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices, blank=True)
    address_line1 = models.CharField(_("adresse"), max_length=200)
    address_line2 = models.CharField(_("complément d'adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=16)
    locality = models.CharField(_("localité"), max_length=100)
    country = models.CharField(_("pays"), max_length=2, default="LU")
    date_of_death = models.DateField(_("date de décès"), null=True, blank=True)
    # The language of the first activation letter, from the feed's optional column; once
    # the person has an account, the account's language is the one used.
    language = models.CharField(
        _("langue"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("personne assurée")
        verbose_name_plural = _("personnes assurées")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def public_label(self) -> str:
        """How others see this person: first-name initial, surname, eSanté identifier."""
        return f"{self.first_name[:1]} {self.last_name} ({self.esante_id})"

    def age(self, on: datetime.date | None = None) -> int:
        on = on or timezone.localdate()
        before_birthday = (on.month, on.day) < (self.birth_date.month, self.birth_date.day)
        return on.year - self.birth_date.year - before_birthday

    @property
    def is_minor(self) -> bool:
        return self.age() < MAJORITY_AGE

    @property
    def postal_lines(self) -> list[str]:
        lines = [self.address_line1, self.address_line2, f"{self.postal_code} {self.locality}"]
        if self.country != "LU":
            lines.append(self.country)
        return [line for line in lines if line.strip()]


class LetterBatch(models.Model):
    """One print run: a PDF of letters, one page each, handed to the post together."""

    created_at = models.DateTimeField(default=timezone.now)
    letter_count = models.PositiveIntegerField(default=0)
    # Name in the private "letters" storage; the file holds codes in clear.
    pdf_name = models.CharField(max_length=200, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # When the PDF was deleted (once posted, or ESANTE_LETTER_BATCH_DAYS after it was
    # made): the row stays, for the letters' history, the file does not.
    pdf_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lot de courriers")
        verbose_name_plural = _("lots de courriers")

    def __str__(self) -> str:
        return f"Lot {self.pk} ({self.letter_count})"


class ActivationLetterQuerySet(models.QuerySet["ActivationLetter"]):
    def usable(self, now: datetime.datetime | None = None) -> ActivationLetterQuerySet:
        """Letters whose code can still activate an account: printed, unused, unexpired."""
        now = now or timezone.now()
        return self.filter(
            batch__isnull=False,
            used_at__isnull=True,
            voided_at__isnull=True,
            locked_at__isnull=True,
            expires_at__gt=now,
        )


class ActivationLetter(models.Model):
    """A letter carrying one activation code; only the code's keyed hash is stored."""

    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="letters")
    code_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # A letter is part of the post only once its batch PDF is written; until then its
    # code exists nowhere and the letter cannot be used.
    batch = models.ForeignKey(
        LetterBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="letters"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)

    objects = ActivationLetterQuerySet.as_manager()

    class Meta:
        verbose_name = _("courrier d'activation")
        verbose_name_plural = _("courriers d'activation")
        indexes = [models.Index(fields=["person", "-issued_at"])]

    def __str__(self) -> str:
        return f"Courrier {self.pk} ({self.person_id})"


class LetterRequest(models.Model):
    """A request for a new activation letter by post (activation step 1, "Non").

    Kept for the helpdesk and for the next letter run, which issues a letter to every
    person with an open request (voiding the lost one) and closes the request.

    For a person whose account has a working second factor, the letter would re-activate
    (take over) the account: its holder is told when it is asked for and when it is
    issued (`notified_at`: the wait before it may re-activate counts from then), each
    notice with a link that cancels the request and its letter (only the keyed hashes of
    the links' tokens are kept; esante.accounts.actions).
    """

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="letter_requests"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # When the request was closed: answered by a letter run, or cancelled (then
    # `cancelled_at` is set too).
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Keyed hashes of the cancel links' tokens: the request's notice, the issue's notice.
    cancel_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    issued_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("demande de courrier")
        verbose_name_plural = _("demandes de courrier")
        indexes = [models.Index(fields=["person", "-requested_at"])]

    def __str__(self) -> str:
        return f"Demande {self.pk} ({self.person_id})"
