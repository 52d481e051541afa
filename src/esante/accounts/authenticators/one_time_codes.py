"""One verification object for every one-time code of the platform (STYLE.md §5).

A code is 6 digits, sent by SMS or e-mail, stored only as a keyed hash. Its
`CodeVerification` knows the expiry (settings.ESANTE_OTP_MINUTES), the failed attempts
(5, then a new code is needed), the sends (a new one after 60 s; at most 5 an hour per
person and destination, 15 per destination, through the rate-limit table) and whether the
carrier took the message. A code is consumed by a conditional UPDATE, so it works exactly
once even when two app nodes race. The activation wizard uses it now; login and recovery
use it the same way.

Beyond each code's 5 tries, wrong codes are counted per person and per flow across codes
(`CodeLock`, in the database): from the 10th in a row, codes are refused for 1 minute,
then 2, 4 … at most 60 minutes per further wrong code, and a right code resets the count.
So the hourly budget of wrong codes (otp.failed) cannot be spent in one burst, and the
flows never lock each other: wrong codes in *Mot de passe oublié* (which anyone may start)
or in activation never lock the login's code step. Each try is claimed on the lock before
the code is compared, as each code's tries are, so tries sent at once see each other.

*Mot de passe oublié* answers alike with or without an account: for a matricule without
one, `DecoyVerification` plays out a code that was never sent, with the same interface
(`BaseVerification`): every code typed is wrong, in the same order of answers.
"""

from __future__ import annotations

import abc
import datetime
import enum
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from esante import client_address, ratelimit, raw_sql
from esante.accounts.authenticators import contacts, totp
from esante.accounts.models import Account, CodeChannel, CodeLock, CodePurpose, OneTimeCode
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.keyed_hash import hash_matches, keyed_hash
from esante.notifications.actions import queue_message
from esante.notifications.models import Channel, DeliveryState, OutboundMessage
from esante.registry.models import InsuredPerson, Language

CODE_DIGITS = 6
MAX_FAILED_ATTEMPTS = 5
RESEND_AFTER = datetime.timedelta(seconds=60)
HASH_KIND = "otp"
# Consecutive wrong codes of a person in a flow, across codes, before codes are refused.
LOCK_FROM_WRONG_CODES = 10
FIRST_CODE_LOCK = datetime.timedelta(minutes=1)
LONGEST_CODE_LOCK = datetime.timedelta(minutes=60)
# The kind of keyed hash under which *Mot de passe oublié* locks a matricule's codes.
LOCK_MATRICULE_HASH_KIND = "code-lock-matricule"


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXHAUSTED = "exhausted"  # too many wrong tries: a new code is needed
    EXPIRED = "expired"
    USED = "used"  # consumed already, or replaced by a newer code
    MALFORMED = "malformed"  # neither 6 digits nor a recovery code: a typo, never counted
    LOCKED = "locked"  # too many wrong codes in a row in this flow: wait (CodeLock)
    # A recovery code where only the app's own code will do (the password was reset with
    # one: the sheet may not stand in for both factors). Not checked, not counted.
    RECOVERY_CODE_REFUSED = "recovery_code_refused"


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    remaining_attempts: int = 0
    retry_after: int = 0  # LOCKED: seconds until codes are taken again

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


