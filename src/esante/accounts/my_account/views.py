"""*Mon compte*: the patient's own security — password, code channel, sessions, events."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import i18n
from django.views.decorators.http import require_http_methods

from esante import ratelimit
from esante.accounts import actions
from esante.accounts.authenticators import identity_providers
from esante.accounts.authenticators.contacts import mask
from esante.accounts.authenticators.identity_links import unlink_identity
from esante.accounts.authenticators.one_time_codes import CodeVerification
from esante.accounts.code_step import code_page, code_step, flow_code, send_code, send_code_to
from esante.accounts.forms import (
    ContactChangeForm,
    CurrentPasswordForm,
    ReauthenticationForm,
)
from esante.accounts.middleware import patient_required
from esante.accounts.models import Account, CodeChannel, CodePurpose, IdentityLink
from esante.accounts.patient_sessions import (
    PatientRequest,
    reauthenticate,
    remember_language_chosen,
)
from esante.accounts.reauth import (
    authenticated_recently,
    mark_reauthenticated,
    second_factor_fresh,
    step_up_needed,
    step_up_url,
)
from esante.audit import security_log
from esante.audit.models import AuditEvent, EventType
from esante.flows import Flow, FlowState, stage_view
from esante.registry.models import Language

RECOVERY_CODES_KEY = "esante.recovery_codes"

SECURITY_EVENTS = (
    EventType.ACCOUNT_ACTIVATED,
    EventType.LOGIN_SUCCEEDED,
    EventType.LOGIN_FAILED,
    EventType.ACCOUNT_LOCKED,
    EventType.LOGGED_OUT,
    EventType.PASSWORD_CHANGED,
    EventType.CONTACT_CHANGED,
    EventType.SESSION_ENDED,
    EventType.OTP_FAILED,
    EventType.IDENTITY_LINKED,
    EventType.IDENTITY_UNLINKED,
    EventType.IDENTITY_REFUSED,
    EventType.PASSKEY_ADDED,
    EventType.PASSKEY_REMOVED,
    EventType.PASSKEY_REFUSED,
    EventType.RECOVERY_CODES_RENEWED,
    EventType.LETTER_REQUEST_NOTIFIED,
    EventType.LETTER_REQUEST_CANCELLED,
    EventType.LETTER_REACTIVATION_WAITING,
    EventType.STEP_UP_SUCCEEDED,
    EventType.STEP_UP_FAILED,
)


def _account(request: PatientRequest) -> Account:
    return request.patient.logged_in_account


@patient_required
@require_http_methods(["GET", "POST"])
def my_account(request: PatientRequest) -> HttpResponse:
    account = _account(request)
    current = request.patient.logged_in_session
    if request.method == "POST" and "new_recovery_codes" in request.POST:
        return _new_recovery_codes(request, account)
    if request.method == "POST" and request.POST.get("confirm_password") in REAUTH_PREFIXES:
        return _confirm_password(request, account, request.POST["confirm_password"])
    if request.method == "POST" and not authenticated_recently(request):
        # Ending sessions asks for the password again too (ASVS 5.0 7.5.2).
        messages.error(request, _("Confirmez d'abord votre mot de passe."))
        return redirect(reverse("patient:account") + "#sessions")
    if request.method == "POST":
        if "end_session" in request.POST:
            try:
                session_id = int(request.POST["end_session"])
            except ValueError:
                session_id = -1
            ended = actions.end_sessions(
                account, ip_address=request.client_ip, reason="ended_by_person", only=session_id
            )
            if ended and session_id == current.pk:
                request.session.flush()
                return redirect("portal:home")
            if ended:
                messages.success(request, _("La session a été déconnectée."))
        elif "end_others" in request.POST:
            ended = actions.end_sessions(
                account, ip_address=request.client_ip, reason="ended_by_person", keep=current.pk
            )
            messages.success(
                request,
                _("Sessions déconnectées : %(count)d.") % {"count": ended},
            )
        return redirect("patient:account")
    letter_request = actions.pending_letter_request(account)
    sessions = account.sessions.filter(ended_at__isnull=True).order_by("-last_seen_at")
    events = AuditEvent.objects.filter(
        person=account.person, event_type__in=SECURITY_EVENTS
    ).order_by("-at", "-pk")[:20]
    return render(
        request,
        "accounts/account/overview.html",
        {
            "account": account,
            "person": account.person,
            "letter_request": letter_request,
            "wait_ends": actions.letter_wait_ends(letter_request) if letter_request else None,
            "current_session": current,
            "sessions": sessions,
            "events": events,
            "destination": _masked(account),
            "providers": _providers(account),
            # Shown once: right after they are made, then never again.
            "recovery_codes": request.session.pop(RECOVERY_CODES_KEY, None),
            "recovery_left": account.recovery_codes.filter(used_at__isnull=True).count(),
            "reauth_form": ReauthenticationForm(),
            "recently_authenticated": authenticated_recently(request),
            "second_factor_fresh": second_factor_fresh(request),
            "step_up_urls": {
                name: step_up_url(reverse("patient:account") + f"#{anchor}")
                for name, anchor in (
                    ("recovery", "recovery-codes"),
                    ("strong", "strong"),
                    ("passkeys", "passkeys"),
                )
            },
            "sessions_reauth_form": ReauthenticationForm(prefix=REAUTH_PREFIXES["sessions"]),
        },
    )


def _new_recovery_codes(request: PatientRequest, account: Account) -> HttpResponse:
    """Ten new recovery codes (the old ones stop working): a fresh proof of the app (not
    a recovery code), then the password again."""
    form = ReauthenticationForm(request.POST)
    if account.code_channel != CodeChannel.TOTP:
        return redirect("patient:account")
    if stepping_up := step_up_needed(request, reverse("patient:account") + "#recovery-codes"):
        return stepping_up
    if not form.is_valid() or not _password_confirmed(request, account, form):
        messages.error(request, _("Le mot de passe actuel est incorrect."))
        return redirect(reverse("patient:account") + "#recovery-codes")
    request.session[RECOVERY_CODES_KEY] = actions.renew_recovery_codes(
        account, ip_address=request.client_ip
    )
    return redirect(reverse("patient:account") + "#recovery-codes")


# The sections of Mon compte whose changes need the password again (esante.accounts
# .reauth), and the prefix of their password form. Passkeys and providers need a fresh
# second factor instead (the step-up page).
REAUTH_PREFIXES = {"sessions": "sessions"}


def _confirm_password(request: HttpRequest, account: Account, section: str) -> HttpResponse:
    """The password again, to end sessions, for a while."""
    form = ReauthenticationForm(request.POST, prefix=REAUTH_PREFIXES[section])
    if form.is_valid() and _password_confirmed(request, account, form):
        mark_reauthenticated(request)
    else:
        messages.error(request, _("Le mot de passe actuel est incorrect."))
    return redirect(reverse("patient:account") + f"#{section}")


def _providers(account: Account) -> list[tuple[identity_providers.Provider, IdentityLink | None]]:
    links = {link.provider: link for link in account.identity_links.all()}
    return [(provider, links.get(provider.slug)) for provider in identity_providers.providers()]


@patient_required
@require_http_methods(["GET", "POST"])
def unlink(request: PatientRequest, slug: str) -> HttpResponse:
    """Unlink a provider: a fresh second factor, then the password again."""
    account = _account(request)
    provider = identity_providers.provider(slug)
    link = account.identity_links.filter(provider=slug).first()
    if provider is None or link is None:
        raise Http404
    if stepping_up := step_up_needed(request, request.path):
        return stepping_up
    form = ReauthenticationForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "provider": provider, "link": link}
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/account/unlink.html", context, status=status)
    if not _password_confirmed(request, account, form):
        return render(request, "accounts/account/unlink.html", context, status=400)
    unlink_identity(link, ip_address=request.client_ip, provider_name=provider.name)
    messages.success(
        request, _("%(provider)s n'est plus associé à votre compte.") % {"provider": provider.name}
    )
    return redirect("patient:account")


def _password_confirmed(request: HttpRequest, account: Account, form: forms.Form) -> bool:
    """The password typed again in `form`'s `current` field is the account's; a wrong one
    counts as a failed login (and its limit applies) and is said on the field."""
    # Counted before the slow check, so that tries sent at once see each other.
    attempt = ratelimit.reserve("login.failed", request, key=account.person.matricule)
    if reauthenticate(request, account, form.cleaned_data["current"]):  # a new session id
        attempt.release()
        return True
    form.add_error("current", _("Le mot de passe actuel est incorrect."))
    return False


def _masked(account: Account) -> str:
    return mask(account.code_channel, account.code_destination)


# Changing the password: the current one, a new one, then a fresh one-time code.


@dataclass
class AccountChangeData:
    """A change in *Mon compte* waiting for its one-time code: the new password (as its
    hash), or the new channel and destination."""

    account_id: int | None = None
    otp_id: int | None = None
    password_hash: str = ""
    channel: str = ""
    destination: str = ""


PASSWORD_CHANGE = Flow(
    name="password_change",
    data_type=AccountChangeData,
    stages=("code",),
    url_names={"code": "patient:password_code"},
    idle_timeout=datetime.timedelta(minutes=15),
    entry_url="patient:password",
    entry_message=gettext_lazy("Saisissez d'abord votre mot de passe actuel et le nouveau."),
    expired_message=gettext_lazy(
        "Après 15 minutes sans activité, le changement reprend au début par sécurité."
    ),
)

CONTACT_CHANGE = Flow(
    name="contact_change",
    data_type=AccountChangeData,
    stages=("code",),
    url_names={"code": "patient:contact_code"},
    idle_timeout=datetime.timedelta(minutes=15),
    entry_url="patient:contact",
    entry_message=gettext_lazy("Choisissez d'abord le nouveau moyen de réception."),
    expired_message=gettext_lazy(
        "Après 15 minutes sans activité, le changement reprend au début par sécurité."
    ),
)


@patient_required
@require_http_methods(["GET", "POST"])
def password(request: PatientRequest) -> HttpResponse:
    account = _account(request)
    form = CurrentPasswordForm(
        request.POST if request.method == "POST" else None, person=account.person
    )
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/account/password.html", {"form": form}, status=status)
    if not _password_confirmed(request, account, form):
        return render(request, "accounts/account/password.html", {"form": form}, status=400)
    state = PASSWORD_CHANGE.start(
        request,
        AccountChangeData(
            account_id=account.pk, password_hash=make_password(form.cleaned_data["password1"])
        ),
    )
    send_code_to(request, state, CodePurpose.PASSWORD_CHANGE, account)
    return PASSWORD_CHANGE.advance(request, state, "code")


@patient_required
@require_http_methods(["GET", "POST"])
def contact(request: PatientRequest) -> HttpResponse:
    account = _account(request)
    # Before any code goes to a new destination: a fresh proof of the current channel (or
    # app, passkey, provider), or a stolen session and the password move it to a thief.
    if stepping_up := step_up_needed(request, reverse("patient:contact")):
        return stepping_up
    form = ContactChangeForm(
        request.POST if request.method == "POST" else None,
        initial={"channel": account.code_channel},
    )
    context = {"form": form, "destination": _masked(account)}
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        if request.method == "POST":
            security_log.form_refused(request, form)
        return render(request, "accounts/account/contact.html", context, status=status)
    if not _password_confirmed(request, account, form):
        return render(request, "accounts/account/contact.html", context, status=400)
    channel = CodeChannel(form.cleaned_data["channel"])
    destination = form.cleaned_data["destination"]
    state = CONTACT_CHANGE.start(
        request,
        AccountChangeData(account_id=account.pk, channel=channel, destination=destination),
    )
    # The code goes to the new number or address: that is what it verifies.
    send_code(
        request,
        state,
        CodePurpose.CONTACT_CHANGE,
        person=account.person,
        channel=channel,
        destination=destination,
    )
    return CONTACT_CHANGE.advance(request, state, "code")


def _code_step(
    request: PatientRequest,
    flow: Flow[AccountChangeData],
    state: FlowState[AccountChangeData],
    *,
    title: str,
    apply: Callable[[Account, CodeVerification], None],
) -> HttpResponse:
    """The one-time code page of a change: the code step, then `apply(account, verification)`."""
    account = _account(request)
    verification = flow_code(state)
    if verification is None or state.data.account_id != account.pk:
        flow.end(request)
        return redirect("patient:account")

    def applied() -> HttpResponse:
        apply(account, verification)
        flow.end(request)
        return redirect("patient:account")

    return code_step(
        request,
        flow,
        state,
        verification,
        page=code_page(request, "accounts/account/code.html", title=title),
        failures_key=str(account.person_id),
        succeeded=applied,
    )


@patient_required
@require_http_methods(["GET", "POST"])
@stage_view(PASSWORD_CHANGE, "code")
def password_code(request: PatientRequest, state: FlowState[AccountChangeData]) -> HttpResponse:
    def apply(account: Account, verification: CodeVerification) -> None:
        actions.change_password(account, state.data.password_hash, ip_address=request.client_ip)
        messages.success(
            request,
            _(
                "Votre mot de passe est changé. Si d'autres appareils sont connectés à votre "
                "compte, vous pouvez les déconnecter ci-dessous."
            ),
        )

    return _code_step(
        request, PASSWORD_CHANGE, state, title=_("Changer mon mot de passe"), apply=apply
    )


@patient_required
@require_http_methods(["GET", "POST"])
@stage_view(CONTACT_CHANGE, "code")
def contact_code(request: PatientRequest, state: FlowState[AccountChangeData]) -> HttpResponse:
    def apply(account: Account, verification: CodeVerification) -> None:
        channel = CodeChannel(state.data.channel)
        recovery_codes = actions.change_contact(
            account,
            channel,
            state.data.destination,
            ip_address=request.client_ip,
            totp_step=verification.totp_step,
        )
        if account.majority_channel_pending:  # the last step of the majority review
            actions.confirm_majority_channel(account)
            messages.success(request, _("Votre compte eSanté est désormais le vôtre."))
        if channel == CodeChannel.TOTP:
            request.session[RECOVERY_CODES_KEY] = recovery_codes
            messages.success(request, _("Votre application d'authentification est associée."))
        else:
            messages.success(request, _("Vos codes seront désormais envoyés au nouveau moyen."))

    return _code_step(
        request,
        CONTACT_CHANGE,
        state,
        title=_("Changer le moyen de réception des codes"),
        apply=apply,
    )


def set_language(request: PatientRequest) -> HttpResponseBase:
    """The language menu of every page: Django's view (the cookie, the way back), and for a
    logged-in patient the account's language too, which their notices are written in."""
    response = i18n.set_language(request)  # a GET changes nothing, as in Django
    language = request.POST.get("language", "")
    if request.method == "POST" and language in Language.values:
        account = request.patient.account
        if account is not None:
            actions.change_language(account, Language(language), ip_address=request.client_ip)
        else:  # the account's once logged in (esante.accounts.patient_sessions.settle_language)
            remember_language_chosen(response, language)
    return response
