"""State changes of patient accounts (STYLE.md §2): each atomic, each audited."""

from __future__ import annotations

import datetime
import functools
import secrets
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from esante import raw_sql
from esante.accounts import signals
from esante.accounts.authenticators import totp
from esante.accounts.authenticators.one_time_codes import CodeVerification, Verification
from esante.accounts.models import (
    Account,
    CodeChannel,
    IdentityLink,
    KnownDevice,
    Passkey,
    PatientSession,
    RecoveryCode,
)
from esante.accounts.notices import notify_owner, release_held_notices
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.keyed_hash import keyed_hash, keyed_hashes
from esante.notifications.actions import queue_message
from esante.notifications.models import Channel
from esante.portal.helpdesk import helpdesk_contacts
from esante.registry.letters import consume_letter, void_unused_letters
from esante.registry.models import (
    ActivationLetter,
    InsuredPerson,
    Language,
    LetterBatch,
    LetterRequest,
)


class LetterNoLongerUsable(Exception):
    """The letter's code was used (by a concurrent activation), voided or locked meanwhile."""


@dataclass(frozen=True)
class Activation:
    verification: Verification
    account: Account | None = None
    # With the authenticator app as the only channel: the ten recovery codes, shown once.
    recovery_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifiedIdentity:
    """Activation without a letter: the person as an identity provider vouched for them
    (its subject, and what it said of the authentication)."""

    provider: str
    subject: str
    acr: str = ""
    amr: tuple[str, ...] = ()


def activate_account(
    *,
    letter_id: int | None,
    password_hash: str,
    verification: CodeVerification,
    typed_code: str,
    cgu_version: str,
    cgu_accepted_at: datetime.datetime,
    ip_address: str | None,
    person_id: int | None = None,
    identity: VerifiedIdentity | None = None,
    language: str = Language.FRENCH,
) -> Activation:
    """Activation step 3: the one-time code typed back creates the account.

    In one transaction: the one-time code and the letter's activation code are consumed
    (each exactly once, however many requests race), the account is created with the
    password hash and the verified contact, the DSP is opened, the audit log written and
    a confirmation queued to the verified contact. A wrong one-time code changes nothing
    but its failed-attempts count. Raises LetterNoLongerUsable when the letter was used or
    voided meanwhile: then nothing at all is changed, the one-time code included.

    Without a letter (`identity`, for `person_id`): the provider's subject is linked to the
    account in the same transaction; LetterNoLongerUsable if it opens another account.

    `language`: the page's, which becomes the account's (its notices are written in it).
    """
    with transaction.atomic():
        checked = verification.verify(typed_code, ip_address=ip_address)
        if not checked.ok:
            return Activation(checked)
        try:
            with transaction.atomic():
                if letter_id is not None and _letter_waits(letter_id):
                    raise LetterNoLongerUsable  # step 1 refuses it: not by another way
                if letter_id is not None and not consume_letter(letter_id):
                    raise LetterNoLongerUsable
                account = _create_account(
                    letter_id=letter_id,
                    person_id=person_id,
                    identity=identity,
                    password_hash=password_hash,
                    verification=verification,
                    cgu_version=cgu_version,
                    cgu_accepted_at=cgu_accepted_at,
                    ip_address=ip_address,
                    language=Language.of(language),
                )
        except (LetterNoLongerUsable, IntegrityError):
            # IntegrityError: the person got an account through another letter meanwhile.
            transaction.set_rollback(True)
            raise LetterNoLongerUsable from None
        recovery_codes: tuple[str, ...] = ()
        if account.code_channel == CodeChannel.TOTP:
            recovery_codes = tuple(totp.new_recovery_codes(account))
        return Activation(checked, account, recovery_codes)


def record_letter_code_accepted(letter: ActivationLetter, *, ip_address: str | None) -> None:
    """Step 1 of the activation: the letter's matricule and code were right (the account
    is made at step 3, activate_account)."""
    _record_letter_code(EventType.LETTER_CODE_ACCEPTED, letter, ip_address=ip_address)


