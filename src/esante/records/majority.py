"""Coming of age: assistant rights given while the holder was a minor end at 18.

`esante coming-of-age` runs daily (and is safe to run by hand, or twice: each step is
recorded and never repeated). Thirty days before the 18th birthday, from the registry's
birth date, those assistants and the holder are told; on the birthday the rights end and
the holder's account is marked so that their next login asks them to choose their own
password, confirm the code channel a parent set, and keep or remove each former assistant.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from esante.accounts.actions import change_password, end_sessions
from esante.accounts.authenticators.identity_links import unlink_identity
from esante.accounts.authenticators.passkeys import remove_passkey
from esante.accounts.models import Account, IdentityLink, Passkey, PatientSession
from esante.accounts.notices import notify_owner
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.records.actions import announce_rights_ended, journal, notify_assistant_change
from esante.records.models import AccessAction, Assistant, Capacity, CareRecord
from esante.registry.models import MAJORITY_AGE, InsuredPerson, born_on_or_before

NOTICE_DAYS = 30


def majority_date(birth_date: datetime.date) -> datetime.date:
    """The 18th birthday; for a 29 February birth, 1 March in a common year."""
    try:
        return birth_date.replace(year=birth_date.year + MAJORITY_AGE)
    except ValueError:
        return datetime.date(birth_date.year + MAJORITY_AGE, 3, 1)


@dataclass(frozen=True)
class Run:
    notices: int
    ended: int


def coming_of_age(today: datetime.date | None = None) -> Run:
    """One day's run: send the 30-day notices, then end the rights of those now 18."""
    today = today or timezone.localdate()
    minority_rows = Assistant.objects.filter(
        during_minority=True, ended_at__isnull=True
    ).select_related("record__person", "person")
    notices = 0
    horizon = born_on_or_before(today + datetime.timedelta(days=NOTICE_DAYS))
    for row in minority_rows.filter(
        majority_notice_at__isnull=True, record__person__birth_date__lte=horizon
    ):
        if majority_date(row.record.person.birth_date) > today:
            notices += _send_notice(row)
    ended = 0
    for row in minority_rows.filter(record__person__birth_date__lte=born_on_or_before(today)):
        if majority_date(row.record.person.birth_date) <= today and _end(row):
            ended += 1
    # The account a parent activated for a minor now belongs to an adult: it is reviewed
    # at the next login, whether or not there were assistants.
    Account.objects.filter(pk__in=_accounts_activated_as_minors(today)).update(
        majority_review_due=True
    )
    return Run(notices=notices, ended=ended)


def _accounts_activated_as_minors(today: datetime.date) -> list[int]:
    """Accounts activated before their holder's majority, holder now of age, not reviewed
    yet. Only holders who came of age in the last year are looked at: a daily job."""
    recent = born_on_or_before(today - datetime.timedelta(days=366))
    candidates = Account.objects.filter(
        person__birth_date__gt=recent,
        person__birth_date__lte=born_on_or_before(today),
        majority_review_due=False,
        majority_reviewed_at__isnull=True,
    ).select_related("person")
    return [
        account.pk
        for account in candidates
        if timezone.localtime(account.activated_at).date()
        < majority_date(account.person.birth_date)
    ]


@transaction.atomic
def _send_notice(row: Assistant) -> int:
    if not Assistant.objects.filter(pk=row.pk, majority_notice_at__isnull=True).update(
        majority_notice_at=timezone.now()
    ):
        return 0  # another run sent it
    holder = row.record.person
    day = majority_date(holder.birth_date)
    for person, to_holder in ((row.person, False), (holder, True)):
        account = Account.objects.filter(person=person).first()
        if account is None:
            continue
        with override(account.language):
            if to_holder:
                body = _(
                    "Le %(date)s, vous aurez 18 ans : les droits d'assistant DSP de "
                    "%(assistant)s sur votre dossier de soins partagé prendront fin ce "
                    "jour-là. À votre prochaine connexion, vous pourrez les garder ou non."
                ) % {
                    "date": date_format(day, "SHORT_DATE_FORMAT"),
                    "assistant": row.person.public_label,
                }
            else:
                body = _(
                    "Le %(date)s, %(holder)s aura 18 ans : vos droits d'assistant DSP sur son "
                    "dossier de soins partagé prendront fin ce jour-là, sauf si %(holder)s "
                    "décide de les garder."
                ) % {"date": date_format(day, "SHORT_DATE_FORMAT"), "holder": holder.public_label}
            notify_owner(account, _("Fin des droits d'assistant DSP à la majorité"), body)
    record_event(
        EventType.MAJORITY_NOTICE,
        actor="command:coming-of-age",
        person=holder,
        assistant=row.person_id,
    )
    return 1


