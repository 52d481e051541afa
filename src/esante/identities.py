"""One identity per browser session: a patient, a health professional or a staff member.

A person can be a patient and a professional (or staff), but never both in one session
(issue 17): whichever side logs someone in announces it here first (`starting`), and each
other side that has someone logged in in this session ends that session of theirs — row
ended, audited — without flushing the browser session, whose flow state (the login's own)
the new side may still need; the new side then cycles the session key. The sides listen
(each app's receivers): this module imports no app, so the patients' and the staff's
logins can tell the professionals' side, which sits above them.
"""

from __future__ import annotations

from typing import Literal

from django.dispatch import Signal
from django.http import HttpRequest

Side = Literal["patient", "professional", "staff"]

# sender: the Side starting; keyword argument: request.
identity_starting = Signal()


def starting(request: HttpRequest, side: Side) -> None:
    """`side` is about to log someone in in this browser session: the others end theirs."""
    identity_starting.send(sender=side, request=request)