def record_reactivation_waiting(
    letter: ActivationLetter, *, allowed_from: datetime.datetime, ip_address: str | None
) -> None:
    """The right code of a letter that reactivates an account, typed before the end of its
    wait (reactivation_allowed_from): refused, and audited with the day it will work."""
    _record_letter_code(
        EventType.LETTER_REACTIVATION_WAITING,
        letter,
        ip_address=ip_address,
        allowed_from=allowed_from.isoformat(),
    )


def _record_letter_code(
    event_type: EventType, letter: ActivationLetter, *, ip_address: str | None, **details: str
) -> None:
    record_event(
        event_type,
        actor="anonymous",
        person=letter.person,
        ip_address=ip_address,
        letter_id=letter.pk,
        **details,
    )


def _letter_waits(letter_id: int) -> bool:
    letter = ActivationLetter.objects.filter(pk=letter_id).first()
    allowed_from = reactivation_allowed_from(letter) if letter is not None else None
    return allowed_from is not None and allowed_from > timezone.now()


def _create_account(
    *,
    letter_id: int | None,
    person_id: int | None,
    identity: VerifiedIdentity | None,
    password_hash: str,
    verification: CodeVerification,
    cgu_version: str,
    cgu_accepted_at: datetime.datetime,
    ip_address: str | None,
    language: Language,
) -> Account:
    letter = (
        ActivationLetter.objects.select_related("person").get(pk=letter_id)
        if letter_id is not None
        else None
    )
    if letter is not None:
        person = letter.person
    elif person_id is not None:
        person = InsuredPerson.objects.get(pk=person_id)
    else:
        raise ValueError("An activation needs a letter or a person vouched for by a provider.")
    code = verification.code
    channel = CodeChannel(code.channel)
    now = timezone.now()
    fields = {
        "password": password_hash,
        "code_channel": channel,
        "phone": code.destination if channel == CodeChannel.SMS else "",
        "email": code.destination if channel == CodeChannel.EMAIL else "",
        "totp_secret": code.destination if channel == CodeChannel.TOTP else "",
        "totp_last_step": verification.totp_step or 0,
        "activated_at": now,
        "activation_letter": letter,
        "cgu_version": cgu_version,
        "cgu_accepted_at": cgu_accepted_at,
        "failed_logins": 0,
        "locked_until": None,
        "password_reset_by_recovery_code": False,
        "language": language,
    }
    # A letter issued to someone who already has an account (they lost their password
    # and their code channel) re-activates it: the DSP stays, password and contact change.
    account = Account.objects.select_for_update().filter(person=person).first()
    reactivated = account is not None
    removed: dict[str, int] = {}
    if account is None:
        account = Account.objects.create(person=person, **fields)
    else:
        # Where codes went until now, warned below: a re-activation by someone else (a
        # stolen letter) must not go unnoticed by the person who used the account.
        former = (account.code_channel, account.code_destination, account.language)
        for name, value in fields.items():
            setattr(account, name, value)
        account.save()
        # Whoever held the lost factor (a stolen phone's passkey, an identity they linked,
        # a browser they made known) must not keep a way in: only the letter's holder does.
        end_sessions(account, ip_address=ip_address, reason="reactivation")
        removed = remove_authenticators(
            account,
            actor=f"person:{person.pk}",
            ip_address=ip_address,
            reason="reactivation",
            keep_identity=(identity.provider, identity.subject) if identity else None,
        ).as_details()
    signals.account_activated.send(sender=Account, account=account, person=person, at=now)
    release_held_notices(account)
    if identity is not None:
        link, _created = IdentityLink.objects.get_or_create(
            provider=identity.provider,
            subject=identity.subject,
            defaults={"account": account, "acr": identity.acr, "amr": list(identity.amr)},
        )
        if link.account_id != account.pk:
            raise LetterNoLongerUsable  # this subject opens another account
    record_event(
        EventType.ACCOUNT_REACTIVATED if reactivated else EventType.ACCOUNT_ACTIVATED,
        actor=f"person:{person.pk}",
        person=person,
        ip_address=ip_address,
        letter_id=letter.pk if letter else None,
        identity_provider=identity.provider if identity else None,
        channel=channel,
        cgu_version=cgu_version,
        minor=person.is_minor,
        **removed,
    )
    if reactivated:
        _warn_former_channel(account, *former, now_to=(channel, code.destination))
    if channel == CodeChannel.TOTP:
        return account  # no address to confirm to: the app is the only channel
    with override(account.language):
        if reactivated:
            body = _(
                "Bonjour, le compte eSanté de %(name)s est réactivé avec un nouveau mot de "
                "passe ; son DSP est conservé. Toutes ses sessions ont été déconnectées, et "
                "ses éventuelles clés d'accès et ses éventuels fournisseurs d'identité "
                "associés ont été retirés : vous pouvez les ajouter à nouveau dans Mon "
                "compte. Si vous n'êtes pas à l'origine de cette activation, appelez le "
                "helpdesk au %(phone)s."
            )
        else:
            body = _(
                "Bonjour, le compte eSanté de %(name)s est activé. Vous pouvez vous "
                "connecter à votre DSP sur le portail eSanté. Si vous n'êtes pas à "
                "l'origine de cette activation, appelez le helpdesk au %(phone)s."
            )
        body %= {"name": person.full_name, "phone": helpdesk_contacts().phone}
        if reactivated:  # a new password: as after a reset, the recent grants are told
            body += new_password_notice_end(account)
        queue_message(
            Channel.SMS if channel == CodeChannel.SMS else Channel.EMAIL,
            recipient=code.destination,
            subject=_("Votre compte eSanté est activé"),
            body=body,
            person=person,
        )
    return account


