"""What a helpdesk agent can do for a person (STYLE.md §2): each action takes the agent and
a reason, changes what it says in one transaction, and writes the audit log with the
agent's identity. None of them reads or shows anything of the person's DSP. The letter
batches' actions (generate, download, mark as posted) are the print side's
(esante.helpdesk.roles): their PDFs hold activation codes in clear. The staff member's own
access (password, passkeys, step-up) changes here too."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from webauthn.registration.verify_registration_response import VerifiedRegistration

from esante.accounts.actions import (
    announce_letter_request,
    end_sessions,
    forget_cancel_links,
    remove_authenticators,
)
from esante.accounts.authenticators.one_time_codes import LockKey
from esante.accounts.authenticators.passkeys import stored_credential
from esante.accounts.models import Account, CodeLock, CodePurpose, KnownDevice
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.helpdesk.models import CallNote, StaffPasskey
from esante.registry.actions import delete_batch_file
from esante.registry.letters import issue_letters_for_ids, single_run, void_unused_letters
from esante.registry.models import ActivationLetter, InsuredPerson, LetterBatch, LetterRequest


def _audit(
    action: str, *, staff: User, person: InsuredPerson | None, reason: str, **details: Any
) -> None:
    record_event(
        EventType.HELPDESK_ACTION,
        actor=f"staff:{staff.pk}",
        person=person,
        action=action,
        reason=reason,
        staff=staff.get_username(),
        **details,
    )


def staff_event(action: str, *, staff: User, **details: Any) -> None:
    """A change to a staff member's own access (passkeys), audited."""
    _audit(action, staff=staff, person=None, reason="", **details)


@transaction.atomic
def remove_staff_passkeys(staff: User, *, cause: str) -> int:
    """Every passkey of a staff member (after a password change: whoever changed it may
    not be the owner, and the keys they planted must not outlive it), each audited."""
    keys = list(StaffPasskey.objects.filter(user=staff).values_list("pk", flat=True))
    StaffPasskey.objects.filter(pk__in=keys).delete()
    for key in keys:
        staff_event("passkey_removed", staff=staff, passkey=key, cause=cause)
    return len(keys)


@transaction.atomic
def add_staff_passkey(
    staff: User, verified: VerifiedRegistration, *, name: str, handle: str
) -> StaffPasskey:
    """A passkey the staff member registered from *Mes clés d'accès* (IntegrityError for
    one already registered), audited."""
    key = StaffPasskey.objects.create(
        user=staff, name=name, handle=handle, **stored_credential(verified)
    )
    staff_event("passkey_added", staff=staff, passkey=key.pk)
    return key


@transaction.atomic
def remove_staff_passkey(key: StaffPasskey, *, staff: User) -> None:
    passkey_id = key.pk
    key.delete()
    staff_event("passkey_removed", staff=staff, passkey=passkey_id)


def record_staff_passkey_use(key: StaffPasskey, sign_count: int) -> None:
    """A staff passkey answered a login: its new signature counter (a cloned key shows as
    a counter going back) and when it was last used."""
    StaffPasskey.objects.filter(pk=key.pk).update(
        sign_count=sign_count, last_used_at=timezone.now()
    )


def record_staff_step_up(staff: User, *, ip_address: str | None) -> None:
    """*Confirmez votre identité*: a new code of the app, typed by the staff member."""
    record_event(
        EventType.STEP_UP_SUCCEEDED, actor=f"staff:{staff.pk}", ip_address=ip_address, method="totp"
    )


@transaction.atomic
def change_staff_password(staff: User, new_password: str, *, ip_address: str | None) -> int:
    """*Mon mot de passe*: the new one (checked by the form), audited. The staff member's
    passkeys go with the old one (remove_staff_passkeys): returns how many went."""
    staff.set_password(new_password)
    staff.save()
    record_event(EventType.STAFF_PASSWORD_CHANGED, actor=f"staff:{staff.pk}", ip_address=ip_address)
    return remove_staff_passkeys(staff, cause="password_changed")


def record_lookup(person: InsuredPerson, *, staff: User, ip_address: str | None) -> None:
    record_event(
        EventType.HELPDESK_LOOKUP,
        actor=f"staff:{staff.pk}",
        person=person,
        ip_address=ip_address,
        staff=staff.get_username(),
    )


@transaction.atomic
def reissue_letter(person: InsuredPerson, *, staff: User, reason: str) -> LetterRequest:
    """ "I lost my letter": the unused letters stop working now, and a new one joins the
    next print batch (an open request, fulfilled by the next letter run). The holder of an
    account with a working second factor is told, as for a request of their own, and the
    letter waits before it may re-activate the account (esante.accounts.actions)."""
    void_unused_letters([person], actor=f"staff:{staff.pk}", now=timezone.now())
    request = LetterRequest.objects.filter(person=person, fulfilled_at__isnull=True).first()
    if request is None:
        request = LetterRequest.objects.create(person=person)
    _audit("reissue_letter", staff=staff, person=person, reason=reason, request=request.pk)
    announce_letter_request(request, actor=f"staff:{staff.pk}", ip_address=None)
    return request


