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
from esante.records.models import Assistant, CareRecord
from esante.registry.models import InsuredPerson


@receiver(accounts.account_activated)
def open_care_record(
    sender: type[Account],
    *,
    account: Account,
    person: InsuredPerson,
    at: datetime.datetime,
    **kwargs: Any,
) -> None:
    """The DSP is created with the account (kept at a re-activation)."""
    CareRecord.objects.get_or_create(person=person, defaults={"created_at": at})


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