def _warn_former_channel(
    account: Account, channel: str, destination: str, language: str, *, now_to: tuple[str, str]
) -> None:
    """After a re-activation, the number or address that received the codes until then is
    told (in the language the account had), unless it is the new one (or an app, which
    has no address)."""
    if channel not in (CodeChannel.SMS, CodeChannel.EMAIL) or not destination:
        return
    if (channel, destination) == now_to:
        return
    with override(language):
        queue_message(
            Channel.SMS if channel == CodeChannel.SMS else Channel.EMAIL,
            recipient=destination,
            subject=_("Votre compte eSanté a été réactivé"),
            body=_(
                "Bonjour, le compte eSanté de %(name)s vient d'être réactivé avec un "
                "nouveau courrier d'activation : ce numéro ou cette adresse ne reçoit plus "
                "ses codes. Si vous n'êtes pas à l'origine de cette réactivation, appelez "
                "sans attendre le helpdesk au %(phone)s."
            )
            % {"name": account.person.full_name, "phone": helpdesk_contacts().phone},
            person=account.person,
        )


@dataclass(frozen=True)
class RemovedAuthenticators:
    passkeys: int
    identity_links: int
    known_devices: int
    recovery_codes: int

    def as_details(self) -> dict[str, int]:
        """For the audit row of the action that removed them."""
        return {
            "passkeys_removed": self.passkeys,
            "identities_unlinked": self.identity_links,
            "known_devices_forgotten": self.known_devices,
            "recovery_codes_removed": self.recovery_codes,
        }


