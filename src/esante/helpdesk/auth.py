"""Staff login for the helpdesk: a password, then the code of the staff member's
authenticator app (esante.accounts.authenticators.totp: never the same code twice), then a
session that ends after ESANTE_STAFF_IDLE_MINUTES without activity, and
ESANTE_STAFF_MAX_HOURS after the login however active (helpdesk/middleware.py). Patients
never log in here, and staff never use the patients' login. A page beyond the staff
member's role answers 403, logged and audited (esante.audit.security_log). Two sides log
in here and share nothing but the login and their own password and passkeys: the helpdesk
(agents, superviseurs: people, actions, audit) and the print side (print operators: the
letter batches only) — see esante.helpdesk.roles.

Registering or removing a staff passkey needs a fresh second factor: the app's code typed
within STEP_UP_FRESH_FOR — at the login (password and code) or at *Confirmez votre
identité* (a new code) — so a session taken over cannot plant a lasting way in."""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    authenticate,
    get_user_model,
    login,
    logout,
)
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from esante import client_address, identities, ratelimit
from esante.accounts.authenticators import totp
from esante.audit import security_log
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.client_address import ClientRequest
from esante.flows import Flow
from esante.helpdesk.models import StaffDevice
from esante.helpdesk.roles import is_print_operator, is_staff_member

VERIFIED_KEY = "esante.staff.verified"
LAST_SEEN_KEY = "esante.staff.last_seen"
LOGGED_IN_KEY = "esante.staff.logged_in_at"
SECOND_FACTOR_KEY = "esante.staff.second_factor_at"
STEP_UP_FRESH_FOR = 10 * 60  # seconds, as for patients (esante.accounts.reauth)
USE = "helpdesk.use_helpdesk"
PRINT = "helpdesk.print_letters"
ANY_STAFF = None  # staff_required(ANY_STAFF): either side (one's own password, passkeys)


class StaffRequest(ClientRequest):
    """A request to a page behind `staff_required`: `request.user` is the logged-in staff
    member (staff_of)."""

    user: User


@dataclass
class StaffLoginData:
    user_id: int  # whose password was right


ENTER_PASSWORD_FIRST = _("Saisissez d'abord votre identifiant et votre mot de passe.")
# The password step, then the app's code within 5 minutes of it (however active).
STAFF_LOGIN = Flow(
    name="staff_login",
    data_type=StaffLoginData,
    stages=("code",),
    url_names={"code": "helpdesk:login_code"},
    idle_timeout=datetime.timedelta(minutes=5),
    max_age=datetime.timedelta(minutes=5),
    entry_url="helpdesk:login",
    entry_message=ENTER_PASSWORD_FIRST,
    expired_message=ENTER_PASSWORD_FIRST,
    restarts_on_expiry=False,
)


def staff_of(request: HttpRequest) -> User | None:
    """The logged-in staff member (password and code) of either side, or None."""
    user: User | AnonymousUser = getattr(request, "user", AnonymousUser())
    if isinstance(user, AnonymousUser):
        return None
    if user.is_authenticated and request.session.get(VERIFIED_KEY) and is_staff_member(user):
        return user
    return None


def _is_a_username(typed: str) -> bool:
    return get_user_model().objects.filter(username__iexact=typed).exists()


def check_password_step(
    request: HttpRequest, username: str, password: str
) -> AbstractBaseUser | None:
    """The staff member whose password this is (active, with a second factor), or None."""
    # Counted before the slow check, so that tries sent at once see each other.
    attempt = ratelimit.reserve("staff.login", request, key=username.lower())
    user = authenticate(request, username=username, password=password)
    if user is None or not StaffDevice.objects.filter(user=user).exists():
        record_event(
            EventType.STAFF_LOGIN_FAILED,
            actor="anonymous",
            ip_address=client_address.of(request),
            # As typed only when it is a staff member's: a password typed in the wrong box
            # must not reach the audit log.
            username=username[:150] if _is_a_username(username) else "(inconnu)",
            step="password",
        )
        return None
    attempt.release()
    return user


