"""Logging a patient in and out: credentials, growing temporary locks, sessions.

Lock policy (README, security): every wrong password on an account counts; from the 5th
consecutive failure the account is locked for 1 minute, then 2, 4, 8 and at most 15
minutes per further failure, so an attacker gets about 100 tries a day and nobody can lock
a victim out for good; a success resets the count. After 100 consecutive failures the
password no longer opens the account until the owner resets it (*Mot de passe oublié*,
with a code to their registered channel). The owner is told of a lock by their
registered channel at each lock. While locked, the account's password is not checked at
all (no oracle), and the answer is the one for a wrong password. A matricule without an
account is checked against a dummy hash, so that all answers take the same time.

Each password check is claimed before it starts (`claim_attempt`): one conditional UPDATE
counts it as a failure — with the lock it would bring — unless the account is locked, and
the right password gives the claim back. So wrong passwords sent at once, to one or many
app servers, see each other: no more of them are checked than the lock allows (5, then one
per lock), where reading the lock before a slow Argon2 check and counting after it let a
whole burst through.

Device cookies (the OWASP pattern against malicious lockout): a browser that has logged
in to an account keeps a signed, HttpOnly cookie naming the account (a keyed hash of its
matricule, never the matricule) and a random token whose keyed hash the server keeps
(`KnownDevice`). Typing that account's password in that browser counts its failures on
the device, apart: the lock, the captcha and the "100 consecutive failures" above are then
the device's own, and the per-matricule and per-IP limits give way to one per device. So
wrong passwords from everywhere else — an attacker without the cookie — lock every other
browser but never the holder's own; the holder's typos on their own browser never lock
the account for the others. The token dies with a password reset, the helpdesk's reset
of the channel and a re-activation.

Every refusal is audited as `login.failed` with its reason (ASVS 5.0 16.3.1): a wrong
password, a try on a locked account, a matricule without an account. The last is one row
whatever the matricule: no person, and the matricule only as a keyed hash (so the same one
tried again can be followed, but the log neither keeps nor tells which matricules exist).
The row is written on every branch, so it costs the same time everywhere.

A session (PatientSession) starts with a new session id, and gets another one whenever the
password is typed again inside it (`reauthenticate`); it ends after
ESANTE_SESSION_IDLE_MINUTES without a request, after ESANTE_SESSION_MAX_HOURS in any case,
at logout, or when ended from *Mon compte*. Its row keeps how it was opened (`method`,
`amr`) and when an identity provider last authenticated the person for it
(`strong_auth_at`): what the platform's OpenID Connect provider tells the services. Each
end is told to the apps above (accounts.signals.patient_sessions_ended).
"""

from __future__ import annotations

import datetime
import functools
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import override

from esante import client_address, identities, raw_sql
from esante.accounts.actions import change_language
from esante.accounts.models import Account, CodeChannel, KnownDevice, PatientSession
from esante.accounts.notices import notify_owner
from esante.accounts.reauth import mark_second_factor
from esante.accounts.signals import patient_sessions_ended
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.client_address import ClientRequest
from esante.keyed_hash import keyed_hash, keyed_hashes
from esante.portal.helpdesk import helpdesk_contacts
from esante.registry import matricule as matricule_rules
from esante.registry.models import Language

if TYPE_CHECKING:
    from esante.accounts.authenticators.identity_providers import Identity

LOCK_FROM_FAILURE = 5
# NIST SP 800-63B: never more than 100 consecutive failures. Past them the password no
# longer opens the account until *Mot de passe oublié* (a code to the owner) resets it.
MAX_CONSECUTIVE_FAILURES = 100
FIRST_LOCK = datetime.timedelta(minutes=1)
LONGEST_LOCK = datetime.timedelta(minutes=15)
SESSION_KEY = "patient_session_id"
# The kind of keyed hash under which a matricule without an account is audited.
MATRICULE_HASH_KIND = "login-matricule"


@functools.cache
def dummy_hash() -> str:
    """What a password is checked against when there is no account (same Argon2 work).
    Made on first use, not at import: every process and command would pay for it."""
    return make_password("esante-dummy-password-for-timing")