@transaction.atomic
def remove_authenticators(
    account: Account,
    *,
    actor: str,
    ip_address: str | None,
    reason: str,
    keep_identity: tuple[str, str] | None = None,
) -> RemovedAuthenticators:
    """Everything but the password and the code channel that opens the account or vouches
    for a browser: its passkeys, its identity providers' links (but `keep_identity`, the
    provider and subject that has just proved who the person is), its known browsers and
    its recovery codes. For the remedies to a lost or stolen factor — the helpdesk's reset
    of the channel, a re-activation by a new letter — after which only what the person
    sets up anew opens the account. Each passkey and link is audited as when its owner
    removes it (with `reason`); browsers and recovery codes have no event of their own:
    the caller's event counts them (`as_details`)."""
    passkeys = list(Passkey.objects.filter(account=account).values_list("pk", flat=True))
    Passkey.objects.filter(pk__in=passkeys).delete()
    links = IdentityLink.objects.filter(account=account)
    if keep_identity is not None:
        links = links.exclude(provider=keep_identity[0], subject=keep_identity[1])
    unlinked = list(links.values_list("pk", "provider"))
    IdentityLink.objects.filter(pk__in=[pk for pk, _provider in unlinked]).delete()
    removals = [(EventType.PASSKEY_REMOVED, {"passkey": pk}) for pk in passkeys] + [
        (EventType.IDENTITY_UNLINKED, {"provider": provider}) for _pk, provider in unlinked
    ]
    for event_type, details in removals:
        record_event(
            event_type,
            actor=actor,
            person=account.person,
            ip_address=ip_address,
            reason=reason,
            **details,
        )
    devices, _by_model = KnownDevice.objects.filter(account=account).delete()
    recovery_codes, _by_model = RecoveryCode.objects.filter(account=account).delete()
    return RemovedAuthenticators(
        passkeys=len(passkeys),
        identity_links=len(unlinked),
        known_devices=devices,
        recovery_codes=recovery_codes,
    )


# Mon compte.


@transaction.atomic
def change_password(account: Account, password_hash: str, *, ip_address: str | None) -> None:
    # Chosen inside a session, which a recovery code alone cannot open: the app's holder's.
    Account.objects.filter(pk=account.pk).update(
        password=password_hash, failed_logins=0, password_reset_by_recovery_code=False
    )
    account.password = password_hash
    account.password_reset_by_recovery_code = False
    record_event(
        EventType.PASSWORD_CHANGED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
    )
    with override(account.language):
        notify_owner(
            account,
            _("Le mot de passe de votre compte eSanté a été changé"),
            _(
                "Le mot de passe de votre compte eSanté vient d'être changé. Si ce n'était "
                "pas vous, appelez sans attendre le helpdesk au %(phone)s."
            )
            % {"phone": helpdesk_contacts().phone},
        )


@transaction.atomic
def change_language(account: Account, language: Language, *, ip_address: str | None) -> bool:
    """The holder chose another language in the menu while logged in: their e-mails, SMS
    and letters are written in it from now on. False, changing nothing, when it is the
    account's already."""
    previous = account.language
    if previous == language:
        return False
    Account.objects.filter(pk=account.pk).update(language=language)
    account.language = language
    record_event(
        EventType.LANGUAGE_CHANGED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
        language=language,
        previous=previous,
    )
    return True


@transaction.atomic
def change_contact(
    account: Account,
    channel: CodeChannel,
    destination: str,
    *,
    ip_address: str | None,
    totp_step: int | None = None,
) -> list[str]:
    """The new channel was verified with a code; the old one is told of the change. With
    the authenticator app, returns its ten new recovery codes (to be shown once)."""
    with override(account.language):
        notify_owner(
            account,
            _("Le moyen de réception de vos codes eSanté a été changé"),
            _(
                "Vos codes eSanté seront désormais envoyés à un autre numéro ou une autre "
                "adresse, ou affichés par une application. Si ce n'était pas vous, appelez sans "
                "attendre le helpdesk au %(phone)s."
            )
            % {"phone": helpdesk_contacts().phone},
        )
    account.code_channel = channel
    account.phone = destination if channel == CodeChannel.SMS else ""
    account.email = destination if channel == CodeChannel.EMAIL else ""
    account.totp_secret = destination if channel == CodeChannel.TOTP else ""
    account.totp_last_step = totp_step or 0
    account.save(update_fields=["code_channel", "phone", "email", "totp_secret", "totp_last_step"])
    record_event(
        EventType.CONTACT_CHANGED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
        channel=channel,
    )
    if channel == CodeChannel.TOTP:
        return totp.new_recovery_codes(account)
    account.recovery_codes.all().delete()
    return []


