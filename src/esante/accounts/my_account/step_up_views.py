"""*Confirmez votre identité*: the step-up asked before a factor changes or rights on a
record are granted, when the second factor was last proven more than 10 minutes ago
(esante.accounts.reauth). It offers the account's CURRENT second factors only: a code
sent to the registered channel (or the authenticator app's code — never a recovery
code), a passkey of the account, or a linked identity provider (esante.accounts
.oidc_views, purpose "stepup"). Never the password alone, never a code to a new address.
Success is recorded in the session and audited, then the person goes back to what they
asked (a local `suivant`); every refusal is audited too."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from esante import ratelimit
from esante.accounts import actions
from esante.accounts.authenticators import identity_providers, passkeys
from esante.accounts.authenticators.contacts import mask
from esante.accounts.code_step import code_page, code_step, flow_code, send_code_to
from esante.accounts.middleware import patient_required
from esante.accounts.models import Account, CodeChannel, CodePurpose, Passkey
from esante.accounts.patient_sessions import PatientRequest
from esante.accounts.reauth import mark_second_factor, safe_next, second_factor_fresh
from esante.flows import Flow, FlowState, stage_view

NEXT_KEY = "esante.step_up.next"
PASSKEY_KEY = "esante.step_up.passkey"


@dataclass
class StepUpData:
    account_id: int | None = None
    otp_id: int | None = None


STEP_UP = Flow(
    name="step_up",
    data_type=StepUpData,
    stages=("code",),
    url_names={"code": "patient:step_up_code"},
    idle_timeout=datetime.timedelta(minutes=15),
    entry_url="patient:step_up",
    entry_message=gettext_lazy("Choisissez d'abord comment confirmer votre identité."),
    expired_message=gettext_lazy(
        "Après 15 minutes sans activité, la confirmation reprend au début par sécurité."
    ),
)


def _account(request: PatientRequest) -> Account:
    return request.patient.logged_in_account


def next_url(request: HttpRequest) -> str:
    return safe_next(request, request.session.get(NEXT_KEY) or "")


def proven(request: PatientRequest, account: Account, method: str, **details: str) -> None:
    """The current second factor proven in this session: recorded, audited."""
    mark_second_factor(request)
    actions.record_step_up(account, method=method, ip_address=request.client_ip, **details)


def refused(request: PatientRequest, account: Account, method: str, reason: str) -> None:
    actions.record_step_up(account, method=method, ip_address=request.client_ip, refusal=reason)


@patient_required
@require_http_methods(["GET", "POST"])
def step_up(request: PatientRequest) -> HttpResponse:
    account = _account(request)
    if request.method == "GET":
        request.session[NEXT_KEY] = safe_next(request, request.GET.get("suivant", ""))
        # `renouveler`: a service asked for an authentication now (OpenID Connect
        # `prompt=login`, `max_age`): a proof of a few minutes ago does not do.
        if second_factor_fresh(request) and not request.GET.get("renouveler"):
            return redirect(next_url(request))
    elif "send" in request.POST and account.code_channel:
        state = STEP_UP.start(request, StepUpData(account_id=account.pk))
        send_code_to(request, state, CodePurpose.STEP_UP, account)
        return STEP_UP.advance(request, state, "code")
    linked = {link.provider for link in account.identity_links.all()}
    return render(
        request,
        "accounts/account/step_up.html",
        {
            "account": account,
            "app": account.code_channel == CodeChannel.TOTP,
            "destination": mask(account.code_channel, account.code_destination),
            "has_passkeys": account.passkeys.exists(),
            "providers": [each for each in identity_providers.providers() if each.slug in linked],
            "next": next_url(request),
        },
    )


@patient_required
@require_http_methods(["GET", "POST"])
@stage_view(STEP_UP, "code")
def step_up_code(request: PatientRequest, state: FlowState[StepUpData]) -> HttpResponse:
    account = _account(request)
    verification = flow_code(state)
    # Only a code to where codes go now proves the current factor (not one sent before a
    # change of channel made elsewhere).
    if (
        verification is None
        or state.data.account_id != account.pk
        or verification.code.destination != account.code_destination
    ):
        STEP_UP.end(request)
        return redirect("patient:step_up")

    def confirmed() -> HttpResponse:
        STEP_UP.end(request)
        proven(request, account, "code", channel=verification.channel)
        return redirect(next_url(request))

    return code_step(
        request,
        STEP_UP,
        state,
        verification,
        page=code_page(request, "accounts/account/code.html", title=_("Confirmez votre identité")),
        failures_key=str(account.person_id),
        succeeded=confirmed,
        refused=lambda reason: refused(request, account, "code", reason),
        allow_recovery=False,
    )


@patient_required
@require_POST
@passkeys.reads_json
def passkey_options(request: HttpRequest) -> HttpResponse:
    ratelimit.check_and_hit("passkey.login", request)
    return HttpResponse(
        passkeys.request_options(request, session_key=PASSKEY_KEY),
        content_type="application/json",
    )


@patient_required
@require_POST
@passkeys.reads_json
def passkey(request: PatientRequest) -> HttpResponse:
    """A passkey of this account answered the challenge: the second factor is proven."""
    account = _account(request)
    credential = passkeys.json_body(request).get("credential")
    if not isinstance(credential, dict):
        return JsonResponse(
            {"error": _("Votre navigateur n'a pas donné de clé d'accès : recommencez.")}, status=400
        )

    def find(credential_id: str) -> Passkey | None:
        # Only this account's keys: another account's passkey proves nothing here.
        return account.passkeys.select_for_update().filter(credential_id=credential_id).first()

    try:
        with transaction.atomic():
            key, sign_count = passkeys.verified_assertion(
                request,
                credential,
                session_key=PASSKEY_KEY,
                find=find,
                owner_handle=lambda _key: account.webauthn_handle,
                unknown_message=_("Cette clé d'accès n'est pas une clé de votre compte eSanté."),
            )
            passkeys.record_sign_count(key, sign_count)
    except passkeys.PasskeyError as error:
        refused(request, account, "passkey", error.reason)
        return JsonResponse({"error": error.message}, status=400)
    proven(request, account, "passkey", passkey=str(key.pk))
    return JsonResponse({"redirect": next_url(request)})