class ResendTooSoon(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


def normalize_code(typed: str) -> str | None:
    """The 6 digits of what was typed ("123 456" and "123-456" too), or None."""
    code = typed_characters(typed)
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        return None
    return code


def typed_characters(typed: str) -> str:
    """What a person typed as normalize_code reads it: spaces and dashes removed. Its
    length is what a length error tells them they typed."""
    return "".join(char for char in typed if not char.isspace() and char != "-")


def foreign_characters(typed: str, alphabet: str) -> list[str]:
    """The characters typed (in capitals) that are not in `alphabet`, each once, in the
    order typed: what a malformed code's error names."""
    typed_upper = typed_characters(typed).upper()
    return list(dict.fromkeys(char for char in typed_upper if char not in alphabet))


def code_flow(purpose: str) -> str:
    """The flow whose wrong codes count together: login, recovery, activation, or the
    changes made in *Mon compte* (step-up)."""
    if purpose in (CodePurpose.LOGIN, CodePurpose.RECOVERY, CodePurpose.ACTIVATION):
        return str(purpose)
    return "account"


@dataclass(frozen=True)
class LockKey:
    """Whose consecutive wrong codes, in which flow (a CodeLock row)."""

    flow: str
    subject: str

    @classmethod
    def for_person(cls, purpose: str, person_id: int) -> LockKey:
        return cls(code_flow(purpose), f"person:{person_id}")

    @classmethod
    def for_matricule(cls, purpose: str, matricule: str) -> LockKey:
        """By matricule, with or without an account (*Mot de passe oublié*: its decoy
        locks as an account would)."""
        return cls(code_flow(purpose), keyed_hash(LOCK_MATRICULE_HASH_KIND, matricule))


@dataclass(frozen=True)
class CodeTry:
    """A code try claimed on its flow's lock, counted as wrong until it is known."""

    key: LockKey
    failures: int  # the consecutive wrong codes with this one
    lock: datetime.datetime | None  # the lock this one brings, already in place


def code_lock_duration(failures: int) -> datetime.timedelta | None:
    """After `failures` consecutive wrong codes: none, then 1 min, 2, 4 … at most 60."""
    if failures < LOCK_FROM_WRONG_CODES:
        return None
    doublings = min(failures - LOCK_FROM_WRONG_CODES, 6)
    lock: datetime.timedelta = min(FIRST_CODE_LOCK * 2**doublings, LONGEST_CODE_LOCK)
    return lock


def claim_code_try(key: LockKey, now: datetime.datetime) -> CodeTry | int:
    """Count one more wrong code on `key` — with the lock it brings — unless codes are
    locked there: then the seconds left of the lock. Only people with wrong codes
    outstanding have a row: a right code deletes it.

    One statement claims the try, whether the row is there or not (`_count_code_try`); a
    second reads the lock only when codes are locked."""
    rows = CodeLock.objects.filter(flow=key.flow, subject=key.subject)
    for _attempt in range(2):  # a second time only if the lock ended (or went) meanwhile
        failures = _count_code_try(key, now)
        if failures is not None:
            duration = code_lock_duration(failures)
            return CodeTry(key=key, failures=failures, lock=now + duration if duration else None)
        locked_until = rows.values_list("locked_until", flat=True).first()
        if locked_until is not None and locked_until > now:
            return max(1, int((locked_until - now).total_seconds() + 0.999))
    return 1  # pragma: no cover (locked, then unlocked, then locked again at once): refused


def _count_code_try(key: LockKey, now: datetime.datetime) -> int | None:
    """The row made at 1 wrong code, or its count raised by one with the lock it brings
    (`code_lock_duration`), in one INSERT … ON CONFLICT DO UPDATE … RETURNING (SQLite ≥
    3.35, PostgreSQL): tries sent at once each count, the row's first ones included. The
    wrong codes with this one, or None while codes are locked (then nothing changes)."""
    table, flow, subject, failures, locked_until = raw_sql.names(
        CodeLock, "flow", "subject", "failures", "locked_until"
    )
    adapt = connection.ops.adapt_datetimefield_value
    # The CASE reads the row's count before this try: up to the 9th wrong code the lock
    # stays as it was (ended, or none); the 10th brings 1 minute, the 11th 2 … at most 60.
    growing = _growing_code_locks()
    locks = " ".join(f"WHEN {table}.{failures} = %s THEN %s" for _failures in growing)
    lock_values: list[Any] = []
    for each, duration in growing:
        lock_values += [each - 1, adapt(now + duration)]
    sql = (
        f"INSERT INTO {table} ({flow}, {subject}, {failures}, {locked_until}) "  # noqa: S608
        f"VALUES (%s, %s, 1, NULL) "
        f"ON CONFLICT ({flow}, {subject}) DO UPDATE SET {failures} = {table}.{failures} + 1, "
        f"{locked_until} = CASE WHEN {table}.{failures} < %s THEN {table}.{locked_until} "
        f"{locks} ELSE %s END "
        f"WHERE {table}.{locked_until} IS NULL OR {table}.{locked_until} <= %s "
        f"RETURNING {failures}"
    )
    parameters = [
        key.flow,
        key.subject,
        LOCK_FROM_WRONG_CODES - 1,
        *lock_values,
        adapt(now + LONGEST_CODE_LOCK),
        adapt(now),
    ]
    row = raw_sql.returning_one(sql, parameters)
    return int(row[0]) if row is not None else None


def _growing_code_locks() -> list[tuple[int, datetime.timedelta]]:
    locks = []
    failures = LOCK_FROM_WRONG_CODES
    while (duration := code_lock_duration(failures)) is not None and duration < LONGEST_CODE_LOCK:
        locks.append((failures, duration))
        failures += 1
    return locks


def give_back_code_try(claimed: CodeTry) -> None:
    """The try turned out not to be a guess (the code was used up, expired, or replayed):
    its count and the lock it brought are undone (unless something changed them since)."""
    rows = CodeLock.objects.filter(flow=claimed.key.flow, subject=claimed.key.subject)
    if claimed.lock is not None:
        rows.filter(locked_until=claimed.lock).update(failures=F("failures") - 1, locked_until=None)
    else:
        rows.filter(failures__gt=0).update(failures=F("failures") - 1)


def reset_code_lock(key: LockKey) -> None:
    """A right code: the count starts again (the row goes)."""
    CodeLock.objects.filter(flow=key.flow, subject=key.subject).delete()


def audit_code_lock(
    claimed: CodeTry, *, person: InsuredPerson | None, ip_address: str | None
) -> None:
    """A wrong code that brought a lock: audited (for an account's person)."""
    if claimed.lock is None or person is None:
        return
    record_event(
        EventType.CODE_LOCKED,
        actor="system",
        person=person,
        ip_address=ip_address,
        flow=claimed.key.flow,
        until=claimed.lock.isoformat(),
        failures=claimed.failures,
    )


def count_code_sent(request: HttpRequest, *, matricule: str, destination: str) -> None:
    """One more code sent (otp.send), or RateLimited with nothing counted: per IP, per
    person and destination (the person by matricule, so that a matricule without an
    account — *Mot de passe oublié*'s decoy, which has no destination — counts alike; the
    app's codes have none either), and per destination whoever the code is for (a family
    sharing one phone)."""
    ratelimit.check_and_hit(
        "otp.send", request, key=f"{matricule}\0{destination}", destination=destination
    )


def _message_texts(code: str) -> tuple[str, str]:
    subject = _("Votre code à usage unique eSanté")
    body = _(
        "Votre code eSanté : %(code)s. Il est valable pendant %(minutes)d min. "
        "Ne le communiquez à personne : l'Agence eSanté ne vous le demandera jamais."
    ) % {"code": code, "minutes": settings.ESANTE_OTP_MINUTES}
    return subject, body


def _code_language(
    purpose: CodePurpose, person: InsuredPerson, account_language: str | None
) -> str:
    """A code goes out in its holder's language (`account_language` when the caller holds
    the account, else read); at activation, which makes the account (or a new one over
    it), in the language of the page the person fills in."""
    if purpose != CodePurpose.ACTIVATION:
        if account_language is None:
            language = Account.objects.filter(person=person).values_list("language", flat=True)
            account_language = language.first()
        if account_language:
            return account_language
    return Language.of(get_language())


def _supersede_codes(flow_id: str, purpose: CodePurpose, now: datetime.datetime) -> None:
    """The flow's earlier codes of `purpose` no longer work (one UPDATE … RETURNING their
    messages, SQLite ≥ 3.35, PostgreSQL); a message of theirs still waiting for its
    carrier must not deliver a code that no longer works: it is closed, and its body
    masked (a second UPDATE, only when there is one)."""
    table, flow, purpose_column, consumed, superseded, message = raw_sql.names(
        OneTimeCode, "flow_id", "purpose", "consumed_at", "superseded_at", "message"
    )
    sql = (
        f"UPDATE {table} SET {superseded} = %s "  # noqa: S608
        f"WHERE {flow} = %s AND {purpose_column} = %s AND {consumed} IS NULL "
        f"AND {superseded} IS NULL RETURNING {message}"
    )
    parameters = [connection.ops.adapt_datetimefield_value(now), flow_id, str(purpose)]
    rows = raw_sql.returning(sql, parameters)
    messages = [row[0] for row in rows if row[0] is not None]
    if messages:
        OutboundMessage.objects.filter(pk__in=messages, state=DeliveryState.PENDING).mark_failed(
            "superseded by a newer code"
        )


def _carrier_refused(state: str | None, last_error: str | None) -> bool:
    """Whether the carrier refused a code's message, from the message's state and last
    error (both None: the code has no message, the app's)."""
    return state == DeliveryState.FAILED or bool(last_error)


def _seconds_until(moment: datetime.datetime) -> int:
    """Whole seconds from now until `moment`, rounded up; 0 once it has passed."""
    return max(0, int((moment - timezone.now()).total_seconds() + 0.999))


class BaseVerification(abc.ABC):
    """A code of one flow, as the code step uses it: resend it, check what is typed back.

    Every code typed is checked in the same order: its shape (a typo is never counted),
    then a try claimed on the flow's lock (`LockKey`: LOCKED while it holds), then the
    code's own check (`_check`); the try stays counted for a wrong code, is given back
    for a used-up one (no guess), and a right code resets the lock."""

    def __init__(self) -> None:
        # The app's time step that a successful verify() accepted (authenticator app).
        self.totp_step: int | None = None
        # Whether a successful verify() took one of the account's recovery codes.
        self.used_recovery_code = False
        self._counted = False  # whether _check counted a wrong code (not a used-up code)

    @property
    @abc.abstractmethod
    def channel(self) -> str:
        """How the code was sent (a CodeChannel)."""

    @property
    def is_app(self) -> bool:
        return self.channel == CodeChannel.TOTP

    @property
    @abc.abstractmethod
    def resend_wait(self) -> int:
        """Seconds before *Renvoyer le code* may be used; 0 when it may."""

    @abc.abstractmethod
    def resend(self, request: HttpRequest) -> BaseVerification:
        """A fresh code in this one's place, or ResendTooSoon (RateLimited past the
        limits of `count_code_sent`)."""

    @abc.abstractmethod
    def _default_lock(self) -> LockKey:
        """Where wrong codes count when `verify` is given no lock."""

    @abc.abstractmethod
    def _lock_holder(self) -> InsuredPerson | None:
        """Whose lock it is, for the audit of a lock (none for a decoy)."""

    @abc.abstractmethod
    def _check(
        self, code: str | None, recovery: str | None, now: datetime.datetime, ip_address: str | None
    ) -> Verification:
        """The code's own check of a well-formed code (6 digits, or a recovery code);
        sets `_counted` when it counted a wrong code."""

    def verify(
        self,
        typed: str,
        *,
        ip_address: str | None = None,
        lock: LockKey | None = None,
        recovery_codes: bool = True,
    ) -> Verification:
        """Check a typed code; on success it is consumed, atomically, and never works
        again. Call it inside the transaction of what the code authorizes, so that a
        failure after it gives the code back.

        Wrong codes count on the flow's lock, `lock` (by default the code's person in the
        flow of its purpose). `recovery_codes=False`: a recovery code is refused unseen
        (the password was reset with one)."""
        code = normalize_code(typed)
        # A recovery code's shape is well formed whatever the channel, and wrong for a code
        # sent by SMS or e-mail: the recovery page (which takes both, never saying which
        # the account uses) answers it as a wrong code, as it does without an account.
        recovery = totp.normalize_recovery(typed) if code is None else None
        if code is None and recovery is None:
            return Verification(Outcome.MALFORMED)
        if recovery is not None and not recovery_codes and self.is_app:
            return Verification(Outcome.RECOVERY_CODE_REFUSED)
        now = timezone.now()
        key = lock or self._default_lock()
        claimed_try = claim_code_try(key, now)
        if isinstance(claimed_try, int):
            return Verification(Outcome.LOCKED, retry_after=claimed_try)
        self._counted = False
        result = self._check(code, recovery, now, ip_address)
        if result.ok:
            reset_code_lock(key)
        elif self._counted:
            audit_code_lock(claimed_try, person=self._lock_holder(), ip_address=ip_address)
        else:
            give_back_code_try(claimed_try)
        return result


class CodeVerification(BaseVerification):
    """One code of one flow: send it, resend it, check what is typed back."""

    def __init__(self, one_time_code: OneTimeCode, *, delivery_failed: bool | None = None):
        super().__init__()
        self.code = one_time_code
        self._delivery_failed = delivery_failed  # None: not read yet

    @classmethod
    def find(cls, code_id: int | None, flow_id: str) -> CodeVerification | None:
        """The flow's code, never another flow's (a code typed in another browser), read
        with its message's state (`delivery_failed`) in one query."""
        if code_id is None:
            return None
        found = (
            OneTimeCode.objects.filter(pk=code_id, flow_id=flow_id)
            .annotate(message_state=F("message__state"), message_error=F("message__last_error"))
            .first()
        )
        if found is None:
            return None
        return cls(
            found,
            delivery_failed=_carrier_refused(
                getattr(found, "message_state", None), getattr(found, "message_error", None)
            ),
        )

    @classmethod
    @transaction.atomic
    def send(
        cls,
        request: HttpRequest,
        *,
        purpose: CodePurpose,
        flow_id: str,
        person: InsuredPerson,
        channel: CodeChannel,
        destination: str,
        language: str | None = None,
        new_flow: bool = False,
    ) -> CodeVerification:
        """Send a fresh code, replacing any earlier code of the same flow. Raises
        RateLimited past the limits of `count_code_sent`.

        With the authenticator app nothing is sent: `destination` is the app's sealed
        secret, and the code is the one the app shows (esante.accounts.authenticators.totp).

        `language`: the account's, when the caller holds it (else it is read; see
        `_code_language`). `new_flow`: the flow was started by this very request, so no
        earlier code of it can exist to replace."""
        app = channel == CodeChannel.TOTP
        count_code_sent(request, matricule=person.matricule, destination="" if app else destination)
        now = timezone.now()
        if not new_flow:
            _supersede_codes(flow_id, purpose, now)
        if app:
            return cls(
                OneTimeCode.objects.create(
                    purpose=purpose,
                    flow_id=flow_id,
                    person=person,
                    channel=channel,
                    destination=destination,
                    code_hash="",
                    created_at=now,
                    expires_at=now + datetime.timedelta(minutes=settings.ESANTE_OTP_MINUTES),
                    last_sent_at=now,
                )
            )
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        with override(_code_language(purpose, person, language)):
            subject, body = _message_texts(code)
        message = queue_message(
            Channel.SMS if channel == CodeChannel.SMS else Channel.EMAIL,
            recipient=destination,
            subject=subject,
            body=body,
            person=person,
            secret=code,
        )
        one_time_code = OneTimeCode.objects.create(
            purpose=purpose,
            flow_id=flow_id,
            person=person,
            channel=channel,
            destination=destination,
            code_hash=keyed_hash(HASH_KIND, code),
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=settings.ESANTE_OTP_MINUTES),
            last_sent_at=now,
            message=message,
        )
        record_event(
            EventType.OTP_SENT,
            actor=f"person:{person.pk}",
            person=person,
            ip_address=client_address.of(request),
            purpose=purpose,
            channel=channel,
            destination=contacts.mask(channel, destination),
        )
        return cls(one_time_code)

    @property
    def channel(self) -> CodeChannel:
        return CodeChannel(self.code.channel)

    @property
    def masked_destination(self) -> str:
        return contacts.mask(self.channel, self.code.destination)

    @property
    def app_in_setup(self) -> bool:
        """The app's secret is new (activation, change of channel): show its QR code."""
        if not self.is_app:
            return False
        return not Account.objects.filter(
            person_id=self.code.person_id, totp_secret=self.code.destination
        ).exists()

    def app_setup(self) -> dict[str, str]:
        label = self.code.person.esante_id
        uri = totp.setup_uri(self.code.destination, label)
        return {
            "qr": totp.qr_svg(uri, _("QR code à scanner avec votre application")),
            "secret": totp.grouped_secret(self.code.destination),
            "uri": uri,
        }

    @property
    def delivery_failed(self) -> bool:
        """The carrier refused the message (it stays in the outbox to be retried). Read
        once per request (with the code, by `find`): a code page asks it two to four times
        (the notice, the resend button's wait)."""
        if self._delivery_failed is None:
            if self.code.message_id is None:
                self._delivery_failed = False
            else:
                state, last_error = OutboundMessage.objects.values_list("state", "last_error").get(
                    pk=self.code.message_id
                )
                self._delivery_failed = _carrier_refused(state, last_error)
        return self._delivery_failed

    @property
    def resend_wait(self) -> int:
        """Seconds before *Renvoyer le code* may be used; 0 when it may (at once when the
        last message could not be sent)."""
        if self.delivery_failed:
            return 0
        return _seconds_until(self.code.last_sent_at + RESEND_AFTER)

    def resend(self, request: HttpRequest) -> CodeVerification:
        wait = self.resend_wait
        if wait:
            raise ResendTooSoon(wait)
        return self.send(
            request,
            purpose=CodePurpose(self.code.purpose),
            flow_id=self.code.flow_id,
            person=self.code.person,
            channel=self.channel,
            destination=self.code.destination,
        )

    def _default_lock(self) -> LockKey:
        return LockKey.for_person(self.code.purpose, self.code.person_id)

    def _lock_holder(self) -> InsuredPerson | None:
        return self.code.person

    def _check(
        self, code: str | None, recovery: str | None, now: datetime.datetime, ip_address: str | None
    ) -> Verification:
        # A try is taken before the comparison, in one conditional UPDATE: guesses sent at
        # once each take one of the five, and none is compared once they are gone.
        failed = self._take_try(now)
        if failed is None:
            self.code.refresh_from_db()
            if self.code.consumed_at or self.code.superseded_at:
                return Verification(Outcome.USED)
            if self.code.failed_attempts >= MAX_FAILED_ATTEMPTS:
                return Verification(Outcome.EXHAUSTED)
            return Verification(Outcome.EXPIRED)
        if self.is_app:
            refused = self._check_app(code, recovery, failed, ip_address)
            if refused is not None:
                return refused
        elif code is None or not hash_matches(self.code.code_hash, HASH_KIND, code):
            return self._count_failure(failed, ip_address)
        # The right code: consumed, and its try given back (it was not a failure).
        consumed = OneTimeCode.objects.filter(
            pk=self.code.pk,
            consumed_at__isnull=True,
            superseded_at__isnull=True,
            expires_at__gt=now,
        ).update(consumed_at=now, failed_attempts=F("failed_attempts") - 1)
        if not consumed:
            return Verification(Outcome.USED)
        self.code.consumed_at = now
        self.code.failed_attempts = failed - 1
        return Verification(Outcome.OK)

    def _take_try(self, now: datetime.datetime) -> int | None:
        """One of the code's tries taken, while it works (neither used, replaced, expired
        nor out of tries): the tries taken with this one, or None. One UPDATE … RETURNING
        (SQLite ≥ 3.35, PostgreSQL): the count is this try's, whatever others do since."""
        table, pk, failed, consumed, superseded, expires = raw_sql.names(
            OneTimeCode, "id", "failed_attempts", "consumed_at", "superseded_at", "expires_at"
        )
        sql = (
            f"UPDATE {table} SET {failed} = {failed} + 1 "  # noqa: S608
            f"WHERE {pk} = %s AND {consumed} IS NULL AND {superseded} IS NULL "
            f"AND {failed} < %s AND {expires} > %s RETURNING {failed}"
        )
        parameters = [
            self.code.pk,
            MAX_FAILED_ATTEMPTS,
            connection.ops.adapt_datetimefield_value(now),
        ]
        row = raw_sql.returning_one(sql, parameters)
        if row is None:
            return None
        self.code.failed_attempts = int(row[0])
        return self.code.failed_attempts

    def _give_back_try(self) -> None:
        OneTimeCode.objects.filter(pk=self.code.pk, failed_attempts__gt=0).update(
            failed_attempts=F("failed_attempts") - 1
        )

    def _check_app(
        self, code: str | None, recovery: str | None, failed: int, ip_address: str | None
    ) -> Verification | None:
        """The app's code (its step newer than the last accepted one, when the app is the
        account's already), or one of the account's recovery codes; None when accepted."""
        account = Account.objects.filter(
            person_id=self.code.person_id,
            code_channel=CodeChannel.TOTP,
            totp_secret=self.code.destination,
        ).first()
        if code is not None:
            step = totp.matching_step(self.code.destination, code)
            if step is None:
                return self._count_failure(failed, ip_address)
            if account is not None and not totp.claim_step(account.pk, step):
                self._give_back_try()  # a replay, not a guess
                return Verification(Outcome.USED)  # this code already served
            self.totp_step = step
            return None
        if account is None or recovery is None or not totp.use_recovery_code(account.pk, recovery):
            return self._count_failure(failed, ip_address)
        self.used_recovery_code = True
        return None

    def _count_failure(self, failed: int, ip_address: str | None) -> Verification:
        """The try taken by `_check` stays taken: audited, with the `failed` tries taken
        with it."""
        self._counted = True
        record_event(
            EventType.OTP_FAILED,
            actor=f"person:{self.code.person_id}",
            person=self.code.person,
            ip_address=ip_address,
            purpose=self.code.purpose,
            failed_attempts=failed,
        )
        if failed >= MAX_FAILED_ATTEMPTS:
            return Verification(Outcome.EXHAUSTED)
        return Verification(Outcome.WRONG, remaining_attempts=MAX_FAILED_ATTEMPTS - failed)