@transaction.atomic
def renew_recovery_codes(account: Account, *, ip_address: str | None) -> list[str]:
    """Ten new recovery codes for the authenticator app (the old ones stop working),
    audited; the plain codes are returned to be shown once."""
    codes = totp.new_recovery_codes(account)
    record_event(
        EventType.RECOVERY_CODES_RENEWED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
    )
    return codes


def confirm_majority_channel(account: Account) -> None:
    """The last step of the majority review (esante.records.majority): the holder's own
    code channel is confirmed, and the review is no longer due."""
    Account.objects.filter(pk=account.pk).update(majority_review_due=False)
    account.majority_review_due = False


def record_step_up(
    account: Account,
    *,
    method: str,
    ip_address: str | None,
    refusal: str | None = None,
    **details: str,
) -> None:
    """*Confirmez votre identité* (esante.accounts.my_account.step_up_views): a current
    second factor proven, or refused (`refusal`: the reason)."""
    if refusal is not None:
        details["reason"] = refusal[:200]
    record_event(
        EventType.STEP_UP_SUCCEEDED if refusal is None else EventType.STEP_UP_FAILED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
        method=method,
        **details,
    )


@transaction.atomic
def end_sessions(
    account: Account,
    *,
    ip_address: str | None,
    reason: str,
    only: int | None = None,
    keep: int | None = None,
) -> int:
    """End the account's sessions (one of them, or all but the current one): their next
    request is refused. Returns how many were ended. `reason` says who or what ended them
    (accounts.signals.patient_sessions_ended lists the reasons): audited, and told to the
    apps above with exactly the sessions ended here — locked first, so that a logout or
    a login in flight is either ended here or not told here."""
    sessions = PatientSession.objects.filter(account=account, ended_at__isnull=True)
    if only is not None:
        sessions = sessions.filter(pk=only)
    if keep is not None:
        sessions = sessions.exclude(pk=keep)
    ended = list(sessions.select_for_update().order_by("pk").values_list("pk", flat=True))
    PatientSession.objects.filter(pk__in=ended).update(ended_at=timezone.now())
    for session_id in ended:
        record_event(
            EventType.SESSION_ENDED,
            actor=f"person:{account.person_id}",
            person=account.person,
            ip_address=ip_address,
            session=session_id,
            reason=reason,
        )
    if ended or reason in signals.ACCOUNT_WIDE:
        signals.patient_sessions_ended.send(
            sender=PatientSession, account=account, session_ids=ended, reason=reason
        )
    return len(ended)


@transaction.atomic
def reset_password(
    account: Account, password_hash: str, *, ip_address: str | None, by_recovery_code: bool = False
) -> None:
    """*Mot de passe oublié*, after the code sent to the registered channel: the new
    password, every session ended, the lock lifted, the known browsers forgotten (their
    device cookies no longer spare them the lock), the owner told — with the assistants
    added to their record in the last 30 days, the lasting access a stolen session may
    have left behind.

    `by_recovery_code`: a recovery code stood in for the app. The sheet alone set this
    password, so until a login with the app's own code a recovery code no longer opens
    the account (the sheet must never take both factors)."""
    Account.objects.filter(pk=account.pk).update(
        password=password_hash,
        failed_logins=0,
        locked_until=None,
        password_reset_by_recovery_code=by_recovery_code,
    )
    account.password = password_hash
    account.password_reset_by_recovery_code = by_recovery_code
    end_sessions(account, ip_address=ip_address, reason="password_reset")
    devices, _by_model = KnownDevice.objects.filter(account=account).delete()
    record_event(
        EventType.PASSWORD_RESET,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
        by_recovery_code=by_recovery_code,
        known_devices_forgotten=devices,
    )
    with override(account.language):
        body = _(
            "Le mot de passe de votre compte eSanté vient d'être réinitialisé (mot de "
            "passe oublié) et toutes les sessions ont été déconnectées. Si ce n'était pas "
            "vous, appelez sans attendre le helpdesk au %(phone)s."
        ) % {"phone": helpdesk_contacts().phone}
        body += new_password_notice_end(account)
        notify_owner(account, _("Le mot de passe de votre compte eSanté a été changé"), body)