def lock_duration(failures: int) -> datetime.timedelta | None:
    """The lock after `failures` consecutive failures: none, 1 min, 2, 4, 8, then 15."""
    if failures < LOCK_FROM_FAILURE:
        return None
    doublings = min(failures - LOCK_FROM_FAILURE, 4)
    lock: datetime.timedelta = min(FIRST_LOCK * 2**doublings, LONGEST_LOCK)
    return lock


def check_credentials(
    matricule: str,
    password: str,
    *,
    ip_address: str | None,
    device: KnownDevice | None = None,
) -> Account | None:
    """The account if the matricule has one, it is not locked and the password is its own;
    otherwise None, for the caller's one message (wrong password, unknown or not yet
    activated matricule, temporary lock all read the same). A locked account's password
    is not even checked, so that a lock is no oracle for guessing it.

    `device`: this browser is one the account knows (`known_device`): its own failures
    and lock count, not the account's (which are those of every other browser)."""
    if device is not None:
        account: Account | None = device.account
    else:
        account = (
            Account.objects.select_related("person")
            .filter(person__matricule=matricule_rules.normalize(matricule))
            .first()
        )
    holder: Account | KnownDevice | None = device or account
    now = timezone.now()
    claim = None
    if holder is not None and not is_locked(holder, now):
        claim = claim_attempt(holder, now)  # None: others in flight took the last try
    if account is None or holder is None or claim is None:
        check_password(password, dummy_hash())  # the same work as for an account
        _record_refusal(account, matricule, ip_address=ip_address, device=device)
        return None
    if not check_password(password, account.password):
        register_failure(account, claim, ip_address=ip_address, device=device)
        return None
    release_attempt(holder, claim)
    return account


@dataclass(frozen=True)
class Claim:
    """A password check reserved on an account, counted as a failure until it is known."""

    failures: int  # the consecutive failures with this one
    lock: datetime.datetime | None  # the lock this failure brings, already in place
    previous_lock: datetime.datetime | None  # what the lock was before (expired or None)


def _rows(holder: Account | KnownDevice) -> QuerySet[Any]:
    """The row whose failures and lock count: the account's (unknown browsers), or a
    known browser's."""
    if isinstance(holder, KnownDevice):
        return KnownDevice.objects.filter(pk=holder.pk)
    return Account.objects.filter(pk=holder.pk)


def claim_attempt(account: Account | KnownDevice, now: datetime.datetime) -> Claim | None:
    """Count one more failure on `account` (or a known browser of it) — and put in place
    the lock it brings — in one conditional UPDATE, unless it is locked (None then).
    Checks in flight together each claim their own place, so the lock stops them as it
    would stop them one by one.

    One statement, no transaction: the UPDATE returns the count it wrote (RETURNING,
    PostgreSQL and SQLite ≥ 3.35), our own whatever others write after it; the lock it
    wrote is `now` plus the lock of that count, computed here as the CASE computed it."""
    sql, lock_params = _claim_sql(type(account))
    params = [
        *lock_params(now),
        account.pk,
        MAX_CONSECUTIVE_FAILURES,
        connection.ops.adapt_datetimefield_value(now),
    ]
    row = raw_sql.returning_one(sql, params)
    if row is None:
        return None
    failures = int(row[0])
    duration = lock_duration(failures)
    return Claim(
        failures=failures,
        lock=now + duration if duration is not None else None,
        previous_lock=account.locked_until,
    )


@functools.cache
def _claim_sql(
    model: type[Account | KnownDevice],
) -> tuple[str, Callable[[datetime.datetime], list[Any]]]:
    """claim_attempt's UPDATE on `model`'s table, and the parameters of its lock (the
    CASE: the lock stays below LOCK_FROM_FAILURE failures, then grows to LONGEST_LOCK).
    In SET, the columns are read as they were before the UPDATE (SQL, both databases)."""
    table, pk, failed, locked = raw_sql.names(
        model, model._meta.pk.name, "failed_logins", "locked_until"
    )
    growing = _growing_locks()
    whens = " ".join(f"WHEN {failed} = %s THEN %s" for _lock in growing)
    sql = (
        f"UPDATE {table} SET {failed} = {failed} + 1, "  # noqa: S608 - our names, quoted
        f"{locked} = CASE WHEN {failed} < %s THEN {locked} {whens} ELSE %s END "
        f"WHERE {pk} = %s AND {failed} < %s AND ({locked} IS NULL OR {locked} <= %s) "
        f"RETURNING {failed}"
    )

    def lock_params(now: datetime.datetime) -> list[Any]:
        adapt = connection.ops.adapt_datetimefield_value
        params: list[Any] = [LOCK_FROM_FAILURE - 1]
        for failures, duration in growing:
            params += [failures - 1, adapt(now + duration)]
        return [*params, adapt(now + LONGEST_LOCK)]

    return sql, lock_params


