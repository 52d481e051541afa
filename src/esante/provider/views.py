"""The provider's endpoints (discovery, JWKS, token, userinfo, revocation, logout) and its
pages (the authorization: login, level, « pour qui », consent).

An authorization request is only ever the service's query string: every page of the
journey posts back to the same address with that query, so nothing of a request half
done is kept but when it was first seen (`prompt=login`)."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any, cast
from urllib.parse import urlencode

from authlib.integrations.django_oauth2.resource_protector import return_error_response
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import InvalidTokenError
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante import ratelimit, resume
from esante.accounts.models import PatientSession
from esante.accounts.my_account import step_up_views
from esante.accounts.patient_sessions import PatientRequest
from esante.accounts.reauth import SECOND_FACTOR_KEY
from esante.practice.sessions import ProfessionalRequest
from esante.provider import actions, claims, keys, logout
from esante.provider.server import (
    Subject,
    build,
    build_protector,
    consent_stands,
    session_id_claim,
    set_issuer,
)
from esante.records.access import assisted_records
from esante.registry.models import InsuredPerson
from esante.services import smart
from esante.services.models import (
    ACR_HIGH,
    ACR_SUBSTANTIAL,
    ACR_VALUES,
    SCOPES,
    Audience,
    Service,
)

SERVER = build()
PROTECTOR = build_protector()
FIRST_SEEN_KEY = "esante.oidc.first_seen"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class ProviderRequest(PatientRequest, ProfessionalRequest):
    pass


# Discovery --------------------------------------------------------------------------------


@require_GET
def openid_configuration(request: HttpRequest) -> JsonResponse:
    base = set_issuer(request)

    def url(name: str) -> str:
        return base + reverse(name)

    return JsonResponse(
        {
            "issuer": base,
            "authorization_endpoint": url("provider:authorize"),
            "token_endpoint": url("provider:token"),
            "userinfo_endpoint": url("provider:userinfo"),
            "jwks_uri": url("provider:jwks"),
            "revocation_endpoint": url("provider:revoke"),
            "end_session_endpoint": url("provider:end_session"),
            "scopes_supported": [*SCOPES, *smart.SUPPORTED],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": [keys.ALGORITHM],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": list(ACR_VALUES),
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "acr",
                "amr",
                "sid",
                "at_hash",
                "given_name",
                "family_name",
                "birthdate",
                "matricule",
                "act",
                "fhirUser",
                "profession",
            ],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "prompt_values_supported": ["none", "login", "consent"],
            "ui_locales_supported": [code for code, _name in settings.LANGUAGES],
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "frontchannel_logout_supported": False,
        }
    )


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    keys.signing_key()  # the first key is made at the first use
    return JsonResponse(keys.public_jwks())


# The authorization ------------------------------------------------------------------------


def _query(request: HttpRequest) -> str:
    """The service's request: the query string the journey carries along."""
    return request.GET.urlencode()


def _here(request: HttpRequest) -> str:
    return f"{reverse('provider:authorize')}?{_query(request)}"


def _first_seen(request: HttpRequest) -> datetime.datetime:
    """When this authorization request was first seen in this browser session (a
    `prompt=login` is met by an authentication after it)."""
    key = hashlib.sha256(_query(request).encode()).hexdigest()[:24]
    seen: dict[str, str] = dict(request.session.get(FIRST_SEEN_KEY, {}))
    if key not in seen:
        now = timezone.now()
        # Only the recent ones: a journey is minutes long.
        seen = {
            each: at
            for each, at in seen.items()
            if now - datetime.datetime.fromisoformat(at) < datetime.timedelta(hours=1)
        }
        seen[key] = now.isoformat()
        request.session[FIRST_SEEN_KEY] = seen
    return datetime.datetime.fromisoformat(seen[key])


def _wanted_acr(request: HttpRequest, service: Service) -> str:
    asked = request.GET.get("acr_values", "").split()
    if ACR_HIGH in asked or service.level == ACR_HIGH:
        return ACR_HIGH
    return ACR_SUBSTANTIAL


def _error(request: HttpRequest, error: OAuth2Error) -> HttpResponse:
    """An error the service can be told of goes back to it (its redirect URI was checked);
    one that cannot (an unknown client, a redirect URI not registered) is a page here —
    never a redirect to an address nobody vouched for."""
    if getattr(error, "redirect_uri", None):
        return cast(HttpResponse, SERVER.handle_error_response(request, error))
    return render(
        request,
        "provider/error.html",
        {"error": error.error, "description": error.get_error_description()},
        status=400,
    )