def new_password_notice_end(account: Account) -> str:
    """What the apps above add to the notice of a new password (esante.records: the
    assistants added lately): the signal `new_password_notice`."""
    answers = signals.new_password_notice.send(sender=Account, account=account)
    return "".join(sentence or "" for _receiver, sentence in answers)


# A new letter for an activated account. It would re-activate (take over) the account:
# whoever intercepts the post would get in. So the holder is told when it is asked for and
# when it is issued, each notice with a link that cancels it (without logging in; and
# *Mes services*, *Mon compte* while logged in), and while the account has a working
# second factor the letter may re-activate it only ESANTE_LETTER_REACTIVATION_WAIT_DAYS
# after the first notice. After the helpdesk's reset of the channel the account has none
# (the reset is the remedy to a lost one): no notice can reach the holder, no wait.

CANCEL_LINK_KIND = "letter-cancel"  # in the hashed message: see esante.keyed_hash


def has_working_second_factor(account: Account) -> bool:
    """Whether someone can still log in to the account with its code channel (SMS, e-mail
    or the app); not after the helpdesk reset it."""
    return bool(account.code_channel)


def reactivation_wait() -> datetime.timedelta:
    return datetime.timedelta(days=settings.ESANTE_LETTER_REACTIVATION_WAIT_DAYS)


def reactivation_allowed_from(letter: ActivationLetter) -> datetime.datetime | None:
    """From when `letter` may re-activate its person's account; None when no wait applies
    (no account, or one without a working second factor). Counted from the holder's
    notice of the request that the letter answers (or of the letter's issue, when it
    answers none)."""
    account = Account.objects.filter(person_id=letter.person_id).only("code_channel").first()
    if account is None or not has_working_second_factor(account):
        return None
    request = (
        LetterRequest.objects.filter(
            person_id=letter.person_id,
            notified_at__isnull=False,
            requested_at__lte=letter.issued_at,
        )
        .order_by("-requested_at", "-pk")
        .first()
    )
    told_at = request.notified_at if request is not None and request.notified_at else None
    return (told_at or letter.issued_at) + reactivation_wait()


def _cancel_link(token: str) -> str:
    return settings.ESANTE_PORTAL_URL + reverse("patient:letter_cancel", args=[token])


def _when(moment: datetime.datetime) -> str:
    """« 13 décembre 2026 à 14:05 », in the active language's formats."""
    local = timezone.localtime(moment)
    return _("%(date)s à %(time)s") % {
        "date": date_format(local, "DATE_FORMAT"),
        "time": date_format(local, "TIME_FORMAT"),
    }


def _new_cancel_token() -> tuple[str, str]:
    """A link's token (256 bits) and its keyed hash, which is all that is stored."""
    token = secrets.token_urlsafe(32)
    return token, keyed_hash(CANCEL_LINK_KIND, token)


