"""Passkeys: registration (activation step 4 and *Mon compte*), *Connexion avec une clé
d'accès*, deletion. The browser side is esante/js/passkeys.js: WebAuthn needs JavaScript,
so these controls appear only where the browser offers it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from esante import ratelimit, resume
from esante.accounts.activation.views import ACTIVATION
from esante.accounts.authenticators import passkeys
from esante.accounts.middleware import patient_required
from esante.accounts.models import Account
from esante.accounts.patient_sessions import (
    PASSKEY,
    PatientRequest,
    log_in,
    remember_device,
    settle_language,
)
from esante.accounts.reauth import second_factor_fresh, step_up_needed

NAME_MAX = 60
NOT_OPEN = gettext_lazy(
    "Connectez-vous, ou confirmez votre identité dans Mon compte, pour ajouter une clé d'accès."
)


def _registering_account(request: PatientRequest) -> tuple[Account, str] | None:
    """Who registers, and where they go back: the account just created by the activation
    wizard at step 4 (even when someone — a parent — is logged in in the same browser), or
    the logged-in account (Mon compte)."""
    if passkeys.json_body(request).get("purpose") == "activation":
        state, _expired = ACTIVATION.load(request)
        if (
            state is None
            or ACTIVATION.current_stage(state) != "authenticators"
            or state.data.account_id is None
        ):
            return None
        found = Account.objects.select_related("person").filter(pk=state.data.account_id)
        return (found.get(), reverse("activation:authenticators")) if found.exists() else None
    account = request.patient.account
    if account is None or not second_factor_fresh(request):
        return None
    return account, reverse("patient:account") + "#passkeys"


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_POST
@passkeys.reads_json
def register_options(request: PatientRequest) -> HttpResponse:
    registering = _registering_account(request)
    if registering is None:
        return _error(str(NOT_OPEN), status=403)
    account, _back = registering
    return HttpResponse(
        passkeys.registration_options(request, account), content_type="application/json"
    )


@require_POST
@passkeys.reads_json
def register(request: PatientRequest) -> HttpResponse:
    registering = _registering_account(request)
    if registering is None:
        return _error(str(NOT_OPEN), status=403)
    account, back = registering
    body = passkeys.json_body(request)
    name = str(body.get("name") or "").strip()[:NAME_MAX] or _("Ma clé d'accès")
    credential = body.get("credential")
    if not isinstance(credential, dict):
        return _error(_("Votre navigateur n'a pas créé de clé d'accès : recommencez."))
    try:
        passkeys.register(request, account, credential, name)
    except passkeys.PasskeyError as error:
        return _error(error.message)
    messages.success(request, _("La clé d'accès « %(name)s » est enregistrée.") % {"name": name})
    return JsonResponse({"redirect": back})


@require_POST
@passkeys.reads_json
def login_options(request: HttpRequest) -> HttpResponse:
    ratelimit.check_and_hit("passkey.login", request)
    return HttpResponse(passkeys.authentication_options(request), content_type="application/json")


@require_POST
@passkeys.reads_json
def login(request: HttpRequest) -> HttpResponse:
    credential = passkeys.json_body(request).get("credential")
    if not isinstance(credential, dict):
        return _error(_("Votre navigateur n'a pas donné de clé d'accès : recommencez."))
    try:
        account = passkeys.authenticate(request, credential)
    except passkeys.PasskeyError as error:
        return _error(error.message)
    log_in(request, account, method=PASSKEY)
    response = JsonResponse({"redirect": resume.destination(request, reverse("patient:services"))})
    remember_device(request, response, account)
    # After the new-device notice, which goes in the language the holder had chosen.
    settle_language(request, response, account)
    return response


@patient_required
@require_POST
def delete(request: PatientRequest, passkey_id: int) -> HttpResponse:
    account = request.patient.logged_in_account
    passkey = get_object_or_404(account.passkeys, pk=passkey_id)
    if stepping_up := step_up_needed(request, reverse("patient:account") + "#passkeys"):
        return stepping_up
    passkeys.remove_passkey(passkey, ip_address=request.client_ip)
    messages.success(
        request, _("La clé d'accès « %(name)s » est supprimée.") % {"name": passkey.name}
    )
    return redirect(reverse("patient:account") + "#passkeys")