def check_code(
    request: HttpRequest,
    user: User,
    code: str,
    *,
    refusal_event: EventType = EventType.STAFF_LOGIN_FAILED,
) -> bool:
    """The app's code (never the same twice), limited with the login's tries; a refusal
    is audited as `refusal_event`."""
    attempt = ratelimit.reserve("staff.login", request, key=user.get_username().lower())
    device = StaffDevice.objects.get(user=user)
    step = totp.matching_step(device.totp_secret, code)
    accepted = step is not None and bool(
        StaffDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
    )
    if accepted:
        attempt.release()
    else:
        record_event(
            refusal_event,
            actor=f"staff:{user.pk}",
            ip_address=client_address.of(request),
            step="code",
        )
    return accepted


def mark_second_factor(request: HttpRequest) -> None:
    request.session[SECOND_FACTOR_KEY] = time.time()


def second_factor_fresh(request: HttpRequest) -> bool:
    """The app's code typed in this staff session within STEP_UP_FRESH_FOR."""
    proven = request.session.get(SECOND_FACTOR_KEY)
    return proven is not None and time.time() - float(proven) <= STEP_UP_FRESH_FOR


def record_failed_passkey(request: HttpRequest, reason: str, user: User | None) -> None:
    """A staff passkey login refused: a key that opens no access, one that failed the
    checks (`user` is then its owner), or one whose owner may not use the helpdesk."""
    record_event(
        EventType.STAFF_LOGIN_FAILED,
        actor=f"staff:{user.pk}" if user is not None else "anonymous",
        ip_address=client_address.of(request),
        step="passkey",
        reason=reason[:200],
    )


def log_staff_in(request: HttpRequest, user: User, *, method: str = "password+totp") -> None:
    identities.starting(request, "staff")  # a patient's or professional's session ends
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[VERIFIED_KEY] = True
    request.session[LOGGED_IN_KEY] = request.session[LAST_SEEN_KEY] = time.time()
    if method == "password+totp":  # a passkey login is no proof of the app
        mark_second_factor(request)
    record_event(
        EventType.STAFF_LOGIN,
        actor=f"staff:{user.pk}",
        ip_address=client_address.of(request),
        method=method,
    )


def log_staff_out(request: HttpRequest, *, reason: str) -> None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        record_event(
            EventType.STAFF_LOGOUT,
            actor=f"staff:{user.pk}",
            ip_address=client_address.of(request),
            reason=reason,
        )
    logout(request)


def end_for_other_identity(sender: str, *, request: HttpRequest, **kwargs: Any) -> None:
    """A patient or a professional logs in in this browser (esante.identities): the staff
    member is out — audited, their keys gone from the session, which is not flushed."""
    if sender == "staff" or SESSION_KEY not in request.session:
        return
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        record_event(
            EventType.STAFF_LOGOUT,
            actor=f"staff:{user.pk}",
            ip_address=client_address.of(request),
            reason="other_identity",
        )
    for key in (
        SESSION_KEY,
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        VERIFIED_KEY,
        LAST_SEEN_KEY,
        LOGGED_IN_KEY,
        SECOND_FACTOR_KEY,
    ):
        request.session.pop(key, None)
    request.user = AnonymousUser()


View = Callable[..., HttpResponseBase]


def may(staff: User, permission: str | None) -> bool:
    """Whether a logged-in staff member may open a page needing `permission`. The print
    permission counts only for a print operator: Django grants every permission to a
    superuser, who is never one (esante.helpdesk.roles)."""
    if permission is ANY_STAFF:
        return True
    if permission == PRINT:
        return is_print_operator(staff)
    return bool(staff.has_perm(permission))


def staff_required(permission: str | None = USE) -> Callable[[View], View]:
    """Only for a logged-in staff member holding `permission` (ANY_STAFF: either side):
    others go to the staff login (a patient too); a member without the permission gets
    403."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            staff = staff_of(request)
            if staff is None:
                query = urlencode({"suivant": request.get_full_path()})
                return redirect(f"{reverse('helpdesk:login')}?{query}")
            if not may(staff, permission):
                security_log.access_denied(
                    request,
                    actor=f"staff:{staff.pk}",
                    reason="permission",
                    permission=permission or "",
                )
                return render(request, "403.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


IDLE_MESSAGE = _(
    "Après %(minutes)d minutes sans activité, vous avez été déconnecté : reconnectez-vous."
)
EXPIRED_MESSAGE = _(
    "Une session du helpdesk dure au plus %(hours)d heures : vous avez été déconnecté, "
    "reconnectez-vous."
)