@dataclass
class DecoyCode:
    """What the flow's state keeps of a decoy (DecoyVerification): when its code would
    have been sent, and the wrong codes typed since."""

    sent_at: float  # a timestamp
    failures: int = 0


class DecoyVerification(BaseVerification):
    """*Mot de passe oublié* for a matricule without an account: what CodeVerification
    shows of a code, for a code that was never sent. Each send counts against the same
    limit (otp.send, for the matricule, without a destination); the tries, the expiry and
    the wait before *Renvoyer le code* are a code's; wrong codes lock the matricule's
    recovery codes (CodeLock) as an account's would; no code typed is ever right.

    It is kept in the flow's state (`as_data`), not in the database."""

    def __init__(self, matricule: str, *, sent_at: float, failures: int = 0):
        super().__init__()
        self.matricule = matricule
        self.sent_at = sent_at  # a timestamp, as the flow's state keeps it
        self.failures = failures

    @classmethod
    def send(cls, request: HttpRequest, *, matricule: str) -> DecoyVerification:
        count_code_sent(request, matricule=matricule, destination="")
        return cls(matricule, sent_at=timezone.now().timestamp())

    @classmethod
    def from_data(cls, matricule: str, data: DecoyCode | None) -> DecoyVerification:
        """The decoy kept in a flow's state; none there: one sent long ago (expired)."""
        data = data or DecoyCode(sent_at=0.0)
        return cls(matricule, sent_at=data.sent_at, failures=data.failures)

    def as_data(self) -> DecoyCode:
        return DecoyCode(sent_at=self.sent_at, failures=self.failures)

    @property
    def channel(self) -> str:
        """A decoy went nowhere: its page names no channel (OneTimeCodeForm's "any"), as
        it names none for an account."""
        return "any"

    @property
    def _sent(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.sent_at, tz=datetime.UTC)

    @property
    def resend_wait(self) -> int:
        return _seconds_until(self._sent + RESEND_AFTER)

    def resend(self, request: HttpRequest) -> DecoyVerification:
        wait = self.resend_wait
        if wait:
            raise ResendTooSoon(wait)
        return self.send(request, matricule=self.matricule)

    def _default_lock(self) -> LockKey:
        return LockKey.for_matricule(CodePurpose.RECOVERY, self.matricule)

    def _lock_holder(self) -> InsuredPerson | None:
        return None

    def _check(
        self, code: str | None, recovery: str | None, now: datetime.datetime, ip_address: str | None
    ) -> Verification:
        """A code's answers to a wrong code, in CodeVerification's order: exhausted or
        expired (no guess: not counted), or one try less."""
        if self.failures >= MAX_FAILED_ATTEMPTS:
            return Verification(Outcome.EXHAUSTED)
        expires_at = self._sent + datetime.timedelta(minutes=settings.ESANTE_OTP_MINUTES)
        if expires_at <= now:
            return Verification(Outcome.EXPIRED)
        self.failures += 1
        self._counted = True
        if self.failures >= MAX_FAILED_ATTEMPTS:
            return Verification(Outcome.EXHAUSTED)
        return Verification(Outcome.WRONG, remaining_attempts=MAX_FAILED_ATTEMPTS - self.failures)