def _growing_locks() -> list[tuple[int, datetime.timedelta]]:
    """(failures, lock) from the first lock until the longest (which the rest keep)."""
    locks = []
    failures = LOCK_FROM_FAILURE
    while (duration := lock_duration(failures)) is not None and duration < LONGEST_LOCK:
        locks.append((failures, duration))
        failures += 1
    return locks


def release_attempt(account: Account | KnownDevice, claim: Claim) -> None:
    """The right password: its claim was no failure. The count goes back down, and a lock
    the claim put in place is lifted (unless something else changed it meanwhile: a reset,
    the helpdesk's unlock). The failures stay as they were: only a login resets them."""
    if claim.lock is not None:
        _rows(account).filter(locked_until=claim.lock).update(
            failed_logins=F("failed_logins") - 1, locked_until=claim.previous_lock
        )
    else:
        _rows(account).filter(failed_logins__gt=0).update(failed_logins=F("failed_logins") - 1)


def _record_refusal(
    account: Account | None,
    matricule: str,
    *,
    ip_address: str | None,
    device: KnownDevice | None = None,
) -> None:
    """The audit row of a refusal that checked no password: a locked account's (or known
    browser's), or one for a matricule without an account (unknown to the registry or not
    yet activated: the row does not say which, and keeps the matricule only as a keyed
    hash)."""
    if account is None:
        hashed = keyed_hash(MATRICULE_HASH_KIND, matricule_rules.normalize(matricule))
        _audit_failure(None, ip_address, "no_account", matricule_hash=hashed)
    elif device is not None:
        _audit_failure(
            account,
            ip_address,
            "locked",
            failed_logins=device.failed_logins,
            known_device=device.pk,
        )
    else:
        _audit_failure(account, ip_address, "locked", failed_logins=account.failed_logins)


def _audit_failure(
    account: Account | None, ip_address: str | None, reason: str, **details: Any
) -> None:
    record_event(
        EventType.LOGIN_FAILED,
        actor="anonymous",
        person=account.person if account else None,
        ip_address=ip_address,
        method="password",
        reason=reason,
        **details,
    )


def is_locked(account: Account | KnownDevice, now: datetime.datetime) -> bool:
    if account.failed_logins >= MAX_CONSECUTIVE_FAILURES:
        return True
    return account.locked_until is not None and account.locked_until > now


@transaction.atomic
def register_failure(
    account: Account,
    claim: Claim,
    *,
    ip_address: str | None,
    device: KnownDevice | None = None,
) -> None:
    """A wrong password: its claim stays counted. Audited, and the lock it brought (already
    in place since the claim) is audited and told to the owner. From a known browser
    (`device`), the count and the lock are that browser's alone."""
    on_device = {"known_device": device.pk} if device is not None else {}
    _audit_failure(account, ip_address, "wrong_password", failed_logins=claim.failures, **on_device)
    if claim.lock is None:
        return
    record_event(
        EventType.ACCOUNT_LOCKED,
        actor="system",
        person=account.person,
        ip_address=ip_address,
        until=claim.lock.isoformat(),
        failed_logins=claim.failures,
        **on_device,
    )
    _notify_lock(account)


def _notify_lock(account: Account) -> None:
    with override(account.language):
        notify_owner(
            account,
            _("Votre compte eSanté est bloqué temporairement"),
            _(
                "Plusieurs mots de passe erronés ont été saisis pour votre compte eSanté : "
                "la connexion est bloquée pendant quelques minutes. Si ce n'était pas vous, "
                "changez votre mot de passe et appelez le helpdesk au %(phone)s."
            )
            % {"phone": helpdesk_contacts().phone},
        )