def _back_with(request: HttpRequest, grant: Any, error: str, description: str) -> HttpResponse:
    redirect_uri = grant.request.payload.redirect_uri
    failure = OAuth2Error(description=description, redirect_uri=redirect_uri)
    failure.error = error
    failure.state = grant.request.payload.state
    return cast(HttpResponse, SERVER.handle_error_response(request, failure))


class _Identity:
    """Who is logged in for this service's audience, and how."""

    def __init__(self, request: ProviderRequest, service: Service):
        self.request = request
        self.service = service
        self.patient_session = None
        self.professional_session = None
        if service.audience == Audience.PROFESSIONALS:
            self.professional_session = request.professional
        else:
            self.patient_session = request.patient.session

    @property
    def patient(self) -> PatientSession:
        """The patient's session, on a path where the service is for patients and someone
        is logged in (checked before)."""
        if self.patient_session is None:
            raise PermissionDenied
        return self.patient_session

    @property
    def present(self) -> bool:
        return self.patient_session is not None or self.professional_session is not None

    @property
    def auth_time(self) -> datetime.datetime:
        if self.professional_session is not None:
            return self.professional_session.started_at
        times = [self.patient.started_at]
        proven = self.request.session.get(SECOND_FACTOR_KEY)
        if proven:
            times.append(datetime.datetime.fromisoformat(proven))
        if self.patient.strong_auth_at is not None:
            times.append(self.patient.strong_auth_at)
        return max(times)

    @property
    def acr(self) -> str:
        if self.professional_session is not None:
            strong = self.professional_session.method.startswith("oidc:")
            return ACR_HIGH if strong else ACR_SUBSTANTIAL
        return ACR_HIGH if self.patient.strong_auth_at is not None else ACR_SUBSTANTIAL

    @property
    def amr(self) -> list[str]:
        if self.professional_session is not None:
            if self.professional_session.method == "passkey":
                return ["hwk", "user", "mfa"]
            return ["mfa"]
        return list(self.patient.amr)

    def subject(self, person: InsuredPerson | None, actor: InsuredPerson | None) -> Subject:
        return Subject(
            service=self.service,
            auth_time=self.auth_time,
            acr=self.acr,
            amr=self.amr,
            person=person,
            actor=actor,
            professional=(
                self.professional_session.professional if self.professional_session else None
            ),
            patient_session_id=self.patient_session.pk if self.patient_session else None,
            professional_session_id=(
                self.professional_session.pk if self.professional_session else None
            ),
            sid=_sid(self),
        )


def _sid(identity: _Identity) -> str:
    return session_id_claim(
        identity.patient_session.pk if identity.patient_session else None,
        identity.professional_session.pk if identity.professional_session else None,
    )


def _to_login(request: HttpRequest, service: Service) -> HttpResponse:
    resume.remember(request, _here(request))
    if service.audience == Audience.PROFESSIONALS:
        return redirect(reverse("portal:login_choice") + "#professionnel")
    query = urlencode({"suivant": _here(request)})
    return redirect(f"{reverse('portal:login_choice')}?{query}")


