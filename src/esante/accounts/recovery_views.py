"""*Mot de passe oublié*: matricule + captcha → a code to the registered channel → a new
password under the rules of activation step 2.

Every answer reads the same whether or not the matricule has an account. Without one,
no code is sent, but a decoy in the flow's state plays out all that a visitor can see of
one: the code page refuses whatever is typed as it refuses a wrong code (the same
messages, the same count of tries, the same expiry), *Renvoyer le code* works after the
same 60 s and starts the tries again, and every send counts against the same limit
(otp.send); wrong codes are limited per matricule, with or without an account. It takes
the same time too: sending a code (its rate limits, its rows) is work that only an
account causes, and so is checking one; so asking for a code, *Renvoyer le code* and
the code typed back are held to a floor of ANSWER_SECONDS
(tests/accounts/test_enumeration.py).
Whoever lost their registered channel is sent to the new-letter path: a new activation
letter re-activates the account.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from esante import client_address, ratelimit
from esante.accounts import actions
from esante.accounts.code_pages import refusal
from esante.accounts.forms import NewLetterForm, OneTimeCodeForm, PasswordForm
from esante.accounts.models import Account, CodeChannel, CodePurpose
from esante.accounts.verification import (
    MAX_FAILED_ATTEMPTS,
    RESEND_AFTER,
    CodeVerification,
    LockKey,
    Outcome,
    Verification,
    claim_code_try,
    count_code_sent,
    give_back_code_try,
)
from esante.audit import security_log
from esante.flows import Flow, FlowState, stage_view
from esante.portal.captcha import typed_values, wants_new_captcha
from esante.registry import matricule as matricule_rules


@dataclass
class DecoyCode:
    """What a code would be, for a matricule without an account (below)."""

    sent_at: float  # a timestamp
    failures: int = 0


@dataclass
class RecoveryData:
    matricule: str = ""
    account_id: int | None = None  # None: no account, the decoy plays the code's part
    otp_id: int | None = None
    decoy: DecoyCode | None = None
    by_recovery_code: bool = False  # the code typed was one of the recovery sheet's


RECOVERY = Flow(
    name="recovery",
    data_type=RecoveryData,
    stages=("code", "password"),
    url_names={"code": "patient:recovery_code", "password": "patient:recovery_password"},
    idle_timeout=datetime.timedelta(minutes=15),
    entry_url="patient:recovery",
    entry_message=gettext_lazy("Saisissez d'abord votre matricule."),
    expired_message=gettext_lazy(
        "Après 15 minutes sans activité, la procédure reprend au début par sécurité."
    ),
    closes_earlier_stages="password",
)


# Longer than the answer takes with an account on a busy node, imperceptible to a person.
ANSWER_SECONDS = 0.25


def _ip(request: HttpRequest) -> str | None:
    return client_address.of(request)


@require_http_methods(["GET", "POST"])
def recovery(request: HttpRequest) -> HttpResponse:
    form = NewLetterForm(request.POST if request.method == "POST" else None)
    if wants_new_captcha(request):
        form = NewLetterForm(initial=typed_values(form))
    if not form.is_valid():
        security_log.form_refused(request, form)
        status = 400 if request.method == "POST" and not wants_new_captcha(request) else 200
        context = {"form": form, "wait_days": settings.ESANTE_LETTER_REACTIVATION_WAIT_DAYS}
        return render(request, "accounts/recovery/start.html", context, status=status)
    matricule = form.cleaned_data["matricule"]
    ratelimit.check_and_hit("recovery.request", request, key=matricule)
    with taking_at_least(ANSWER_SECONDS):
        state = _start(request, matricule)
    return RECOVERY.advance(request, state, "code")


@contextmanager
def taking_at_least(seconds: float) -> Iterator[None]:
    deadline = time.perf_counter() + seconds
    try:
        yield
    finally:  # a refusal (a rate limit) takes the same time as an answer
        time.sleep(max(0.0, deadline - time.perf_counter()))


def _start(request: HttpRequest, matricule: str) -> FlowState[RecoveryData]:
    """The flow, and a code sent to the account's channel if the matricule has one (the
    decoy's otherwise)."""
    matricule = matricule_rules.normalize(matricule)
    account = (
        Account.objects.select_related("person")
        .filter(person__matricule=matricule)
        .exclude(code_channel="")  # reset by the helpdesk: a new letter is on its way
        # Come of age, replacing the parent's channel: that channel must not reset the
        # password the holder has just chosen (the decoy's path, as for no account).
        .exclude(majority_review_due=True, majority_reviewed_at__isnull=False)
        .first()
    )
    state = RECOVERY.start(
        request, RecoveryData(matricule=matricule, account_id=account.pk if account else None)
    )
    try:
        if account is None:
            _send_decoy(request, state)
        else:
            verification = CodeVerification.send(
                request,
                purpose=CodePurpose.RECOVERY,
                flow_id=state.flow_id,
                person=account.person,
                channel=CodeChannel(account.code_channel),
                destination=account.code_destination,
            )
            state.data.otp_id = verification.code.pk
    except ratelimit.RateLimited:
        RECOVERY.end(request)  # nothing sent: no flow left either, account or not
        raise
    return state