@transaction.atomic
def announce_letter_request(request: LetterRequest, *, actor: str, ip_address: str | None) -> None:
    """A new letter was asked for (activation step 1, "Non"; the helpdesk's re-issue):
    the holder of the person's account, if it has a working second factor, is told on
    their channel with a link that cancels it; an account whose only channel is the app
    is told at its next login (*Mes services*). The wait counts from now. A request told
    already (the helpdesk re-issuing an open one) is not told again."""
    account = Account.objects.select_related("person").filter(person_id=request.person_id).first()
    if account is None or not has_working_second_factor(account) or request.notified_at:
        return
    now = timezone.now()
    token, token_hash = _new_cancel_token()
    is_app = account.code_channel == CodeChannel.TOTP
    request.notified_at = now
    request.cancel_token_hash = "" if is_app else token_hash
    request.save(update_fields=["notified_at", "cancel_token_hash"])
    record_event(
        EventType.LETTER_REQUEST_NOTIFIED,
        actor=actor,
        person=account.person,
        ip_address=ip_address,
        request=request.pk,
        stage="requested",
        channel=account.code_channel,
    )
    if is_app:
        return  # no address: shown at the next login, and in Mon compte
    with override(account.language):
        notify_owner(
            account,
            _("Nouveau courrier d'activation demandé pour votre compte eSanté"),
            _(
                "Bonjour, un nouveau courrier d'activation a été demandé le %(requested)s "
                "pour le compte eSanté de %(name)s. Ce courrier permettrait de réactiver le "
                "compte avec un nouveau mot de passe, au plus tôt le %(allowed)s. Si ce "
                "n'était pas vous, annulez la demande : %(link)s (ou dans Mon compte), puis "
                "appelez le helpdesk au %(phone)s."
            )
            % {
                "requested": _when(now),
                "name": account.person.full_name,
                "allowed": _when(now + reactivation_wait()),
                "link": _cancel_link(token),
                "phone": helpdesk_contacts().phone,
            },
            secret=token,
        )


def announce_issued_letters(batch: LetterBatch, *, actor: str) -> None:
    """The letters of `batch` that would re-activate an account with a working second
    factor: each holder is told that theirs is in the post, with a new cancel link and
    the day from which it may re-activate. A letter that answers no request told to the
    holder (issued by `esante issue-letters --matricule`, or asked for before the account
    had a channel) gets one now, and its wait counts from now."""
    accounts = (
        Account.objects.select_related("person")
        .filter(person__letters__batch=batch, person__letters__voided_at__isnull=True)
        .exclude(code_channel="")
    )
    now = timezone.now()
    for account in accounts:
        request = (
            LetterRequest.objects.filter(
                person_id=account.person_id,
                cancelled_at__isnull=True,
                fulfilled_at__gte=batch.created_at,
            )
            .order_by("-requested_at", "-pk")
            .first()
        )
        if request is None:
            request = LetterRequest.objects.create(
                person_id=account.person_id, requested_at=batch.created_at, fulfilled_at=now
            )
        if request.notified_at is None:
            request.notified_at = now
        token, token_hash = _new_cancel_token()
        is_app = account.code_channel == CodeChannel.TOTP
        request.issued_token_hash = "" if is_app else token_hash
        request.save(update_fields=["notified_at", "issued_token_hash"])
        record_event(
            EventType.LETTER_REQUEST_NOTIFIED,
            actor=actor,
            person=account.person,
            request=request.pk,
            stage="issued",
            channel=account.code_channel,
        )
        if is_app:
            continue
        with override(account.language):
            notify_owner(
                account,
                _("Un nouveau courrier d'activation part pour votre compte eSanté"),
                _(
                    "Bonjour, le nouveau courrier d'activation du compte eSanté de %(name)s "
                    "part par la poste. Il pourra réactiver le compte avec un nouveau mot de "
                    "passe à partir du %(allowed)s. Si ce n'était pas vous, annulez-le : "
                    "%(link)s (ou dans Mon compte), puis appelez le helpdesk au %(phone)s."
                )
                % {
                    "name": account.person.full_name,
                    "allowed": _when(request.notified_at + reactivation_wait()),
                    "link": _cancel_link(token),
                    "phone": helpdesk_contacts().phone,
                },
                secret=token,
            )


def is_pending(request: LetterRequest, now: datetime.datetime | None = None) -> bool:
    """Whether cancelling `request` still means something: it is neither cancelled nor
    over — open, or answered by a letter that is still unused and valid."""
    if request.cancelled_at is not None:
        return False
    if request.fulfilled_at is None:
        return True
    return (
        ActivationLetter.objects.filter(
            person_id=request.person_id,
            issued_at__gte=request.requested_at,
            used_at__isnull=True,
            voided_at__isnull=True,
            expires_at__gt=now or timezone.now(),
        )
        .exclude(batch=None)
        .exists()
    )