@require_http_methods(["GET", "POST"])
def authorize(request: ProviderRequest) -> HttpResponse:
    set_issuer(request)
    ratelimit.check_and_hit("oidc.authorize", request)
    service = Service.objects.filter(
        client_id=request.GET.get("client_id", ""), is_active=True
    ).first()
    if service is None:
        return _error(request, InvalidRequestError("The client is not registered."))
    identity = _Identity(request, service)
    _honour_ui_locales(request)
    prompts = request.GET.get("prompt", "").split()
    try:
        grant = SERVER.get_consent_grant(request, end_user=True if identity.present else None)
    except OAuth2Error as error:
        return _error(request, error)
    asked = grant.request.payload.scope.split()
    if "openid" not in asked and not smart.asks_fhir(asked):
        return _back_with(request, grant, "invalid_scope", "The 'openid' scope is required.")
    if smart.asks_fhir(asked) and not _is_our_fhir_base(request):
        # SMART App Launch: the app names the FHIR server it wants a token for (`aud`);
        # a token is never issued for another one.
        return _back_with(
            request, grant, "invalid_request", "The 'aud' parameter must name this FHIR server."
        )

    first_seen = _first_seen(request)
    needs_login = not identity.present
    if identity.present:
        # Either is met by an authentication since the request was first seen (`max_age=0`
        # included: the journey's own step-up does not loop).
        max_age = request.GET.get("max_age", "")
        too_old = (
            max_age.isdigit()
            and timezone.now() - identity.auth_time > datetime.timedelta(seconds=int(max_age))
            and identity.auth_time < first_seen
        )
        asked_again = "login" in prompts and identity.auth_time < first_seen
        if too_old or asked_again:
            if "none" in prompts:
                return _back_with(request, grant, "login_required", "Authentication is required.")
            if identity.patient_session is not None:
                # Authenticating again within the session: the second factor, now (the
                # password was proven at the session's start).
                query = urlencode({"suivant": _here(request), "renouveler": "1"})
                return redirect(f"{reverse('patient:step_up')}?{query}")
            needs_login = True
    if needs_login:
        return _to_login(request, service)

    if _wanted_acr(request, service) == ACR_HIGH and identity.acr != ACR_HIGH:
        if "none" in prompts:
            return _back_with(
                request, grant, "interaction_required", "A stronger authentication is required."
            )
        if request.method == "POST" and request.POST.get("decision") == "refuse":
            actions.record_refusal(request, service, identity, "unmet_authentication_requirements")
            return _back_with(
                request,
                grant,
                "unmet_authentication_requirements",
                "The person did not reach the level asked for.",
            )
        return _strong_needed(request, service, identity)

    person: InsuredPerson | None = None
    actor: InsuredPerson | None = None
    if identity.patient_session is not None:
        me = identity.patient_session.account.person
        person = me
        others = list(assisted_records(me).filter(closed_at__isnull=True))
        chosen = request.POST.get("pour", "") if request.method == "POST" else ""
        if others and not chosen:
            if "none" in prompts:
                chosen = "moi"
            else:
                return _choose(request, service, me, others)
        if chosen and chosen != "moi":
            match = [record for record in others if str(record.public_id) == chosen]
            if not match:
                return _choose(request, service, me, others, status=400)
            person, actor = match[0].person, me

    subject = identity.subject(person, actor)
    scopes = claims.granted_scopes(grant.request.payload.scope, service)
    consent = actions.standing_consent(service, identity, person, actor)
    covered = consent is not None and set(scopes) <= set(consent.scopes)
    decision = request.POST.get("decision", "") if request.method == "POST" else ""
    if decision == "refuse":
        actions.record_refusal(request, service, identity, "consent_refused")
        return _back_with(request, grant, "access_denied", "The person refused.")
    if decision == "accept":
        consent = actions.give_consent(request, service, identity, person, actor, scopes)
        covered = True
    if not covered or ("consent" in prompts and decision != "accept"):
        if "none" in prompts:
            return _back_with(request, grant, "consent_required", "Consent is required.")
        return _consent(request, service, subject, scopes)

    response: HttpResponse = SERVER.create_authorization_response(
        request, grant_user=subject, grant=grant
    )
    actions.record_authorization(request, service, subject, scopes)
    return response


def _is_our_fhir_base(request: HttpRequest) -> bool:
    fhir_base = f"{set_issuer(request)}{reverse('fhir:base')}".rstrip("/")
    return request.GET.get("aud", "").rstrip("/") == fhir_base