@transaction.atomic
def _end(row: Assistant) -> bool:
    if not Assistant.objects.filter(pk=row.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_at_majority=True
    ):
        return False
    journal(
        row.record,
        actor=None,
        capacity=Capacity.AGENCY,
        action=AccessAction.MAJORITY_END,
        target=row.person.public_label,
    )
    record_event(
        EventType.MAJORITY_REACHED,
        actor="command:coming-of-age",
        person=row.record.person,
        assistant=row.person_id,
    )
    notify_assistant_change(row.record, row.person, added=False)
    announce_rights_ended(row, reason="majority")
    return True


def former_assistants(record: CareRecord) -> list[Assistant]:
    """Rights ended at majority, of people who are not assistants again since."""
    active = set(record.assistants.filter(ended_at__isnull=True).values_list("person", flat=True))
    rows = record.assistants.filter(ended_at_majority=True).select_related("person")
    latest: dict[int, Assistant] = {}
    for row in rows.order_by("ended_at"):
        if row.person_id not in active:
            latest[row.person_id] = row
    return list(latest.values())


@transaction.atomic
def keep_assistants(
    record: CareRecord, kept: list[Assistant], *, holder: InsuredPerson, ip_address: str | None
) -> None:
    """The adult holder keeps these former assistants: each becomes an assistant again,
    now by the holder's own choice (so not ended by a later majority run)."""
    for row in kept:
        Assistant.objects.create(
            record=record,
            person=row.person,
            role=row.role,
            added_by=holder,
            during_minority=False,
        )
        journal(
            record,
            actor=holder,
            capacity=Capacity.OWNER,
            action=AccessAction.ADD_ASSISTANT,
            target=row.person.public_label,
        )
        record_event(
            EventType.ASSISTANT_ADDED,
            actor=f"person:{holder.pk}",
            person=holder,
            ip_address=ip_address,
            assistant=row.person_id,
            kept_at_majority=True,
        )
        notify_assistant_change(record, row.person, added=True)


@transaction.atomic
def complete_majority_review(
    account: Account,
    record: CareRecord,
    *,
    password_hash: str,
    kept_assistants: list[Assistant],
    removed_passkeys: list[Passkey],
    unlinked: list[tuple[IdentityLink, str]],
    replacing_channel: bool,
    current_session: PatientSession,
    ip_address: str | None,
) -> None:
    """The adult holder's review, in one transaction: their own password, the former
    assistants they keep, the passkeys and identity providers (with their names) they
    remove, and every other session of the account ended."""
    holder = account.person
    change_password(account, password_hash, ip_address=ip_address)
    keep_assistants(record, kept_assistants, holder=holder, ip_address=ip_address)
    for passkey in removed_passkeys:
        remove_passkey(passkey, ip_address=ip_address)
    # A LuxTrust a parent linked would log in without password nor code.
    for link, provider_name in unlinked:
        unlink_identity(link, ip_address=ip_address, provider_name=provider_name)
    # Whoever else was logged in to this account (a parent) is logged out.
    end_sessions(account, ip_address=ip_address, reason="majority_review", keep=current_session.pk)
    # Replacing the channel: the review stays due until the new one is confirmed
    # (esante.accounts.actions.confirm_majority_channel), and every page leads there.
    Account.objects.filter(pk=account.pk).update(
        majority_review_due=replacing_channel, majority_reviewed_at=timezone.now()
    )
