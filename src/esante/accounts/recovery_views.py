"""*Mot de passe oublié*: matricule + captcha → a code to the registered channel → a new
password under the rules of activation step 2.

Every answer reads the same whether or not the matricule has an account: without one,
no code is sent, and the code page refuses whatever is typed exactly as it refuses a
wrong code (the same messages, the same count of tries). It takes the same time too:
sending a code (its rate limits, its rows) is work that only an account causes, so the
answer is held to a floor of ANSWER_SECONDS (tests/accounts/test_enumeration.py).
Whoever lost their registered channel is sent to the new-letter path: a new activation
letter re-activates the account.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from esante import ratelimit
from esante.accounts import actions
from esante.accounts.code_pages import refusal
from esante.accounts.flows import Flow, FlowState, stage_view
from esante.accounts.forms import NewLetterForm, OneTimeCodeForm, PasswordForm
from esante.accounts.models import Account, CodeChannel, CodePurpose
from esante.accounts.verification import (
    MAX_FAILED_ATTEMPTS,
    CodeVerification,
    Outcome,
    Verification,
)
from esante.audit import security_log
from esante.portal.captcha import typed_values, wants_new_captcha
from esante.registry import matricule as matricule_rules

RECOVERY = Flow(
    name="recovery",
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
    return ratelimit.client_ip(request) or None


@require_http_methods(["GET", "POST"])
def recovery(request: HttpRequest) -> HttpResponse:
    form = NewLetterForm(request.POST if request.method == "POST" else None)
    if wants_new_captcha(request):
        form = NewLetterForm(initial=typed_values(form))
    if not form.is_valid():
        security_log.form_refused(request, form)
        status = 400 if request.method == "POST" and not wants_new_captcha(request) else 200
        return render(request, "accounts/recovery/start.html", {"form": form}, status=status)
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


def _start(request: HttpRequest, matricule: str) -> FlowState:
    """The flow, and a code sent to the account's channel if the matricule has one."""
    account = (
        Account.objects.select_related("person")
        .filter(person__matricule=matricule_rules.normalize(matricule))
        .exclude(code_channel="")  # reset by the helpdesk: a new letter is on its way
        .first()
    )
    state = RECOVERY.start(request, account_id=account.pk if account else None, fake_failures=0)
    if account is not None:
        verification = CodeVerification.send(
            request,
            purpose=CodePurpose.RECOVERY,
            flow_id=state.flow_id,
            person=account.person,
            channel=CodeChannel(account.code_channel),
            destination=account.code_destination,
        )
        state.data["otp_id"] = verification.code.pk
    return state


@require_http_methods(["GET", "POST"])
@stage_view(RECOVERY, "code")
def recovery_code(request: HttpRequest, state: FlowState) -> HttpResponse:
    verification = CodeVerification.find(state.data.get("otp_id"), state.flow_id)
    if request.method == "POST" and "resend" in request.POST:
        if verification is not None and verification.resend_wait == 0:
            fresh = verification.resend(request)
            state.data["otp_id"] = fresh.code.pk
            RECOVERY.save(request, state)
        return redirect("patient:recovery_code")
    # The same page whether the account uses an app, SMS, e-mail — or does not exist.
    form = OneTimeCodeForm(request.POST if request.method == "POST" else None, channel="any")
    context = {"form": form, "otp_minutes": settings.ESANTE_OTP_MINUTES}
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/recovery/code.html", context, status=status)
    ratelimit.check("otp.failed", request, key=str(state.data.get("account_id")))
    if verification is None:
        result = _no_account_answer(request, state)
    else:
        with transaction.atomic():
            result = verification.verify(form.cleaned_data["code"], ip_address=_ip(request))
    if not result.ok:
        ratelimit.hit("otp.failed", request, key=str(state.data.get("account_id")))
        form.add_error("code", refusal(result))
        return render(request, "accounts/recovery/code.html", context, status=400)
    return RECOVERY.advance(request, state, "password")


def _no_account_answer(request: HttpRequest, state: FlowState) -> Verification:
    """What a wrong code would get, try after try, when no code was ever sent."""
    state.data["fake_failures"] = failures = state.data.get("fake_failures", 0) + 1
    RECOVERY.save(request, state)
    if failures >= MAX_FAILED_ATTEMPTS:
        return Verification(Outcome.EXHAUSTED)
    return Verification(Outcome.WRONG, remaining_attempts=MAX_FAILED_ATTEMPTS - failures)


@require_http_methods(["GET", "POST"])
@stage_view(RECOVERY, "password")
def recovery_password(request: HttpRequest, state: FlowState) -> HttpResponse:
    account = Account.objects.select_related("person").get(pk=state.data["account_id"])
    form = PasswordForm(
        request.POST if request.method == "POST" else None,
        person=account.person,
        has_password=False,
    )
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/recovery/password.html", {"form": form}, status=status)
    actions.reset_password(
        account, make_password(form.cleaned_data["password1"]), ip_address=_ip(request)
    )
    RECOVERY.end(request)
    messages.success(
        request, _("Votre mot de passe est changé. Connectez-vous avec le nouveau mot de passe.")
    )
    return redirect("patient:login")
