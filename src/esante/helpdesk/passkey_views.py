"""Staff passkeys: registered from *Mes clés d'accès* with a fresh second factor (the
app's code within 10 minutes: at the login or at *Confirmez votre identité*), then a
complete login at /helpdesk/ (the same WebAuthn checks as the patients':
esante.accounts.authenticators.passkeys). A password change removes them (esante.helpdesk.views)."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante import ratelimit
from esante.accounts.authenticators import passkeys
from esante.audit.models import EventType
from esante.helpdesk import actions
from esante.helpdesk.auth import (
    ANY_STAFF,
    StaffRequest,
    check_code,
    log_staff_in,
    mark_second_factor,
    record_failed_passkey,
    second_factor_fresh,
    staff_required,
)
from esante.helpdesk.forms import StaffCodeForm
from esante.helpdesk.models import StaffPasskey
from esante.helpdesk.roles import is_staff_member

REGISTER_KEY = "esante.staff.passkey.register"
LOGIN_KEY = "esante.staff.passkey.login"
NOT_FRESH = gettext_lazy(
    "Confirmez d'abord votre identité avec le code de votre application, puis recommencez."
)


def _handle(user: User) -> bytes:
    existing = StaffPasskey.objects.filter(user=user).values_list("handle", flat=True).first()
    return bytes.fromhex(existing) if existing else secrets.token_bytes(32)


@require_GET
@staff_required(ANY_STAFF)
def keys(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "helpdesk/passkeys.html",
        {
            "passkeys": StaffPasskey.objects.filter(user=request.user),
            "fresh": second_factor_fresh(request),
            "step_up_url": _step_up_url(),
        },
    )


def _step_up_url() -> str:
    return reverse("helpdesk:step_up")  # which comes back to Mes clés d'accès


@require_http_methods(["GET", "POST"])
@staff_required()
def step_up(request: StaffRequest) -> HttpResponse:
    """*Confirmez votre identité*: a new code of the app (never one already used)."""
    staff = request.user
    form = StaffCodeForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "helpdesk/step_up.html", {"form": form}, status=status)
    if not check_code(
        request, staff, form.cleaned_data["code"], refusal_event=EventType.STEP_UP_FAILED
    ):
        form.add_error("code", _("Ce code est incorrect ou a déjà servi."))
        return render(request, "helpdesk/step_up.html", {"form": form}, status=400)
    mark_second_factor(request)
    actions.record_staff_step_up(staff, ip_address=request.client_ip)
    return redirect("helpdesk:passkeys")


@require_POST
@staff_required(ANY_STAFF)
@passkeys.reads_json
def register_options(request: StaffRequest) -> HttpResponse:
    staff = request.user
    if not second_factor_fresh(request):
        return JsonResponse({"error": str(NOT_FRESH)}, status=403)
    handle = _handle(staff)
    request.session["esante.staff.passkey.handle"] = handle.hex()
    user = passkeys.WebAuthnUser(
        owner=f"staff:{staff.pk}",
        handle=handle,
        name=staff.get_username(),
        display_name=staff.get_full_name() or staff.get_username(),
        existing=list(
            StaffPasskey.objects.filter(user=staff).values_list("credential_id", flat=True)
        ),
    )
    return HttpResponse(
        passkeys.creation_options(request, user, session_key=REGISTER_KEY),
        content_type="application/json",
    )


@require_POST
@staff_required(ANY_STAFF)
@passkeys.reads_json
def register(request: StaffRequest) -> HttpResponse:
    staff = request.user
    if not second_factor_fresh(request):
        return JsonResponse({"error": str(NOT_FRESH)}, status=403)
    body = passkeys.json_body(request)
    credential = body.get("credential")
    name = str(body.get("name") or "").strip()[:60] or _("Ma clé d'accès")
    if not isinstance(credential, dict):
        return JsonResponse(
            {"error": _("Votre navigateur n'a pas créé de clé d'accès : recommencez.")}, status=400
        )
    try:
        verified = passkeys.verified_creation(
            request, f"staff:{staff.pk}", credential, session_key=REGISTER_KEY
        )
        actions.add_staff_passkey(
            staff,
            verified,
            name=name,
            handle=request.session.pop("esante.staff.passkey.handle", ""),
        )
    except passkeys.PasskeyError as error:
        return JsonResponse({"error": error.message}, status=400)
    except IntegrityError:
        return JsonResponse({"error": _("Cette clé d'accès est déjà enregistrée.")}, status=400)
    messages.success(request, _("La clé d'accès « %(name)s » est enregistrée.") % {"name": name})
    return JsonResponse({"redirect": reverse("helpdesk:passkeys")})


@require_POST
@staff_required(ANY_STAFF)
def delete(request: StaffRequest, passkey_id: int) -> HttpResponse:
    staff = request.user
    key = get_object_or_404(StaffPasskey, pk=passkey_id, user=staff)
    if not second_factor_fresh(request):
        messages.error(request, NOT_FRESH)
        return redirect(_step_up_url())
    actions.remove_staff_passkey(key, staff=staff)
    messages.success(request, _("La clé d'accès « %(name)s » est supprimée.") % {"name": key.name})
    return redirect("helpdesk:passkeys")


@require_POST
@passkeys.reads_json
def login_options(request: HttpRequest) -> HttpResponse:
    ratelimit.check_and_hit("passkey.login", request)
    return HttpResponse(
        passkeys.request_options(request, session_key=LOGIN_KEY), content_type="application/json"
    )


@require_POST
@passkeys.reads_json
def login(request: HttpRequest) -> HttpResponse:
    credential = passkeys.json_body(request).get("credential")
    if not isinstance(credential, dict):
        return JsonResponse(
            {"error": _("Votre navigateur n'a pas donné de clé d'accès : recommencez.")}, status=400
        )

    def find(credential_id: str) -> StaffPasskey | None:
        return (
            StaffPasskey.objects.select_for_update()
            .select_related("user")
            .filter(credential_id=credential_id, user__is_active=True)
            .first()
        )

    try:
        with transaction.atomic():
            key, sign_count = passkeys.verified_assertion(
                request,
                credential,
                session_key=LOGIN_KEY,
                find=find,
                owner_handle=lambda key: key.handle,
                unknown_message=_("Cette clé d'accès n'ouvre aucun accès au helpdesk."),
            )
            actions.record_staff_passkey_use(key, sign_count)
    except passkeys.PasskeyError as error:
        # Written after the transaction: a refusal is recorded, whatever happens next.
        record_failed_passkey(request, error.reason, error.stored.user if error.stored else None)
        return JsonResponse({"error": error.message}, status=400)
    if not is_staff_member(key.user):
        record_failed_passkey(request, "no_permission", key.user)
        return JsonResponse(
            {"error": _("Cette clé d'accès n'ouvre aucun accès au helpdesk.")}, status=400
        )
    log_staff_in(request, key.user, method="passkey")
    return JsonResponse({"redirect": reverse("helpdesk:home")})
