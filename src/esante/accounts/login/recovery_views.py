"""*Mot de passe oublié*: matricule + captcha → a code to the registered channel → a new
password under the rules of activation step 2.

Every answer reads the same whether or not the matricule has an account. Without one,
no code is sent, but a decoy in the flow's state (esante.accounts.authenticators.one_time_codes
.DecoyVerification) plays out all that a visitor can see of one, on the same code step
(esante.accounts.code_step, `discreet`): the code page refuses whatever is typed as it
refuses a wrong code (the same messages, the same count of tries, the same expiry),
*Renvoyer le code* works after the same 60 s and starts the tries again, and every send
counts against the same limit (otp.send); wrong codes are limited per matricule, with or
without an account. It takes the same time too: sending a code (its rate limits, its
rows) is work that only an account causes, and so is checking one; so asking for a
code, *Renvoyer le code* and the code typed back are held to a floor of ANSWER_SECONDS
(tests/accounts/test_enumeration.py).
Whoever lost their registered channel is sent to the new-letter path: a new activation
letter re-activates the account.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from esante import ratelimit
from esante.accounts import actions
from esante.accounts.authenticators.one_time_codes import DecoyCode, LockKey
from esante.accounts.code_step import (
    code_page,
    code_step,
    flow_code,
    flow_decoy,
    send_code_to,
    send_decoy,
    taking_at_least,
)
from esante.accounts.forms import NewLetterForm, PasswordForm
from esante.accounts.models import Account, CodePurpose
from esante.audit import security_log
from esante.client_address import ClientRequest
from esante.flows import Flow, FlowState, stage_view
from esante.portal.captcha import typed_values, wants_new_captcha
from esante.registry import matricule as matricule_rules


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
            send_decoy(request, state)
        else:
            send_code_to(request, state, CodePurpose.RECOVERY, account)
    except ratelimit.RateLimited:
        RECOVERY.end(request)  # nothing sent: no flow left either, account or not
        raise
    return state


@require_http_methods(["GET", "POST"])
@stage_view(RECOVERY, "code")
def recovery_code(request: ClientRequest, state: FlowState[RecoveryData]) -> HttpResponse:
    if not state.data.matricule:
        # Restarted after idling out, at this first stage: the procedure starts with the
        # matricule, with or without an account.
        RECOVERY.end(request)
        return redirect(RECOVERY.entry_url)
    matricule = state.data.matricule
    verification = flow_code(state) or flow_decoy(state)
    # The consecutive wrong codes lock the matricule's recovery codes alike, account or
    # not (and never the login's).
    lock = LockKey.for_matricule(CodePurpose.RECOVERY, matricule)

    def password_next() -> HttpResponse:
        # A recovery code stood in for the app: the password set next is the sheet's alone.
        state.data.by_recovery_code = verification.used_recovery_code
        return RECOVERY.advance(request, state, "password")

    return code_step(
        request,
        RECOVERY,
        state,
        verification,
        page=code_page(request, "accounts/recovery/code.html"),
        # Per matricule, account or not: the matricules without one must not share a count.
        failures_key=matricule,
        verify=lambda typed: verification.verify(typed, ip_address=request.client_ip, lock=lock),
        succeeded=password_next,
        discreet=True,
        answer_floor=ANSWER_SECONDS,
    )


@require_http_methods(["GET", "POST"])
@stage_view(RECOVERY, "password")
def recovery_password(request: ClientRequest, state: FlowState[RecoveryData]) -> HttpResponse:
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
        ip_address=request.client_ip,
        by_recovery_code=state.data.by_recovery_code,
    )
    RECOVERY.end(request)
    messages.success(
        request, _("Votre mot de passe est changé. Connectez-vous avec le nouveau mot de passe.")
    )
    return redirect("patient:login")