# How a session was opened (PatientSession.method), besides code_login_method's channels.
PASSKEY = "passkey"
RECOVERY_CODE = "password+recovery"
PROVIDER_PREFIX = "oidc:"


def code_login_method(channel: str, *, recovery_code: bool) -> str:
    """The method of a login with the password and a code: the code's channel
    ("password+code:sms", "password+code:email", "password+code:app" — the app as the
    person knows it, not the TOTP it runs), or "password+recovery" when a recovery code
    stood in for the app's (it proves less: amr_of)."""
    if recovery_code:
        return RECOVERY_CODE
    return "password+code:" + ("app" if channel == CodeChannel.TOTP else channel)


def provider_method(slug: str) -> str:
    return f"{PROVIDER_PREFIX}{slug}"


def amr_of(method: str, provider_amr: Sequence[str] = ()) -> list[str]:
    """A session's authentication methods (OpenID Connect `amr`, RFC 8176 §2 values), as
    the platform's provider tells services how the person logged in.

    - password and SMS code: pwd, sms, mfa;
    - password and e-mail code, or the app's code: pwd, otp, mfa. RFC 8176 has no value
      for an e-mail; the code is a one-time password, and the guide makes the mailbox a
      second factor (a deviation from NIST, docs/architecture.md), so mfa;
    - password and a recovery code: pwd, otp, and no mfa. The sheet stands in for a lost
      app; the platform itself does not count it as proof of the second factor
      (esante.accounts.reauth), so it does not vouch for one to the services either;
    - a passkey: hwk (a key held by an authenticator), user (user verification is
      required: esante.accounts.authenticators.passkeys), mfa (the device and its
      unlocking);
    - an identity provider (`oidc:<slug>`): mfa — the platform accepts its login as
      complete, at the level (acr) it asks for — then what the provider said of its own
      (`provider_amr`), without repeats.
    An unknown method (a session opened before methods were kept) claims nothing: []."""
    if method.startswith(PROVIDER_PREFIX):
        values = ["mfa"]
        for value in provider_amr:
            if isinstance(value, str) and value and value not in values:
                values.append(value)
        return values
    return {
        "password+code:sms": ["pwd", "sms", "mfa"],
        "password+code:email": ["pwd", "otp", "mfa"],
        "password+code:app": ["pwd", "otp", "mfa"],
        RECOVERY_CODE: ["pwd", "otp"],
        PASSKEY: ["hwk", "user", "mfa"],
    }.get(method, [])


def _strong_auth_time(identity: Identity, now: datetime.datetime) -> datetime.datetime:
    """When the provider authenticated the person: its `auth_time` when it sent one (an
    earlier login there, which it did not ask again, is what a service's max_age must
    measure), never later than now; otherwise now."""
    if identity.auth_time is None:
        return now
    return min(identity.auth_time, now)


# No savepoint: inside a transaction (the code step's), an error here rolls the whole of
# it back (the code is given back), as it should; outside one, this is the transaction.
@transaction.atomic(savepoint=False)
def log_in(
    request: HttpRequest,
    account: Account,
    *,
    method: str,
    identity: Identity | None = None,
    app_code: bool = False,
    second_factor: bool = True,
    **details: Any,
) -> PatientSession:
    """Start a session for `account`: a new session id (no fixation), the failures reset,
    the event audited with how the person authenticated (`method` and `details`), the
    session's row keeping `method` and its amr (amr_of). The login proves the second
    factor (esante.accounts.reauth) unless `second_factor` is False (a recovery code
    instead of the app's code).
    `identity`: a login through an identity provider (what it vouched for, after every
    check): its amr joins the session's, its authentication time is the session's
    strong authentication (strong_auth_at), its acr and amr go to the audit event.
    `app_code`: the password came with the app's own code (not a recovery code), which
    lifts the mark of a reset by recovery code (Account.password_reset_by_recovery_code):
    whoever set the password holds the app. A professional's or staff member's session in
    this browser ends first (esante.identities).

    The reset is written only when `account` (read in this request) shows something to
    reset: a failure counted since that read is then kept, as if the login had come
    first — the order of a failure and a success in flight together is either one, and
    this one only ever keeps a lock that the unconditional reset would have lifted."""
    identities.starting(request, "patient")
    request.session.cycle_key()
    if second_factor:
        mark_second_factor(request)
    now = timezone.now()
    cleared: dict[str, Any] = {}
    if account.failed_logins or account.locked_until is not None:
        cleared.update(failed_logins=0, locked_until=None)
    if app_code and account.password_reset_by_recovery_code:
        cleared["password_reset_by_recovery_code"] = False
    if cleared:
        Account.objects.filter(pk=account.pk).update(**cleared)
    if identity is not None:
        details.update(acr=identity.acr, amr=identity.amr)
    session = PatientSession.objects.create(
        account=account,
        session_key=request.session.session_key or "",
        started_at=now,
        last_seen_at=now,
        ip_address=client_address.of(request),
        user_agent=request.headers.get("User-Agent", "")[:300],
        method=method,
        amr=amr_of(method, identity.amr if identity is not None else ()),
        strong_auth_at=_strong_auth_time(identity, now) if identity is not None else None,
    )
    request.session[SESSION_KEY] = session.pk
    record_event(
        EventType.LOGIN_SUCCEEDED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=client_address.of(request),
        session=session.pk,
        method=method,
        **details,
    )
    return session


