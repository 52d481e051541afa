"""Recent authentication ("sudo mode") for the changes that let someone in: adding or
removing a passkey in *Mon compte* (ASVS 5.0 7.5.1). A login, or the password typed
again, opens them for FRESH_FOR; a session stolen later cannot plant its own passkey."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils import timezone

FRESH_FOR = datetime.timedelta(minutes=10)
SESSION_KEY = "esante_reauthenticated_at"


def authenticated_recently(request: HttpRequest) -> bool:
    session = request.patient.session  # type: ignore[attr-defined]
    if session is None:
        return False
    last: datetime.datetime = session.started_at
    typed_again = request.session.get(SESSION_KEY)
    if typed_again:
        last = max(last, datetime.datetime.fromisoformat(typed_again))
    return bool(timezone.now() - last <= FRESH_FOR)


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = timezone.now().isoformat()
