"""Recent authentication for the changes that let someone in or grant rights (ASVS 5.0
7.5.1, docs/security.md).

Two measures, per session:
- `authenticated_recently`: the login, or the password typed again, within FRESH_FOR
  ("sudo mode"). Enough to end sessions from *Mon compte*.
- `second_factor_fresh`: the account's *current* second factor proven within FRESH_FOR —
  at login (password and code, a passkey, an identity provider) or by the step-up page
  *Confirmez votre identité* (esante.accounts.my_account.step_up_views). Needed to change
  or remove any factor (code channel, authenticator app, passkey, linked provider,
  recovery codes) and to grant someone rights on a record (a DSP assistant): a stolen
  session, even with the password, cannot move the second factor to the thief nor give
  them lasting access. A recovery code proves nothing here: it stands in for a lost app,
  it is no fresh proof of holding it.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

FRESH_FOR = datetime.timedelta(minutes=10)
SESSION_KEY = "esante_reauthenticated_at"
SECOND_FACTOR_KEY = "esante_second_factor_at"

if TYPE_CHECKING:
    from esante.accounts.patient_sessions import PatientRequest


def authenticated_recently(request: PatientRequest) -> bool:
    session = request.patient.session
    if session is None:
        return False
    last: datetime.datetime = session.started_at
    typed_again = request.session.get(SESSION_KEY)
    if typed_again:
        last = max(last, datetime.datetime.fromisoformat(typed_again))
    return bool(timezone.now() - last <= FRESH_FOR)


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = timezone.now().isoformat()


def mark_second_factor(request: HttpRequest) -> None:
    """The session's holder has just proven the account's current second factor."""
    request.session[SECOND_FACTOR_KEY] = timezone.now().isoformat()


def second_factor_fresh(request: PatientRequest) -> bool:
    proven = request.session.get(SECOND_FACTOR_KEY)
    if not proven or request.patient.session is None:
        return False
    return bool(timezone.now() - datetime.datetime.fromisoformat(proven) <= FRESH_FOR)


def safe_next(request: HttpRequest, candidate: str) -> str:
    """`candidate` if it is a path of this site, else Mon compte."""
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("patient:account")


def step_up_url(next_url: str) -> str:
    return f"{reverse('patient:step_up')}?{urlencode({'suivant': next_url})}"


def step_up_needed(request: PatientRequest, next_url: str) -> HttpResponse | None:
    """None when the second factor is fresh; otherwise the redirect to *Confirmez votre
    identité*, which comes back to `next_url` (a page of this site, read by GET)."""
    if second_factor_fresh(request):
        return None
    return redirect(step_up_url(next_url))