# The language chosen in the menu by a visitor not yet logged in: a signed cookie for the
# browser's session (no server-side write for an anonymous visitor), which
# settle_language makes the account's and deletes.
LANGUAGE_CHOSEN = "esante_language_chosen"
LANGUAGE_CHOSEN_SALT = "esante.accounts.patient_sessions.language_chosen"


def remember_language_chosen(response: HttpResponse, language: str) -> None:
    response.set_signed_cookie(
        LANGUAGE_CHOSEN,
        language,
        salt=LANGUAGE_CHOSEN_SALT,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def settle_language(request: HttpRequest, response: HttpResponse, account: Account) -> None:
    """After a login (every way), the pages and the account agree on one language. A
    language the visitor chose in the menu before logging in, in this browser session, is
    the account's from now on, as if chosen once logged in; otherwise the browser is
    switched to the account's (a fresh browser of a German holder shows German). The
    language cookie alone is no choice: on a browser a family shares, it is the last
    login's."""
    chosen = request.get_signed_cookie(LANGUAGE_CHOSEN, "", salt=LANGUAGE_CHOSEN_SALT)
    response.delete_cookie(LANGUAGE_CHOSEN, samesite="Lax")
    if chosen in Language.values:
        change_language(account, Language(chosen), ip_address=client_address.of(request))
        return
    translation.activate(account.language)
    # As Django's set_language sets it (the language menu).
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        account.language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
    )


def reauthenticate(request: HttpRequest, account: Account, password: str) -> bool:
    """The password typed again inside a session (*Mon compte*), before a sensitive change.
    Right: a new session id, the old one ended (ASVS 5.0 7.2.4), the session's row
    following it. Wrong: audited as a failed login (it does not count towards the lock)."""
    ip_address = client_address.of(request)
    if not check_password(password, account.password):
        record_event(
            EventType.LOGIN_FAILED,
            actor=f"person:{account.person_id}",
            person=account.person,
            ip_address=ip_address,
            method="password",
            reason="wrong_password",
            step="reauthentication",
        )
        return False
    request.session.cycle_key()
    session_id = request.session.get(SESSION_KEY)
    if session_id is not None:
        PatientSession.objects.filter(pk=session_id, account=account).update(
            session_key=request.session.session_key or ""
        )
    return True


def mark_strong_authentication(request: HttpRequest, identity: Identity) -> None:
    """The person has just confirmed their identity with an identity provider inside this
    session (*Confirmez votre identité*, with a subject linked to the account: the caller
    checked it): the session's strong authentication is that one, unless the session
    already holds a later one (a provider may answer from an older login of its own); its
    methods join the session's `amr` (what the services are told)."""
    session_id = request.session.get(SESSION_KEY)
    if session_id is None:
        return
    at = _strong_auth_time(identity, timezone.now())
    rows = PatientSession.objects.filter(pk=session_id, ended_at__isnull=True)
    row = rows.first()
    if row is None:
        return
    methods = amr_of(provider_method(identity.provider.slug), identity.amr)
    merged = list(dict.fromkeys([*row.amr, *methods]))
    if merged != row.amr:
        rows.update(amr=merged)
    rows.filter(Q(strong_auth_at__isnull=True) | Q(strong_auth_at__lt=at)).update(strong_auth_at=at)


