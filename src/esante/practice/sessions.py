"""A health professional's session: logged in by an identity provider that vouched for
their national code, never by a password (issue 17, "strong only").

The browser session holds the ProfessionalSession row's id (SESSION_KEY). The session
ends at logout, after ESANTE_PROFESSIONAL_IDLE_MINUTES without a request, after
ESANTE_PROFESSIONAL_MAX_HOURS in any case (as staff's: ASVS 5.0 7.3.1, 7.3.2), at once
when the register makes the professional inactive (read at each of their requests), and
when someone else — a patient, a staff member — logs in in the same browser
(esante.identities). A professional is neither a patient nor staff: this module writes
nothing the patients' or the staff's guards read.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from esante import client_address, identities
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.client_address import ClientRequest
from esante.practice.models import ProfessionalSession
from esante.practice.signals import professional_session_ended
from esante.professionals.models import Professional

SESSION_KEY = "esante.professional_session_id"
# last_seen_at is written at most this often, not on every request.
SEEN_EVERY = datetime.timedelta(minutes=1)
# How long after a provider's login a passkey may be registered or removed (as staff's
# and patients' step-up: 10 minutes).
PASSKEY_FRESH_FOR = datetime.timedelta(minutes=10)


class ProfessionalRequest(ClientRequest):
    """A request of the professionals' side: `request.professional` is the session of the
    professional logged in (ProfessionalMiddleware), or None."""

    professional: ProfessionalSession | None


@transaction.atomic(savepoint=False)
def log_in(
    request: HttpRequest, professional: Professional, *, method: str, **details: Any
) -> None:
    """Start `professional`'s session: any other identity in this browser ends first, then a
    new session id (no fixation), the row, the audit event."""
    identities.starting(request, "professional")
    request.session.cycle_key()
    now = timezone.now()
    session = ProfessionalSession.objects.create(
        professional=professional,
        session_key=request.session.session_key or "",
        method=method,
        started_at=now,
        last_seen_at=now,
        ip_address=client_address.of(request),
        user_agent=request.headers.get("User-Agent", "")[:300],
    )
    request.session[SESSION_KEY] = session.pk
    record_event(
        EventType.PROFESSIONAL_LOGIN_SUCCEEDED,
        actor=f"professional:{professional.pk}",
        ip_address=client_address.of(request),
        session=session.pk,
        national_code=professional.national_code,
        method=method,
        **details,
    )


def record_refused_login(
    method: str, reason: str, *, ip_address: str | None, actor: str = "anonymous", **details: Any
) -> None:
    """A login (`method`: "oidc:<provider>", "passkey") that opened no professional's
    session, and why."""
    record_event(
        EventType.PROFESSIONAL_LOGIN_FAILED,
        actor=actor,
        ip_address=ip_address,
        method=method,
        reason=reason,
        **details,
    )


def may_register_passkey(session: ProfessionalSession) -> bool:
    """A passkey is a lasting way in: registered (or removed) only within
    PASSKEY_FRESH_FOR of a login through an identity provider, never from a session a
    passkey opened."""
    return (
        session.method.startswith("oidc:")
        and timezone.now() - session.started_at <= PASSKEY_FRESH_FOR
    )


@transaction.atomic
def _end(request: HttpRequest, session: ProfessionalSession, reason: str) -> None:
    """The session's row ended and audited; the apps above told, in this transaction
    (their error undoes the end), unless another request had ended it first."""
    ended = ProfessionalSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    record_event(
        EventType.PROFESSIONAL_LOGGED_OUT,
        actor=f"professional:{session.professional_id}",
        ip_address=client_address.of(request),
        session=session.pk,
        reason=reason,
    )
    if ended:
        professional_session_ended.send(
            sender=ProfessionalSession,
            professional=session.professional,
            session_id=session.pk,
            reason=reason,
        )


def log_out(request: HttpRequest, *, reason: str = "logout") -> None:
    """End the professional's session and the browser session with it."""
    session = current_session(request)
    if session is not None:
        _end(request, session, reason)
    request.session.flush()


def end_for_other_identity(sender: str, *, request: HttpRequest, **kwargs: Any) -> None:
    """A patient or a staff member logs in in this browser (esante.identities): the
    professional is out; the browser session is not flushed (the other login's flow)."""
    if sender == "professional" or SESSION_KEY not in request.session:
        return
    session = current_session(request)
    if session is not None:
        _end(request, session, "other_identity")
    del request.session[SESSION_KEY]
    if hasattr(request, "professional"):
        request.professional = None


def current_session(request: HttpRequest) -> ProfessionalSession | None:
    session_id = request.session.get(SESSION_KEY)
    if session_id is None:
        return None
    try:
        return ProfessionalSession.objects.select_related("professional").get(
            pk=session_id, ended_at__isnull=True
        )
    except ProfessionalSession.DoesNotExist:
        return None


def session_of(request: HttpRequest) -> ProfessionalSession | None:
    """The professional's session of this request once its limits are checked: None, and
    the session ended, when it is over (idle, too old, professional made inactive)."""
    session = current_session(request)
    if session is None:
        request.session.pop(SESSION_KEY, None)
        return None
    now = timezone.now()
    idle = datetime.timedelta(minutes=settings.ESANTE_PROFESSIONAL_IDLE_MINUTES)
    longest = datetime.timedelta(hours=settings.ESANTE_PROFESSIONAL_MAX_HOURS)
    reason = ""
    if not session.professional.is_active:
        reason = "inactive"
    elif now - session.last_seen_at > idle:
        reason = "idle"
    elif now - session.started_at > longest:
        reason = "expired"
    if reason:
        _end(request, session, reason)
        request.session.flush()
        return None
    if now - session.last_seen_at > SEEN_EVERY:
        ProfessionalSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return session
