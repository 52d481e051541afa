"""The security log: refusals and attempts to get round a control, as log lines.

Some security events are too frequent or too minor for an audit row, yet each must leave a
trace (ASVS 5.0 16.3.2 to 16.3.4): a wrong captcha, a form value no page offered, a step of
a flow requested out of order, a provider callback nobody asked for, an identity provider
that cannot be reached or whose answer cannot be verified (TLS errors included), every
refused access. Each is one WARNING
line of the logger `esante.security` (standard error, one JSON object per line in
production, with the request id): the event's name, then a JSON object with the client's
address, the path and a few fields. Never a code, a password, a token or a matricule.

Refused accesses are audited too (`access_denied`): the first ones of each visitor in the
hour become `security.access_denied` rows, which the superviseur reads in the helpdesk. The
rate-limit table caps them (`audit.access_denied`) so that a scan cannot flood the table;
the log line is written every time, so the count stays complete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.http import HttpRequest

from esante import client_address, ratelimit
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.security_logger import warn as warn  # its callers write security_log.warn

if TYPE_CHECKING:  # the type only: the audit sits below the registry (esante.audit.actions)
    from esante.registry.models import InsuredPerson

AUDITED_REFUSALS = "audit.access_denied"


def access_denied(
    request: HttpRequest, *, actor: str, person: InsuredPerson | None = None, **details: Any
) -> None:
    """A refused access (a record that is not the visitor's, a helpdesk page beyond the
    staff member's role): a log line, and an audit row while under the cap."""
    warn(request, "access.denied", actor=actor, **details)
    if not ratelimit.within_limit(AUDITED_REFUSALS, request, key=actor):
        return
    record_event(
        EventType.ACCESS_DENIED,
        actor=actor,
        person=person,
        ip_address=client_address.of(request),
        path=request.path[:300],
        **details,
    )


def form_refused(request: HttpRequest, form: forms.BaseForm) -> None:
    """After a refused form: a line for each sign of a robot or of tampering — a wrong,
    expired or missing captcha answer (`captcha.failed`), a choice the page never offered
    (`form.tampered`, with the fields' names, never their values)."""
    errors = form.errors.as_data()
    captcha = errors.get("captcha")
    if captcha:
        warn(
            request, "captcha.failed", form=type(form).__name__, reason=captcha[0].code or "invalid"
        )
    tampered = [
        name
        for name, field_errors in errors.items()
        if any(error.code == "invalid_choice" for error in field_errors)
    ]
    if tampered:
        warn(request, "form.tampered", form=type(form).__name__, fields=sorted(tampered))