def log_out(request: HttpRequest, *, reason: str = "logout") -> None:
    """`reason`: "logout" (the person's), "expired" (idle or too old, found at a request)."""
    session = current_session(request)
    if session is not None:
        _end(request, session, reason)
    request.session.flush()


def end_for_other_identity(request: HttpRequest) -> None:
    """Another identity logs in in this browser (esante.identities): the patient's session
    ends (row, audit) and leaves the browser session, which is not flushed."""
    if SESSION_KEY not in request.session:
        return
    session = current_session(request)
    if session is not None:
        _end(request, session, "other_identity")
    del request.session[SESSION_KEY]
    patient = getattr(request, "patient", None)
    if isinstance(patient, Patient):
        patient.__dict__.pop("session", None)  # read again: none now


@transaction.atomic
def _end(request: HttpRequest, session: PatientSession, reason: str) -> None:
    """The session's row ended and audited; the apps above told, in this transaction
    (their error undoes the end), unless another request had ended it first."""
    ended = PatientSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    record_event(
        EventType.LOGGED_OUT,
        actor=f"person:{session.account.person_id}",
        person=session.account.person,
        ip_address=client_address.of(request),
        session=session.pk,
        reason=reason,
    )
    if ended:
        patient_sessions_ended.send(
            sender=PatientSession, account=session.account, session_ids=[session.pk], reason=reason
        )


def current_session(request: HttpRequest) -> PatientSession | None:
    """The browser's patient session, open, with its account and person."""
    session_id = request.session.get(SESSION_KEY)
    if session_id is None:
        return None
    return cast(
        "PatientSession | None",
        _open_session_read().first([raw_sql.prepare(PatientSession._meta.pk, session_id)]),
    )


@functools.cache
def _open_session_read() -> raw_sql.Related:
    """Read on every logged-in request: written once (through the ORM, building the
    statement cost 0.7 ms of CPU a request, `bench/budget.py`'s slow machine)."""
    return raw_sql.Related(
        PatientSession, "account__person", where="{0.pk} = %s AND {0.ended_at} IS NULL"
    )


class Patient:
    """request.patient: the logged-in account, read once per request (or None)."""

    def __init__(self, request: HttpRequest):
        self.request = request

    @cached_property
    def session(self) -> PatientSession | None:
        session = current_session(self.request)
        if session is None:
            return None
        now = timezone.now()
        idle = datetime.timedelta(minutes=settings.ESANTE_SESSION_IDLE_MINUTES)
        longest = datetime.timedelta(hours=settings.ESANTE_SESSION_MAX_HOURS)
        if now - session.last_seen_at > idle or now - session.started_at > longest:
            log_out(self.request, reason="expired")
            return None
        # Seen now; written at most once a minute, not on every request.
        if now - session.last_seen_at > datetime.timedelta(minutes=1):
            PatientSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        return session

    @property
    def account(self) -> Account | None:
        return self.session.account if self.session else None

    @property
    def logged_in_session(self) -> PatientSession:
        """The session, on a page behind patient_required, which sent every visitor
        without one to the login page (a view without it gets a 403, not a crash)."""
        if self.session is None:
            raise PermissionDenied
        return self.session

    @property
    def logged_in_account(self) -> Account:
        """The account, on a page behind patient_required (see logged_in_session)."""
        return self.logged_in_session.account


class PatientRequest(ClientRequest):
    """A request of the patient site: who is logged in is `request.patient` (PatientMiddleware,
    on every request), whose `account` is None for a visitor."""

    patient: Patient


# Devices: a login from a browser never seen on the account is notified to its owner, and
# a browser the account knows keeps its own count of wrong passwords (device cookies).

DEVICE_COOKIE = "esante_appareil"
DEVICE_COOKIE_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
DEVICE_COOKIE_SALT = "esante.accounts.device"
DEVICE_HASH_KIND = "device"
DEVICE_ACCOUNT_HASH_KIND = "device-account"
# Accounts one browser is known to (a family logs in to its children's accounts too).
DEVICE_COOKIE_ACCOUNTS = 10