def request_for_cancel_token(token: str) -> LetterRequest | None:
    """The pending request whose notice carried this link's token, or None (unknown,
    used, or over: all alike)."""
    if not token or len(token) > 100:
        return None
    hashes = keyed_hashes(CANCEL_LINK_KIND, token)
    request = LetterRequest.objects.filter(
        Q(cancel_token_hash__in=hashes) | Q(issued_token_hash__in=hashes)
    ).first()
    return request if request is not None and is_pending(request) else None


def pending_letter_request(account: Account) -> LetterRequest | None:
    """The new letter its holder was told of and can still cancel (*Mes services*, *Mon
    compte*), if any: one query when there is none."""
    person = LetterRequest._meta.get_field("person")
    request = cast(
        "LetterRequest | None",
        _told_request_read().first([raw_sql.prepare(person, account.person_id)]),
    )
    return request if request is not None and is_pending(request) else None


@functools.cache
def _told_request_read() -> raw_sql.Related:
    """The person's last request they were told of and did not cancel: read at every
    login (*Mes services*), written once."""
    return raw_sql.Related(
        LetterRequest,
        "",
        where="{0.person} = %s AND {0.notified_at} IS NOT NULL AND {0.cancelled_at} IS NULL"
        " ORDER BY {0.requested_at} DESC, {0.pk} DESC LIMIT 1",
    )


def letter_wait_ends(request: LetterRequest) -> datetime.datetime | None:
    """When the letter of a told request may re-activate the account."""
    return request.notified_at + reactivation_wait() if request.notified_at else None


@transaction.atomic
def cancel_letter_request(request_id: int, *, actor: str, ip_address: str | None, via: str) -> bool:
    """The holder cancels a new letter (`via` its notice's link, or their account): the
    person's open requests close unanswered, their unused letters stop working, every
    cancel link dies, the holder is told. False, changing nothing, when the request is
    no longer pending (cancelled already: a link works once)."""
    request = (
        LetterRequest.objects.select_for_update()
        .select_related("person")
        .filter(pk=request_id)
        .first()
    )
    now = timezone.now()
    if request is None or not is_pending(request, now):
        return False
    person = request.person
    LetterRequest.objects.filter(pk=request.pk).update(cancelled_at=now)
    LetterRequest.objects.filter(person=person, fulfilled_at__isnull=True).update(
        fulfilled_at=now, cancelled_at=now
    )
    LetterRequest.objects.filter(person=person).update(cancel_token_hash="", issued_token_hash="")
    void_unused_letters([person], actor=actor, now=now, reason="cancelled")
    record_event(
        EventType.LETTER_REQUEST_CANCELLED,
        actor=actor,
        person=person,
        ip_address=ip_address,
        request=request.pk,
        via=via,
    )
    account = Account.objects.select_related("person").filter(person=person).first()
    if account is not None:
        with override(account.language):
            notify_owner(
                account,
                _("Nouveau courrier d'activation annulé"),
                _(
                    "Bonjour, le nouveau courrier d'activation demandé le %(requested)s pour "
                    "le compte eSanté de %(name)s est annulé : s'il arrive, son code ne "
                    "fonctionnera pas. Si ce n'était pas vous, appelez le helpdesk au "
                    "%(phone)s."
                )
                % {
                    "requested": _when(request.requested_at),
                    "name": person.full_name,
                    "phone": helpdesk_contacts().phone,
                },
            )
    return True


def forget_cancel_links(person: InsuredPerson) -> None:
    """The cancel links sent so far stop working: after the helpdesk's reset of the
    channel they are on the lost phone or in the lost mailbox, and must not let whoever
    holds it stop the holder's new letter."""
    LetterRequest.objects.filter(person=person).update(cancel_token_hash="", issued_token_hash="")