@require_http_methods(["GET", "POST"])
@stage_view(RECOVERY, "code")
def recovery_code(request: HttpRequest, state: FlowState[RecoveryData]) -> HttpResponse:
    if not state.data.matricule:
        # Restarted after idling out, at this first stage: the procedure starts with the
        # matricule, with or without an account.
        RECOVERY.end(request)
        return redirect(RECOVERY.entry_url)
    verification = CodeVerification.find(state.data.otp_id, state.flow_id)
    if request.method == "POST" and "resend" in request.POST:
        with taking_at_least(ANSWER_SECONDS):
            _resend(request, state, verification)
        return redirect("patient:recovery_code")
    # The same page whether the account uses an app, SMS, e-mail — or does not exist.
    form = OneTimeCodeForm(request.POST if request.method == "POST" else None, channel="any")
    context = {"form": form, "otp_minutes": settings.ESANTE_OTP_MINUTES}
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/recovery/code.html", context, status=status)
    # A wrong code costs an account rows and an audit event, the decoy a session write.
    with taking_at_least(ANSWER_SECONDS):
        result = _verify(request, state, verification, form.cleaned_data["code"])
    if not result.ok:
        form.add_error("code", refusal(result))
        return render(request, "accounts/recovery/code.html", context, status=400)
    # A recovery code stood in for the app: the password set next is the sheet's alone.
    state.data.by_recovery_code = bool(verification and verification.used_recovery_code)
    return RECOVERY.advance(request, state, "password")


def _verify(
    request: HttpRequest,
    state: FlowState[RecoveryData],
    verification: CodeVerification | None,
    typed: str,
) -> Verification:
    """The typed code checked against the account's (or the decoy's), wrong ones counted
    per matricule: the matricules without an account must not share one count. The
    consecutive wrong codes lock the matricule's recovery codes alike, account or not (and
    never the login's)."""
    # Counted before the check, so that codes sent at once see each other.
    attempt = ratelimit.reserve("otp.failed", request, key=state.data.matricule)
    lock = LockKey.for_matricule(CodePurpose.RECOVERY, state.data.matricule)
    if verification is None:
        result = _verify_decoy(request, state, lock)
    else:
        with transaction.atomic():
            result = verification.verify(typed, ip_address=_ip(request), lock=lock)
    if result.ok:
        attempt.release()
    return result


def _resend(
    request: HttpRequest, state: FlowState[RecoveryData], verification: CodeVerification | None
) -> None:
    """*Renvoyer le code*: once 60 s have passed since the last send, a fresh code (or the
    decoy's); before, nothing, and the page says nothing either."""
    if verification is None:
        if _decoy_resend_wait(state):
            return
        _send_decoy(request, state)
    else:
        if verification.resend_wait:
            return
        state.data.otp_id = verification.resend(request).code.pk
    RECOVERY.save(request, state)


# The decoy: what CodeVerification shows of a code, for a matricule without an account.


def _send_decoy(request: HttpRequest, state: FlowState[RecoveryData]) -> None:
    """Count a send as CodeVerification.send does (for the matricule, without a
    destination), and start a decoy code's clock and tries."""
    count_code_sent(request, matricule=state.data.matricule, destination="")
    state.data.decoy = DecoyCode(sent_at=timezone.now().timestamp())


def _decoy_resend_wait(state: FlowState[RecoveryData]) -> float:
    sent_at = state.data.decoy.sent_at if state.data.decoy else 0.0
    return max(0.0, sent_at + RESEND_AFTER.total_seconds() - timezone.now().timestamp())


def _verify_decoy(
    request: HttpRequest, state: FlowState[RecoveryData], lock: LockKey
) -> Verification:
    """What CodeVerification.verify answers a wrong code, in its order: locked (the same
    lock, in the database), exhausted, expired, or one try less."""
    claimed = claim_code_try(lock, timezone.now())
    if isinstance(claimed, int):
        return Verification(Outcome.LOCKED, retry_after=claimed)
    decoy = state.data.decoy or DecoyCode(sent_at=0.0)
    expires_at = decoy.sent_at + settings.ESANTE_OTP_MINUTES * 60
    if decoy.failures >= MAX_FAILED_ATTEMPTS or expires_at <= timezone.now().timestamp():
        give_back_code_try(claimed)  # a used-up code is no guess
        if decoy.failures >= MAX_FAILED_ATTEMPTS:
            return Verification(Outcome.EXHAUSTED)
        return Verification(Outcome.EXPIRED)
    decoy.failures += 1
    state.data.decoy = decoy
    # A wrong code is no activity: a real code's count is kept in its row, and the flow
    # idles out alike.
    RECOVERY.save(request, state, activity=False)
    if decoy.failures >= MAX_FAILED_ATTEMPTS:
        return Verification(Outcome.EXHAUSTED)
    return Verification(Outcome.WRONG, remaining_attempts=MAX_FAILED_ATTEMPTS - decoy.failures)


@require_http_methods(["GET", "POST"])
@stage_view(RECOVERY, "password")
def recovery_password(request: HttpRequest, state: FlowState[RecoveryData]) -> HttpResponse:
    if state.data.account_id is None:  # the decoy's code is never right: not reached
        RECOVERY.end(request)
        return redirect(RECOVERY.entry_url)
    account = Account.objects.select_related("person").get(pk=state.data.account_id)
    form = PasswordForm(
        request.POST if request.method == "POST" else None,
        person=account.person,
        has_password=False,
    )
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/recovery/password.html", {"form": form}, status=status)
    actions.reset_password(
        account,
        make_password(form.cleaned_data["password1"]),
        ip_address=_ip(request),
        by_recovery_code=state.data.by_recovery_code,
    )
    RECOVERY.end(request)
    messages.success(
        request, _("Votre mot de passe est changé. Connectez-vous avec le nouveau mot de passe.")
    )
    return redirect("patient:login")