def _device_entries(request: HttpRequest) -> dict[str, str]:
    """The browser's device cookie: account key → token, when its signature holds."""
    raw = request.get_signed_cookie(
        DEVICE_COOKIE, default="", salt=DEVICE_COOKIE_SALT, max_age=DEVICE_COOKIE_AGE
    )
    entries = {}
    for entry in str(raw or "").split("|"):
        account_key, dot, token = entry.partition(".")
        if dot and account_key and token:
            entries[account_key] = token
    return entries


def account_keys(matricule: str) -> list[str]:
    """How the cookie names the account of `matricule`: a keyed hash (under the current
    key, then each fallback), never the matricule."""
    return [
        hashed[:32]
        for hashed in keyed_hashes(DEVICE_ACCOUNT_HASH_KIND, matricule_rules.normalize(matricule))
    ]


def _device_token(entries: dict[str, str], matricule: str) -> str | None:
    return next((entries[key] for key in account_keys(matricule) if key in entries), None)


def known_device(request: HttpRequest, matricule: str) -> KnownDevice | None:
    """The account's known browser this request comes from, when its device cookie vouches
    for the account of `matricule` (with its account and person); None otherwise. No query
    unless the cookie names that account."""
    token = _device_token(_device_entries(request), matricule)
    if token is None:
        return None
    hashes = keyed_hashes(DEVICE_HASH_KIND, token)
    hash_field = KnownDevice._meta.get_field("token_hash")
    parameters = [raw_sql.prepare(hash_field, value) for value in hashes]
    parameters.append(matricule_rules.normalize(matricule))
    return cast("KnownDevice | None", _known_device_read(len(hashes)).first(parameters))


@functools.cache
def _known_device_read(hashes: int) -> raw_sql.Related:
    """The login's read of a known browser (`hashes`: under the current key and each
    fallback), written once: through the ORM the join was built again at every login."""
    return raw_sql.Related(
        KnownDevice,
        "account__person",
        where=f"{{0.token_hash}} IN ({', '.join(['%s'] * hashes)}) AND {{2.matricule}} = %s",
    )


def remember_device(request: HttpRequest, response: HttpResponse, account: Account) -> bool:
    """After a login: known browser → seen now, its failures reset; new browser →
    remembered (the signed device cookie names the account and a new token) and the
    owner told. Returns whether the browser was new."""
    entries = _device_entries(request)
    matricule = account.person.matricule
    token = _device_token(entries, matricule)
    now = timezone.now()
    if token:
        known = KnownDevice.objects.filter(
            account=account, token_hash__in=keyed_hashes(DEVICE_HASH_KIND, token)
        ).update(last_seen_at=now, failed_logins=0, locked_until=None)
        if known:
            return False
    token = secrets.token_urlsafe(32)
    KnownDevice.objects.create(
        account=account,
        token_hash=keyed_hash(DEVICE_HASH_KIND, token),
        user_agent=request.headers.get("User-Agent", "")[:300],
        first_seen_at=now,
        last_seen_at=now,
    )
    for key in account_keys(matricule):
        entries.pop(key, None)
    entries[account_keys(matricule)[0]] = token  # the newest last; the oldest dropped
    kept = list(entries.items())[-DEVICE_COOKIE_ACCOUNTS:]
    response.set_signed_cookie(
        DEVICE_COOKIE,
        "|".join(f"{key}.{value}" for key, value in kept),
        salt=DEVICE_COOKIE_SALT,
        max_age=DEVICE_COOKIE_AGE,
        # As the session cookie: Secure but in development and in demo mode (plain HTTP).
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    record_event(
        EventType.NEW_DEVICE,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=client_address.of(request),
    )
    with override(account.language):
        notify_owner(
            account,
            _("Nouvelle connexion à votre compte eSanté"),
            _(
                "Une connexion à votre compte eSanté vient d'avoir lieu depuis un appareil "
                "ou un navigateur inconnu (%(when)s). Si ce n'était pas vous, changez votre "
                "mot de passe et appelez le helpdesk au %(phone)s."
            )
            % {
                "when": date_format(timezone.localtime(now), "SHORT_DATETIME_FORMAT"),
                "phone": helpdesk_contacts().phone,
            },
        )
    return True
