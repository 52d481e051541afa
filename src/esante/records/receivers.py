"""What the DSP does when esante.accounts tells it something: Django signals, whose
receivers connect when RecordsConfig.ready imports this module."""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from esante.accounts import signals as accounts
from esante.accounts.models import Account
from esante.records.actions import open_records
from esante.records.models import Assistant, CareRecord
from esante.registry import signals as registry
from esante.registry.models import ActivationLetter, InsuredPerson


@receiver(registry.letters_written)
def open_records_with_letters(
    sender: type[ActivationLetter], *, person_ids: list[int], at: datetime.datetime, **kwargs: Any
) -> None:
    """Every living insured person has a DSP (opt-out): it opens with their first letter,
    which tells them, in the letter run's transaction, before its pages are drawn (they
    print the record's objection date). The persons are alive: the run chose them so."""
    open_records(person_ids, at=at)


@receiver(accounts.account_activated)
def open_care_record(
    sender: type[Account],
    *,
    account: Account,
    person: InsuredPerson,
    at: datetime.datetime,
    **kwargs: Any,
) -> None:
    """The DSP of a person who activates without one (their letter came before the
    opt-out, or an identity provider vouched for them without a letter); kept as it is at
    a re-activation, or when the letter opened it.

    Without an objection period: the period exists so that a holder who may not know of
    their DSP can close it before professionals write into it; a holder who activates
    has it in front of them from their first login, where they can close it at any time,
    and no professional reaches it without a care relationship the holder is told of.
    (As for the records opened with the accounts before the opt-out.)"""
    CareRecord.objects.get_or_create(
        person=person, defaults={"created_at": at, "objection_until": None}
    )


RECENT_ASSISTANTS_DAYS = 30


@receiver(accounts.new_password_notice)
def recent_assistants_sentence(sender: type[Account], *, account: Account, **kwargs: Any) -> str:
    """For the notice of a new password (a reset, a re-activation): the assistants added
    to the account's record in the last 30 days — "B Martin (…) le 01/12/2026, …" in the
    active language's short date —, the lasting access a stolen session may have left;
    empty when there are none."""
    since = timezone.now() - datetime.timedelta(days=RECENT_ASSISTANTS_DAYS)
    rows = Assistant.objects.filter(record__person=account.person_id, added_at__gte=since)
    recent = ", ".join(
        _("%(name)s le %(date)s")
        % {
            "name": row.person.public_label,
            "date": date_format(timezone.localtime(row.added_at), "SHORT_DATE_FORMAT"),
        }
        for row in rows.select_related("person")
    )
    if not recent:
        return ""
    return " " + _(
        "Assistants DSP ajoutés à votre dossier ces 30 derniers jours : %(assistants)s. Si "
        "vous ne les connaissez pas, retirez-les dans votre DSP (panneau Assistants)."
    ) % {"assistants": recent}
