"""A professional's passkeys: registered from *Espace professionnel* within minutes of a
login through an identity provider (sessions.may_register_passkey), then a complete
login from *Connexion* → *PROFESSIONNEL* — the patients' and staff's WebAuthn checks
(user verification required, the challenge used once, the sign counter moving forward),
and an active professional of the register. A refusal is `professional.login.failed`
(method "passkey") and the one answer a key that opens nothing gets."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from esante import client_address, ratelimit, resume
from esante.accounts.authenticators import passkeys
from esante.practice import sessions
from esante.practice.models import ProfessionalPasskey
from esante.practice.passkeys import (
    add_professional_passkey,
    record_professional_passkey_use,
    remove_professional_passkey,
)
from esante.practice.sessions import ProfessionalRequest
from esante.practice.views import professional_required
from esante.professionals.models import Professional

REGISTER_KEY = "esante.professional.passkey.register"
HANDLE_KEY = "esante.professional.passkey.handle"
LOGIN_KEY = "esante.professional.passkey.login"
NOT_FRESH = gettext_lazy(
    "Pour ajouter ou supprimer une clé d'accès, reconnectez-vous d'abord avec votre moyen "
    "d'identification professionnel : cela n'est possible que dans les 10 minutes qui suivent."
)
OPENS_NOTHING = gettext_lazy("Cette clé d'accès n'ouvre aucun espace professionnel.")


def _fresh(request: ProfessionalRequest) -> bool:
    return request.professional is not None and sessions.may_register_passkey(request.professional)


def _handle(professional: Professional) -> bytes:
    existing = professional.passkeys.values_list("handle", flat=True).first()
    return bytes.fromhex(existing) if existing else secrets.token_bytes(32)


@require_POST
@professional_required
@passkeys.reads_json
def register_options(request: ProfessionalRequest) -> HttpResponse:
    if not _fresh(request) or request.professional is None:
        return JsonResponse({"error": str(NOT_FRESH)}, status=403)
    professional = request.professional.professional
    handle = _handle(professional)
    request.session[HANDLE_KEY] = handle.hex()
    user = passkeys.WebAuthnUser(
        owner=f"professional:{professional.pk}",
        handle=handle,
        name=professional.national_code,
        display_name=professional.full_name,
        existing=list(professional.passkeys.values_list("credential_id", flat=True)),
    )
    return HttpResponse(
        passkeys.creation_options(request, user, session_key=REGISTER_KEY),
        content_type="application/json",
    )


@require_POST
@professional_required
@passkeys.reads_json
def register(request: ProfessionalRequest) -> HttpResponse:
    if not _fresh(request) or request.professional is None:
        return JsonResponse({"error": str(NOT_FRESH)}, status=403)
    professional = request.professional.professional
    body = passkeys.json_body(request)
    credential = body.get("credential")
    name = str(body.get("name") or "").strip()[:60] or _("Ma clé d'accès")
    if not isinstance(credential, dict):
        return JsonResponse(
            {"error": _("Votre navigateur n'a pas créé de clé d'accès : recommencez.")}, status=400
        )
    try:
        verified = passkeys.verified_creation(
            request, f"professional:{professional.pk}", credential, session_key=REGISTER_KEY
        )
        add_professional_passkey(
            professional,
            verified,
            name=name,
            handle=request.session.pop(HANDLE_KEY, ""),
            ip_address=client_address.of(request),
        )
    except passkeys.PasskeyError as error:
        return JsonResponse({"error": error.message}, status=400)
    except IntegrityError:
        return JsonResponse({"error": _("Cette clé d'accès est déjà enregistrée.")}, status=400)
    messages.success(request, _("La clé d'accès « %(name)s » est enregistrée.") % {"name": name})
    return JsonResponse({"redirect": reverse("practice:home") + "#passkeys"})


@require_POST
@professional_required
def delete(request: ProfessionalRequest, passkey_id: int) -> HttpResponse:
    if request.professional is None:  # professional_required sent everyone else away
        return redirect("practice:home")
    key = get_object_or_404(
        ProfessionalPasskey, pk=passkey_id, professional=request.professional.professional
    )
    if not _fresh(request):
        messages.error(request, NOT_FRESH)
        return redirect(reverse("practice:home") + "#passkeys")
    remove_professional_passkey(key, ip_address=client_address.of(request))
    messages.success(request, _("La clé d'accès « %(name)s » est supprimée.") % {"name": key.name})
    return redirect(reverse("practice:home") + "#passkeys")


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

    def find(credential_id: str) -> ProfessionalPasskey | None:
        return (
            ProfessionalPasskey.objects.select_for_update()
            .select_related("professional")
            .filter(credential_id=credential_id)
            .first()
        )

    ip_address = client_address.of(request)
    try:
        with transaction.atomic():
            key, sign_count = passkeys.verified_assertion(
                request,
                credential,
                session_key=LOGIN_KEY,
                find=find,
                owner_handle=lambda key: key.handle,
                unknown_message=str(OPENS_NOTHING),
            )
            record_professional_passkey_use(key, sign_count)
    except passkeys.PasskeyError as error:
        # Written after the transaction: a refusal is recorded, whatever happens next.
        stored = error.stored
        sessions.record_refused_login(
            "passkey",
            error.reason,
            ip_address=ip_address,
            actor=f"professional:{stored.professional_id}" if stored else "anonymous",
        )
        return JsonResponse({"error": error.message}, status=400)
    if not key.professional.is_active:
        sessions.record_refused_login(
            "passkey",
            "inactive",
            ip_address=ip_address,
            national_code=key.professional.national_code,
        )
        return JsonResponse({"error": str(OPENS_NOTHING)}, status=400)
    sessions.log_in(request, key.professional, method="passkey", passkey=key.pk)
    return JsonResponse({"redirect": resume.destination(request, reverse("practice:home"))})
