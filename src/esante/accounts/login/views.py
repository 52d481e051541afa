"""The login choice (*Connexion*), login with matricule, password and code (the guide's
pages 11 and 12), logout, and what a logged-in patient sees first: *Mes services eSanté*."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from esante import ratelimit, resume
from esante.accounts.actions import letter_wait_ends, pending_letter_request
from esante.accounts.authenticators import identity_providers
from esante.accounts.code_step import code_page, code_step, flow_code, send_code_to
from esante.accounts.forms import LoginForm
from esante.accounts.middleware import patient_required
from esante.accounts.models import Account, CodePurpose, KnownDevice
from esante.accounts.patient_sessions import (
    PatientRequest,
    check_credentials,
    code_login_method,
    known_device,
    log_in,
    log_out,
    remember_device,
    settle_language,
)
from esante.audit import security_log
from esante.flows import Flow, FlowState, stage_view
from esante.portal.captcha import typed_values, wants_new_captcha
from esante.portal.services import other_services
from esante.registry import matricule as matricule_rules


@dataclass
class LoginData:
    account_id: int | None = None  # whose password was right
    next: str = ""  # where the login goes once the code is right
    otp_id: int | None = None


LOGIN = Flow(
    name="login",
    data_type=LoginData,
    stages=("code",),
    url_names={"code": "patient:login_code"},
    idle_timeout=datetime.timedelta(minutes=15),
    entry_url="patient:login",
    entry_message=gettext_lazy("Saisissez d'abord votre matricule et votre mot de passe."),
    expired_message=gettext_lazy(
        "Après 15 minutes sans activité, la connexion reprend au début par sécurité."
    ),
)
CAPTCHA_FROM_FAILURES = 3
WRONG_CREDENTIALS = gettext_lazy(
    "Le matricule ou le mot de passe est incorrect, ou la connexion à ce compte est bloquée "
    "pour quelques minutes après plusieurs erreurs. Vérifiez votre saisie ou réessayez plus "
    "tard. Votre compte doit avoir été activé."
)


def login_choice(request: HttpRequest) -> HttpResponse:
    """*Connexion* → *PATIENT*: the strong authenticator (each identity provider) or
    *Matricule, mot de passe et code* (routed as portal:login_choice: esante/urls.py);
    → *PROFESSIONNEL*: the providers that vouch for health professionals (esante.practice)."""
    return render(
        request,
        "portal/login_choice.html",
        {
            "providers": identity_providers.providers(),
            "professional_providers": identity_providers.professional_providers(),
        },
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("suivant") or request.GET.get("suivant") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _failure_count(device: KnownDevice | None, matricule: str) -> tuple[str, str]:
    """The rate-limit rule and key that count this browser's wrong passwords: its own when
    the account knows it (device cookie), else the matricule's and the IP's."""
    if device is not None:
        return "login.failed.device", f"device:{device.pk}"
    return "login.failed", matricule


def _captcha_needed(
    request: HttpRequest, matricule: str = "", device: KnownDevice | None = None
) -> bool:
    return _count_asks_captcha(request, _failure_count(device, matricule))


def _count_asks_captcha(request: HttpRequest, count: tuple[str, str]) -> bool:
    action, key = count
    return ratelimit.attempts(action, request, key=key) >= CAPTCHA_FROM_FAILURES


def _captcha_first(request: HttpRequest, context: dict[str, Any], form: LoginForm) -> HttpResponse:
    """The matricule typed has had failures: its captcha comes first, nothing counted."""
    context["form"] = LoginForm(initial=typed_values(form), with_captcha=True)
    context["captcha_notice"] = True
    return render(request, "accounts/login/credentials.html", context, status=400)


@require_http_methods(["GET", "POST"])
def login(request: PatientRequest) -> HttpResponse:
    if request.patient.account is not None:
        return redirect(_next_url(request) or "patient:services")
    typed_matricule = matricule_rules.normalize(request.POST.get("matricule", ""))
    device = known_device(request, typed_matricule) if typed_matricule else None
    typed_count = _failure_count(device, typed_matricule)
    # A submission without a captcha: whether it needed one is read as it is counted
    # (reserve_below, one round trip), or when its form is refused.
    no_captcha_sent = (
        request.method == "POST"
        and "captcha_1" not in request.POST
        and not wants_new_captcha(request)
    )
    with_captcha = not no_captcha_sent and _count_asks_captcha(request, typed_count)
    bound = request.POST if request.method == "POST" else None
    form = LoginForm(bound, with_captcha=with_captcha)
    context: dict[str, Any] = {"form": form, "next": _next_url(request)}
    if wants_new_captcha(request):
        context["form"] = LoginForm(initial=typed_values(form), with_captcha=True)
        return render(request, "accounts/login/credentials.html", context)
    valid = form.is_valid() if no_captcha_sent else False
    if no_captcha_sent and not valid:
        with_captcha = _count_asks_captcha(request, typed_count)
    if request.method == "POST" and with_captcha and "captcha_1" not in request.POST:
        return _captcha_first(request, context, form)
    if not (valid or form.is_valid()):
        security_log.form_refused(request, form)
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/login/credentials.html", context, status=status)

    matricule = form.cleaned_data["matricule"]
    if device is not None and device.account.person.matricule != matricule:
        device = None
    # Counted as a failure before the slow check, so that tries sent at once see each other.
    action, key = _failure_count(device, matricule)
    if not no_captcha_sent:
        attempt: ratelimit.Reservation | None = ratelimit.reserve(action, request, key=key)
    elif (action, key) == typed_count:
        # The count read and the try counted in one step, unless a captcha comes first.
        attempt = ratelimit.reserve_below(action, request, key=key, ceiling=CAPTCHA_FROM_FAILURES)
    elif _count_asks_captcha(request, typed_count):
        attempt = None
    else:
        attempt = ratelimit.reserve(action, request, key=key)
    if attempt is None:
        return _captcha_first(request, context, form)
    account = check_credentials(
        matricule,
        form.cleaned_data["password"],
        ip_address=request.client_ip,
        device=device,
    )
    if account is None:
        context["form"] = LoginForm(
            initial={"matricule": matricule},
            with_captcha=_captcha_needed(request, matricule, device),
        )
        context["credential_error"] = WRONG_CREDENTIALS
        return render(request, "accounts/login/credentials.html", context, status=400)
    attempt.release()
    if not account.code_channel:
        # The helpdesk reset the channel (a lost phone): the new letter re-activates.
        context["credential_error"] = _(
            "Le moyen de réception de vos codes a été réinitialisé par le helpdesk. Activez à "
            "nouveau votre compte avec le courrier qui vous est envoyé : votre DSP est conservé."
        )
        return render(request, "accounts/login/credentials.html", context, status=400)

    state = LOGIN.start(request, LoginData(account_id=account.pk, next=_next_url(request)))
    # A flow started just now: no earlier code of it to supersede.
    send_code_to(request, state, CodePurpose.LOGIN, account, new_flow=True)
    return LOGIN.advance(request, state, "code")


@require_http_methods(["GET", "POST"])
@stage_view(LOGIN, "code")
def login_code(request: PatientRequest, state: FlowState[LoginData]) -> HttpResponse:
    verification = flow_code(state)
    account_id = state.data.account_id
    if verification is None or account_id is None:
        LOGIN.end(request)
        return redirect("patient:login")

    # Read when a code is checked, not for the page nor *Renvoyer le code*.
    @functools.cache
    def holder() -> Account:
        return Account.objects.select_related("person").get(pk=account_id)

    def logged_in() -> HttpResponse:
        account = holder()
        next_url = state.data.next
        LOGIN.end(request)
        # A recovery code opens the session but is no fresh proof of the second factor:
        # changing a factor will ask for the app.
        log_in(
            request,
            account,
            method=code_login_method(
                verification.channel, recovery_code=verification.used_recovery_code
            ),
            app_code=verification.is_app and not verification.used_recovery_code,
            second_factor=not verification.used_recovery_code,
        )
        response = redirect(resume.destination(request, next_url or reverse("patient:services")))
        remember_device(request, response, account)
        # After the new-device notice, which goes in the language the holder had chosen.
        settle_language(request, response, account)
        return response

    return code_step(
        request,
        LOGIN,
        state,
        verification,
        page=code_page(request, "accounts/login/code.html"),
        # The account's person, to whom the flow's code was sent (send_code_to).
        failures_key=str(verification.code.person_id),
        verify=lambda typed: verification.verify(
            typed,
            ip_address=request.client_ip,
            # Reset with a recovery code: the sheet has stood in for the password already.
            recovery_codes=not holder().password_reset_by_recovery_code,
        ),
        succeeded=logged_in,
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    log_out(request)
    messages.success(request, _("Vous êtes déconnecté. À bientôt !"))
    return redirect("portal:home")


@patient_required
def services(request: PatientRequest) -> HttpResponse:
    account = request.patient.logged_in_account
    # A new letter its holder can still cancel: how an account whose only channel is the
    # app hears of it, at its next login.
    letter_request = pending_letter_request(account)
    return render(
        request,
        "accounts/services.html",
        {
            "person": account.person,
            "other_services": other_services(),
            "letter_request": letter_request,
            "wait_ends": letter_wait_ends(letter_request) if letter_request else None,
        },
    )
