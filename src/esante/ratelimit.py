"""Rate limits: one named table, each rule scoped per IP or per key (STYLE.md §6).

A "destination" rule counts per phone number or e-mail address, whoever the messages are
for; a "key" rule beside it may name the person as well
(esante.accounts.authenticators.one_time_codes).

Counters live in Redis when `REDIS_URL` is set, so every app node counts together; in a
table of the database otherwise (esante.counters.store). Either way each lasts exactly
its rule's window and counts atomically. Keys are hashed: no matricule or address
appears in the store. A view that finds an action over its limit raises `RateLimited`,
which esante.portal.middleware.RateLimitMiddleware turns into the "try later" page (HTTP
429) of the rule that refused: which limit, until when, what to do (esante.portal.limit_pages).

An attempt whose outcome takes time to know (a password checked with Argon2) is counted
*before* the work, with `reserve`, and given back with `Reservation.release` when it turns
out not to count: checking the counter first and counting after the work would let every
attempt sent at once pass the same check. Per-IP rules count an IPv6 address by its /64
(`address_block`): one subscriber's network, any of whose addresses a host may take.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse

from esante import client_address
from esante.client_address import address_block
from esante.counters import store

Scope = Literal["ip", "key", "destination"]
View = Callable[..., HttpResponse]

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    scope: Scope
    limit: int
    period: datetime.timedelta


RATE_LIMITS: dict[str, tuple[Rule, ...]] = {
    # Wrong matricule/code pairs at activation step 1, per IP and per matricule (the
    # letter itself locks after 5 wrong codes).
    "activation.code_failed": (Rule("ip", 30, HOUR), Rule("key", 10, DAY)),
    # Requests for a new letter by post ("Non" at step 1), per IP and per matricule.
    "activation.new_letter": (Rule("ip", 10, HOUR), Rule("key", 3, DAY)),
    # One-time codes sent, per IP; per person and phone number or address, 5 an hour, so
    # that a family sharing one phone each get their own; and 15 an hour per number or
    # address whoever the codes are for, so that no number is flooded.
    "otp.send": (Rule("ip", 20, HOUR), Rule("key", 5, HOUR), Rule("destination", 15, HOUR)),
    # Wrong one-time codes typed back, per IP and per person (each code dies after 5).
    "otp.failed": (Rule("ip", 50, HOUR), Rule("key", 20, HOUR)),
    # Wrong matricule/password pairs at login, per IP and per matricule (each account
    # also locks for a growing while: esante.accounts.patient_sessions). From 3, a captcha is asked.
    "login.failed": (Rule("ip", 50, HOUR), Rule("key", 30, HOUR)),
    # Links that cancel a new letter (esante.accounts.actions), unknown or spent ones per IP:
    # their tokens cannot be guessed; this keeps a scan from costing the database.
    "letter.cancel": (Rule("ip", 30, HOUR),),
    # Password recovery requests, per IP and per matricule.
    "recovery.request": (Rule("ip", 10, HOUR), Rule("key", 5, DAY)),
    # Failed staff logins (password or code) at the helpdesk, per IP and per username.
    "staff.login": (Rule("ip", 30, HOUR), Rule("key", 10, HOUR)),
    # Trips to an identity provider and back, per IP.
    "oidc.start": (Rule("ip", 60, HOUR),),
    "oidc.callback": (Rule("ip", 60, HOUR),),
    # The OpenID Connect provider (esante.provider): authorization requests per IP; failed
    # token and revocation requests (a wrong secret, code or refresh token) per IP — not
    # per client: a client's identifier is public, and anyone could then shut a service
    # out; its secret is 256 bits; requests with a bad bearer token per IP.
    "oidc.authorize": (Rule("ip", 300, HOUR),),
    "oidc.token.failed": (Rule("ip", 100, HOUR),),
    "oidc.bearer.failed": (Rule("ip", 100, HOUR),),
    # The FHIR API's requests, per token (its line of refreshes): an app pages through a
    # record of 1,000 documents in 5 to 20 of them.
    "fhir.request": (Rule("key", 1000, HOUR),),
    # Passkey login challenges, per IP.
    "passkey.login": (Rule("ip", 60, HOUR),),
    # Searches of the Assistants panel by Numéro assuré, per IP and per account: enough
    # for a family, far too few to scan the registry.
    "assistant.search": (Rule("ip", 30, HOUR), Rule("key", 20, DAY)),
    # Care relationships a professional declares by matricule and name, per IP and per
    # professional, found or not: a day's patients, far too few to scan the registry.
    "care.declare": (Rule("ip", 30, HOUR), Rule("key", 20, DAY)),
    # Emergency accesses (bris de glace) a physician opens, per IP and per professional.
    "care.emergency": (Rule("ip", 10, HOUR), Rule("key", 5, DAY)),
    # Documents uploaded to the Espace personnel, per account.
    "document.upload": (Rule("ip", 60, HOUR), Rule("key", 50, DAY)),
    # Searches of the professionals' register (*Mes professionnels*, « Ajouter un
    # professionnel »), per IP and per account: the register is public, this keeps it from
    # being copied through the DSP.
    "professional.search": (Rule("ip", 60, HOUR), Rule("key", 100, DAY)),
    # Copies of a whole DSP (« Télécharger mon dossier », esante.fhir.export), per IP and per
    # person downloading: each streams every document of the record.
    "record.export": (Rule("ip", 30, HOUR), Rule("key", 10, DAY)),
    # Refused accesses (a record, a helpdesk page) written to the audit log, per IP and per
    # visitor: beyond, only the security log line (esante.audit.security_log), so that a
    # scan cannot flood the table. Nothing is refused because of this rule.
    "audit.access_denied": (Rule("ip", 100, HOUR), Rule("key", 20, HOUR)),
    # New captchas (each one a database row) and their audio versions, per IP.
    "captcha.refresh": (Rule("ip", 300, HOUR),),
    "captcha.audio": (Rule("ip", 120, HOUR),),
    # Wrong passwords typed in a browser the account knows (its device cookie), per
    # browser: in place of login.failed, whose per-IP and per-matricule counts others can
    # use up (esante.accounts.patient_sessions, device cookies). From 3, a captcha is asked.
    "login.failed.device": (Rule("key", 30, HOUR),),
}


class RateLimited(Exception):
    """`action` refused by `rule`, whose window ends at `window_end`."""

    def __init__(self, action: str, rule: Rule, window_end: datetime.datetime, retry_after: int):
        super().__init__(action)
        self.action = action
        self.rule = rule
        self.window_end = window_end
        self.retry_after = retry_after


def _counter(action: str, rule: Rule, value: str, now: float) -> tuple[str, datetime.datetime]:
    """The key of `rule`'s counter for `value` in the window holding `now`, and the end of
    that window. Windows are aligned on the epoch (an hour's on the hour, a day's at
    midnight UTC); the key names the window, so a new one starts from zero."""
    seconds = int(rule.period.total_seconds())
    window = int(now // seconds)
    digest = hashlib.sha256(f"{action}\0{rule.scope}\0{seconds}\0{value}".encode()).hexdigest()
    window_end = datetime.datetime.fromtimestamp((window + 1) * seconds, tz=datetime.UTC)
    return f"rl:{digest[:32]}:{window}", window_end


def _counters(
    action: str, request: HttpRequest, key: str, destination: str, now: datetime.datetime
) -> list[tuple[Rule, str, datetime.datetime]]:
    """Each rule of `action` that applies (a key or destination given), with its counter's
    key and window end."""
    values = {
        "ip": address_block(client_address.of(request) or ""),
        "key": key,
        "destination": destination,
    }
    counters = []
    for rule in RATE_LIMITS[action]:
        value = values[rule.scope]
        if value:
            counters.append((rule, *_counter(action, rule, value, now.timestamp())))
    return counters


def _retry_after(window_end: datetime.datetime, now: datetime.datetime) -> int:
    return max(1, math.ceil((window_end - now).total_seconds()))


def check(action: str, request: HttpRequest, key: str = "", *, destination: str = "") -> None:
    """Raise RateLimited when any rule of `action` is already at its limit. Followed by a
    hit() only after slow work, it lets requests sent at once all pass: use reserve()."""
    now = _now()
    counters = _counters(action, request, key, destination, now)
    counts = store.read([counter_key for _rule, counter_key, _end in counters], now)
    for (rule, _key, window_end), count in zip(counters, counts, strict=True):
        if count >= rule.limit:
            raise RateLimited(action, rule, window_end, _retry_after(window_end, now))


def attempts(action: str, request: HttpRequest, key: str = "", *, destination: str = "") -> int:
    """The highest count of `action` among its rules (for "a captcha from 3 failures")."""
    now = _now()
    counters = _counters(action, request, key, destination, now)
    return max(store.read([counter_key for _rule, counter_key, _end in counters], now), default=0)


def hit(action: str, request: HttpRequest, key: str = "", *, destination: str = "") -> None:
    """Count one occurrence of `action` against every rule."""
    now = _now()
    store.increment(
        [
            (counter_key, end)
            for _rule, counter_key, end in _counters(action, request, key, destination, now)
        ],
        now,
    )


def within_limit(
    action: str, request: HttpRequest, key: str = "", *, destination: str = ""
) -> bool:
    """Count one occurrence of `action` against every rule, and whether it stayed within
    all their limits — in one atomic step, so that occurrences at once cannot all pass.
    Counted either way: for a cap on what is recorded, where nothing is refused."""
    now = _now()
    counters = _counters(action, request, key, destination, now)
    counts = store.increment([(counter_key, end) for _rule, counter_key, end in counters], now)
    return all(
        count <= rule.limit for (rule, _key, _end), count in zip(counters, counts, strict=True)
    )


@dataclass
class Reservation:
    """Occurrences of an action counted ahead of the work they limit (see `reserve`)."""

    counters: list[str] = field(default_factory=list)  # the counters' keys

    def release(self) -> None:
        """Give the occurrence back: the attempt turned out not to be one that counts
        (the right password). Only the counters it was made in (their time windows, if
        not yet ended: a window's count and end never start over), once."""
        store.decrement(self.counters, _now())
        self.counters = []


def reserve(
    action: str, request: HttpRequest, key: str = "", *, destination: str = ""
) -> Reservation:
    """Count one occurrence of `action` now, before the work it limits, and raise
    RateLimited — with nothing counted — when that takes a rule past its limit.

    Unlike check() then hit(), requests sent at once cannot all pass: each counts itself
    atomically (esante.counters.store, one round trip for all the rules) before it looks,
    so no more than the limit get through. For an action limited by failures, release()
    the reservation when the attempt succeeds."""
    now = _now()
    counters = _counters(action, request, key, destination, now)
    counts = store.increment([(counter_key, end) for _rule, counter_key, end in counters], now)
    return _reservation(action, counters, counts, now)


def reserve_below(
    action: str, request: HttpRequest, key: str = "", *, ceiling: int, destination: str = ""
) -> Reservation | None:
    """`reserve`, unless `attempts` is already `ceiling` or more: None then, with nothing
    counted (a login's failures asking for a captcha first). attempts() then reserve() in
    one step and one round trip to the store (Redis: atomic)."""
    now = _now()
    counters = _counters(action, request, key, destination, now)
    counts = store.increment_below(
        [(counter_key, end) for _rule, counter_key, end in counters], ceiling, now
    )
    if counts is None:
        return None
    return _reservation(action, counters, counts, now)


def _reservation(
    action: str,
    counters: list[tuple[Rule, str, datetime.datetime]],
    counts: list[int],
    now: datetime.datetime,
) -> Reservation:
    """The occurrence just counted in `counters` (their new `counts`), or, when that took
    a rule past its limit, given back and refused (RateLimited)."""
    reservation = Reservation([counter_key for _rule, counter_key, _end in counters])
    for (rule, _key, window_end), count in zip(counters, counts, strict=True):
        if count > rule.limit:
            reservation.release()
            raise RateLimited(action, rule, window_end, _retry_after(window_end, now))
    return reservation


def check_and_hit(
    action: str, request: HttpRequest, key: str = "", *, destination: str = ""
) -> None:
    """For actions limited by count rather than by failure (sending a code)."""
    reserve(action, request, key, destination=destination)


def _now() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(time.time(), tz=datetime.UTC)


def rate_limited(action: str) -> Callable[[View], View]:
    """A view counted per request against `action`'s rules (for views that are not ours
    to edit, such as django-simple-captcha's, or that have no form to validate)."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            check_and_hit(action, request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