@transaction.atomic
def unlock_account(account: Account, *, staff: User, reason: str) -> None:
    """Every lock of the account lifted: its password's (unknown browsers' and each known
    browser's) and its one-time codes' in every flow."""
    Account.objects.filter(pk=account.pk).update(locked_until=None, failed_logins=0)
    KnownDevice.objects.filter(account=account).update(locked_until=None, failed_logins=0)
    recovery = LockKey.for_matricule(CodePurpose.RECOVERY, account.person.matricule)
    CodeLock.objects.filter(
        Q(subject=f"person:{account.person_id}") | Q(flow=recovery.flow, subject=recovery.subject)
    ).delete()
    _audit("unlock", staff=staff, person=account.person, reason=reason)


@transaction.atomic
def end_all_sessions(account: Account, *, staff: User, reason: str) -> int:
    ended = end_sessions(account, ip_address=None, reason="ended_by_helpdesk")
    _audit("end_sessions", staff=staff, person=account.person, reason=reason, ended=ended)
    return ended


@transaction.atomic
def reset_code_channel(account: Account, *, staff: User, reason: str) -> None:
    """ "I changed my phone number", "my phone was stolen": the old channel stops receiving
    codes, every session ends, every other way in goes (passkeys — one may be on the lost
    phone —, identity providers' links, known browsers, recovery codes), and a new letter
    is on its way — with it the person re-activates the account (new password and
    channel; the DSP stays). No notice: the only address the account had is the lost one;
    and the cancel links already sent there stop working. The account has no working
    second factor left, so the new letter re-activates it without the wait."""
    Account.objects.filter(pk=account.pk).update(
        phone="", email="", totp_secret="", code_channel="", locked_until=None
    )
    end_sessions(account, ip_address=None, reason="channel_reset")
    removed = remove_authenticators(
        account, actor=f"staff:{staff.pk}", ip_address=None, reason="reset_channel"
    )
    void_unused_letters([account.person], actor=f"staff:{staff.pk}", now=timezone.now())
    forget_cancel_links(account.person)
    if not LetterRequest.objects.filter(person=account.person, fulfilled_at__isnull=True).exists():
        LetterRequest.objects.create(person=account.person)
    _audit(
        "reset_channel",
        staff=staff,
        person=account.person,
        reason=reason,
        **removed.as_details(),
    )


@transaction.atomic
def add_note(person: InsuredPerson, text: str, *, staff: User) -> CallNote:
    note = CallNote.objects.create(person=person, staff=staff, text=text)
    _audit("note", staff=staff, person=person, reason="", note=note.pk)
    return note


def open_requests() -> QuerySet[LetterRequest]:
    return LetterRequest.objects.filter(fulfilled_at__isnull=True).select_related("person")


def generate_batch(*, staff: User) -> LetterBatch | None:
    """Print the letters of the open requests (lost letters, re-issues): one batch PDF.
    The big waves are the `esante issue-letters` command's; this is the print side's
    (a print operator's click: esante.helpdesk.roles).

    Raises LetterRunInProgress (its message is for the operator) while another run, from
    the command or another operator's click, is in progress."""
    # The run's lock from the choice of the people on: another run could otherwise
    # serve them meanwhile, and this one would void the letters it just printed.
    with single_run():
        person_ids = list(open_requests().values_list("person_id", flat=True))
        batch = issue_letters_for_ids(person_ids, actor=f"staff:{staff.pk}")  # fulfils them
    if batch is not None:
        _audit("generate_batch", staff=staff, person=None, reason="", batch=batch.pk)
    return batch


@transaction.atomic
def mark_posted(batch: LetterBatch, *, staff: User) -> None:
    """The batch is in the post: its PDF, codes in clear, is no longer needed and goes."""
    LetterBatch.objects.filter(pk=batch.pk, posted_at__isnull=True).update(posted_at=timezone.now())
    _audit("batch_posted", staff=staff, person=None, reason="", batch=batch.pk)
    delete_batch_file(batch, actor=f"staff:{staff.pk}", reason="posted")


def record_download(batch: LetterBatch, *, staff: User) -> None:
    _audit("batch_downloaded", staff=staff, person=None, reason="", batch=batch.pk)


def letters_of(person: InsuredPerson) -> QuerySet[ActivationLetter]:
    return (
        ActivationLetter.objects.filter(person=person)
        .select_related("batch")
        .order_by("-issued_at")
    )