def _honour_ui_locales(request: HttpRequest) -> None:
    """The service's `ui_locales`, for a visitor who has chosen no language here: the
    first one the platform speaks (a language chosen in the menu, or the account's, wins)."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return
    spoken = {code for code, _name in settings.LANGUAGES}
    for asked in request.GET.get("ui_locales", "").split():
        language = asked.split("-")[0].lower()
        if language in spoken:
            translation.activate(language)
            request.LANGUAGE_CODE = language
            return


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {"query": _query(request), "action": _here(request), **context}
    return render(request, template, context, status=status)


def _strong_needed(request: ProviderRequest, service: Service, identity: _Identity) -> HttpResponse:
    """The service asks for LuxTrust; the session is not at that level yet. A linked
    provider confirms the identity in a round trip; without one, the person is told how
    to link one, or goes back to the service without it."""
    providers: list[Any] = []
    if identity.patient_session is not None:
        from esante.accounts.authenticators import identity_providers

        linked = {link.provider for link in identity.patient_session.account.identity_links.all()}
        providers = [each for each in identity_providers.providers() if each.slug in linked]
        request.session[step_up_views.NEXT_KEY] = _here(request)
    return _page(
        request,
        "provider/strong_needed.html",
        {"service": service, "providers": providers, "professional": identity.professional_session},
    )


def _choose(
    request: HttpRequest,
    service: Service,
    me: InsuredPerson,
    others: list[Any],
    status: int = 200,
) -> HttpResponse:
    return _page(
        request,
        "provider/choose.html",
        {"service": service, "me": me, "others": others, "invalid": status == 400},
        status=status,
    )


def _consent(
    request: HttpRequest, service: Service, subject: Subject, scopes: list[str]
) -> HttpResponse:
    shared: list[str] = []
    for scope in scopes:
        shared.extend(text for text in claims.shared_by(scope) if text not in shared)
    return _page(
        request,
        "provider/consent.html",
        {
            "service": service,
            "shared": shared,
            "level_shared": claims.LEVEL_SHARED,
            "subject": subject,
            "pour": str(request.POST.get("pour", "")),
            # An app of the FHIR API reads the record: the page must not say it will not.
            "reads_record": smart.asks_fhir(scopes),
        },
    )


# The token, userinfo and revocation endpoints ------------------------------------------------


def _json_limited(error: ratelimit.RateLimited) -> JsonResponse:
    response = JsonResponse(
        {"error": "invalid_request", "error_description": "Too many requests."}, status=429
    )
    response["Retry-After"] = str(error.retry_after)
    return response


def _counted(action: str, request: HttpRequest, response: HttpResponse, key: str) -> HttpResponse:
    if response.status_code >= 400:
        ratelimit.hit(action, request, key)
    for name, value in NO_STORE.items():
        response[name] = value
    return response


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    set_issuer(request)
    client_id = request.POST.get("client_id", "") or _basic_client_id(request)
    try:
        ratelimit.check("oidc.token.failed", request, client_id)
    except ratelimit.RateLimited as error:
        return _json_limited(error)
    response: HttpResponse = SERVER.create_token_response(request)
    return _counted("oidc.token.failed", request, response, client_id)


def _basic_client_id(request: HttpRequest) -> str:
    import base64
    import binascii

    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return ""
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.split(":", 1)[0]


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    """The claims of the token's scopes (Authlib's UserInfoEndpoint reads Flask's request;
    Django's ResourceProtector checks the token here)."""
    base = set_issuer(request)
    try:
        ratelimit.check("oidc.bearer.failed", request)
    except ratelimit.RateLimited as error:
        return _json_limited(error)
    try:
        token = PROTECTOR.acquire_token(request, ["openid"])
        if not consent_stands(token.row):
            raise InvalidTokenError()
    except OAuth2Error as error:
        response: HttpResponse = return_error_response(error)
    else:
        subject = token.get_user()
        response = JsonResponse(dict(claims.user_info(subject, token.get_scope(), issuer_url=base)))
    return _counted("oidc.bearer.failed", request, response, "")


@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    set_issuer(request)
    client_id = request.POST.get("client_id", "") or _basic_client_id(request)
    try:
        ratelimit.check("oidc.token.failed", request, client_id)
    except ratelimit.RateLimited as error:
        return _json_limited(error)
    response: HttpResponse = SERVER.create_endpoint_response("revocation", request)
    return _counted("oidc.token.failed", request, response, client_id)


# Logout -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def end_session(request: ProviderRequest) -> HttpResponse:
    """RP-initiated logout: a service sends the person here to log out of the platform.
    With a valid `id_token_hint`, done at once; without one, the person confirms (a page
    and a button), so that a link elsewhere cannot log anybody out."""
    set_issuer(request)
    try:
        ended = logout.validate_end_session(request)
    except OAuth2Error as error:
        return _error(request, error)
    logged_in = request.patient.session is not None or request.professional is not None
    confirmed = request.method == "POST" and request.POST.get("confirm") == "1"
    if logged_in and ended.needs_confirmation and not confirmed:
        return render(
            request,
            "provider/end_session.html",
            {"service": ended.client.service if ended.client else None, "query": _query(request)},
        )
    if logged_in:
        logout.log_out_of_platform(request)
    if ended.redirect_uri:
        return redirect(ended.redirect_uri)
    messages.success(request, _("Vous êtes déconnecté de la plateforme eSanté."))
    return redirect("portal:home")


# A service's logo, from the platform itself (no third-party origin in the pages' CSP).


@require_GET
def logo(request: HttpRequest, client_id: str) -> HttpResponse:
    service = get_object_or_404(Service, client_id=client_id, is_active=True)
    if not service.logo:
        return HttpResponse(status=404)
    response = HttpResponse(bytes(service.logo), content_type="image/png")
    return response
