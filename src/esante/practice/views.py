"""*Connexion* → *PROFESSIONNEL*: a health professional logs in through an identity
provider that vouches for their national code (settings.ESANTE_OIDC_PROVIDERS entries
with a `professional_code_claim`), and lands on *Espace professionnel*.

The provider's checks are the patients' (esante.accounts.authenticators.identity_providers:
PKCE, state, nonce, signature, acr and max_age); then the code must name an active
professional of the register. Whatever fails — the provider refused, cancelled or could
not be verified, the claim is missing, the code unknown, the professional inactive — the
answer is one message that does not say which (the audit row does:
`professional.login.failed` with the reason), and the trips back are rate-limited per IP
as the patients' are. There is no password path for professionals.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from esante import client_address, ratelimit, resume
from esante.accounts.authenticators import identity_providers
from esante.audit import security_log
from esante.keyed_hash import keyed_hash
from esante.practice import sessions
from esante.practice.sessions import ProfessionalRequest
from esante.professionals.models import Professional
from esante.records.access import professional_emergencies, professional_records

PENDING_KEY = "esante.practice.oidc"
# The kinds of keyed hash under which what opens no session is audited.
SUBJECT_HASH_KIND = "professional-oidc-subject"
CODE_HASH_KIND = "professional-code"

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def professional_required(view: View) -> View:
    """Only for a logged-in professional; anyone else goes to *Connexion* → PROFESSIONNEL
    (a patient or a staff member too: theirs are other identities)."""

    @wraps(view)
    def wrapper(request: ProfessionalRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.professional is None:
            messages.info(request, _("Connectez-vous comme professionnel de santé."))
            return redirect(_login_url())
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


def _login_url() -> str:
    return reverse("portal:login_choice") + "#professionnel"


def _provider(slug: str) -> identity_providers.Provider:
    provider = next(
        (each for each in identity_providers.professional_providers() if each.slug == slug), None
    )
    if provider is None:
        raise Http404
    return provider


def _refused(request: HttpRequest) -> HttpResponse:
    messages.error(
        request,
        _(
            "La connexion professionnelle n'a pas abouti. Réessayez avec le moyen "
            "d'identification lié à votre code de professionnel de santé ; si cela se "
            "reproduit, contactez le helpdesk."
        ),
    )
    return redirect(_login_url())


def _audit_refusal(
    request: HttpRequest, provider: identity_providers.Provider, reason: str, **details: Any
) -> None:
    sessions.record_refused_login(
        f"oidc:{provider.slug}", reason, ip_address=client_address.of(request), **details
    )


@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
    provider = _provider(slug)
    ratelimit.check_and_hit("oidc.start", request)
    request.session[PENDING_KEY] = provider.slug
    callback_url = request.build_absolute_uri(reverse("practice:oidc_callback", args=[slug]))
    try:
        return identity_providers.redirect_to_provider(request, provider, callback_url)
    except identity_providers.ProviderError as error:
        _provider_failed(request, provider, error)
        return _refused(request)


def _provider_failed(
    request: HttpRequest,
    provider: identity_providers.Provider,
    error: identity_providers.ProviderError,
) -> None:
    """As for patients: audited, and a security log line with the underlying error when
    the provider could not be reached or its answer verified (not a cancel)."""
    if error.reason != "cancelled":
        cause = error.__cause__
        _security_log(
            request,
            provider=provider.slug,
            reason=error.reason,
            error=f"{type(cause).__name__}: {cause}"[:500] if cause is not None else "",
        )
    _audit_refusal(request, provider, error.reason)


def _security_log(request: HttpRequest, **fields: str) -> None:
    security_log.warn(request, "oidc.provider_failed", purpose="professional", **fields)


@require_GET
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    provider = _provider(slug)
    if request.session.pop(PENDING_KEY, None) != provider.slug:
        security_log.warn(
            request, "oidc.unexpected_callback", provider=provider.slug, purpose="professional"
        )
        _audit_refusal(request, provider, "unexpected_callback")
        return _refused(request)
    ratelimit.check_and_hit("oidc.callback", request)
    try:
        identity = identity_providers.identity_from_callback(request, provider)
    except identity_providers.ProviderError as error:
        _provider_failed(request, provider, error)
        return _refused(request)
    subject_hash = keyed_hash(SUBJECT_HASH_KIND, f"{provider.slug}:{identity.subject}")
    if not identity.professional_code:
        _audit_refusal(request, provider, "missing_claim", subject_hash=subject_hash)
        return _refused(request)
    professional = Professional.objects.filter(national_code=identity.professional_code).first()
    if professional is None:
        _audit_refusal(
            request,
            provider,
            "unknown_code",
            subject_hash=subject_hash,
            code_hash=keyed_hash(CODE_HASH_KIND, identity.professional_code),
        )
        return _refused(request)
    if not professional.is_active:
        _audit_refusal(request, provider, "inactive", national_code=professional.national_code)
        return _refused(request)
    sessions.log_in(
        request,
        professional,
        method=f"oidc:{provider.slug}",
        acr=identity.acr,
        amr=identity.amr,
    )
    return redirect(resume.destination(request, reverse("practice:home")))


@professional_required
def home(request: ProfessionalRequest) -> HttpResponse:
    """*Espace professionnel*: who is logged in, their patients' records (the current
    care relationships), their passkeys and their session."""
    session = request.professional
    if session is None:  # professional_required sent everyone else away
        raise PermissionDenied
    professional = session.professional
    return render(
        request,
        "practice/home.html",
        {
            "professional": professional,
            "profession": professional.get_profession_display(),
            "session": session,
            "relationships": professional_records(professional),
            "emergencies": professional_emergencies(professional),
            "passkeys": professional.passkeys.all(),
            "passkeys_fresh": sessions.may_register_passkey(session),
            "idle_minutes": settings.ESANTE_PROFESSIONAL_IDLE_MINUTES,
            "max_hours": settings.ESANTE_PROFESSIONAL_MAX_HOURS,
        },
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    sessions.log_out(request)
    messages.success(request, _("Vous êtes déconnecté. À bientôt !"))
    return redirect("portal:home")
