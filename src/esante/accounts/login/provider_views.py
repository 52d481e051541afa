"""Login, linking and activation through an external identity provider (LuxTrust…).

A POST to `start` names the provider and the purpose; the browser goes to the provider and
comes back to `callback`, which checks everything
(esante.accounts.authenticators.identity_providers) and then does what the purpose says:
- login: a complete login when the subject opens an account (no extra one-time code);
- link: from *Mon compte*, link the provider to the logged-in account;
- activation_link: the guide's step 4 (*Associer un produit LuxTrust*, *Connexion*);
- activation: activation without a letter, when the provider gives the national
  identification number (then steps 2 and 3 as usual);
- stepup: *Confirmez votre identité* (esante.accounts.my_account.step_up_views), with a provider
  already linked to the logged-in account, before a factor changes.
Provider down, user cancelling, unknown subject: a clear message and back to where the
person came from. Each failure is audited (`login.failed` for a login,
`authenticator.step_up_failed` for a step-up, otherwise `authenticator.identity_refused`,
with the reason; ASVS 5.0 16.3.1), and a provider that
cannot be reached or whose answer cannot be verified — TLS errors included — is also a
security log line with the underlying error (16.3.4).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from esante import ratelimit, resume
from esante.accounts.activation.views import ACTIVATION, ProviderIdentity
from esante.accounts.authenticators import identity_providers
from esante.accounts.authenticators.identity_links import (
    LinkRefused,
    account_for,
    link_identity,
    record_provider_refusal,
)
from esante.accounts.models import Account
from esante.accounts.my_account import step_up_views
from esante.accounts.patient_sessions import (
    PatientRequest,
    log_in,
    mark_strong_authentication,
    provider_method,
    remember_device,
    settle_language,
)
from esante.accounts.reauth import second_factor_fresh, step_up_url
from esante.audit import security_log
from esante.keyed_hash import keyed_hash
from esante.registry.models import InsuredPerson

SESSION_KEY = "esante.oidc"
# The kind of keyed hash under which a provider's subject that opens no account is audited.
SUBJECT_HASH_KIND = "oidc-subject"
BACK = {
    "login": "portal:login_choice",
    "link": "patient:account",
    "activation_link": "activation:authenticators",
    "activation": "activation:code",
    "stepup": "patient:step_up",
}
# The purposes done from within a patient's session, for the account logged in.
LOGGED_IN_PURPOSES = ("link", "stepup")


def _provider(slug: str) -> identity_providers.Provider:
    provider = identity_providers.provider(slug)
    if provider is None:
        raise Http404
    return provider


@require_POST
def start(request: PatientRequest, slug: str) -> HttpResponse:
    provider = _provider(slug)
    purpose = request.POST.get("but", "")
    if purpose not in BACK:
        purpose = "login"
    refusal = _context_refusal(request, purpose)
    if refusal is not None:
        return refusal
    ratelimit.check_and_hit("oidc.start", request)
    request.session[SESSION_KEY] = {"purpose": purpose, "provider": provider.slug}
    callback_url = request.build_absolute_uri(reverse("patient:oidc_callback", args=[slug]))
    try:
        return identity_providers.redirect_to_provider(request, provider, callback_url)
    except identity_providers.ProviderError as error:
        _record_failure(request, provider, purpose, error)
        messages.error(request, error.message)
        return redirect(BACK[purpose])


def _context_refusal(request: PatientRequest, purpose: str) -> HttpResponse | None:
    """Each purpose starts from its own place: a login to link, the wizard's step."""
    logged_in = request.patient.account is not None
    if purpose in LOGGED_IN_PURPOSES and not logged_in:
        messages.info(request, _("Connectez-vous pour accéder à cette page."))
        return redirect("patient:login")
    if purpose == "link" and not second_factor_fresh(request):
        # A provider linked logs in without password nor code: a fresh second factor first.
        return redirect(step_up_url(reverse("patient:account") + "#strong"))
    if purpose.startswith("activation"):
        state, _expired = ACTIVATION.load(request)
        if purpose == "activation_link":
            misplaced = state is None or ACTIVATION.current_stage(state) != "authenticators"
        else:  # before the account exists: step 1 is not closed yet
            misplaced = state is None or ACTIVATION.is_closed("code", state)
        if misplaced:
            messages.info(request, ACTIVATION.entry_message)
            return redirect(ACTIVATION.entry_url)
    return None


@require_GET
def callback(request: PatientRequest, slug: str) -> HttpResponse:
    provider = _provider(slug)
    pending = request.session.pop(SESSION_KEY, None)
    if not pending or pending.get("provider") != provider.slug:
        security_log.warn(request, "oidc.unexpected_callback", provider=provider.slug)
        messages.error(
            request,
            _(
                "Cette connexion par %(provider)s n'a pas été demandée ici, ou elle a expiré : "
                "recommencez."
            )
            % {"provider": provider.name},
        )
        return redirect("portal:login_choice")
    purpose = pending["purpose"]
    ratelimit.check_and_hit("oidc.callback", request)
    try:
        identity = identity_providers.identity_from_callback(request, provider)
    except identity_providers.ProviderError as error:
        _record_failure(request, provider, purpose, error)
        messages.error(request, error.message)
        return redirect(BACK[purpose])
    if purpose == "login":
        return _log_in(request, identity)
    if purpose == "activation":
        return _activate(request, identity)
    if purpose == "stepup":
        return _step_up(request, identity)
    return _link(request, identity, purpose)


def _record_failure(
    request: PatientRequest,
    provider: identity_providers.Provider,
    purpose: str,
    error: identity_providers.ProviderError,
) -> None:
    """A login at the provider that gave no usable identity: audited; and when the provider
    could not be reached or its answer verified (not when the person cancelled), a
    security log line with the underlying error (a TLS failure names itself there)."""
    if error.reason != "cancelled":
        cause = error.__cause__
        security_log.warn(
            request,
            "oidc.provider_failed",
            provider=provider.slug,
            purpose=purpose,
            reason=error.reason,
            error=f"{type(cause).__name__}: {cause}"[:500] if cause is not None else "",
        )
    _audit_refusal(request, provider, purpose, error.reason)


def _audit_refusal(
    request: PatientRequest,
    provider: identity_providers.Provider,
    purpose: str,
    reason: str,
    **details: str,
) -> None:
    record_provider_refusal(
        provider.slug,
        purpose=purpose,
        reason=reason,
        account=_account_for_purpose(request, purpose),
        by_account=purpose in LOGGED_IN_PURPOSES,
        ip_address=request.client_ip,
        **details,
    )


def _account_for_purpose(request: PatientRequest, purpose: str) -> Account | None:
    """The account a provider is linked to: the logged-in one from *Mon compte*, the one
    the activation wizard just created at step 4; none for a login or an activation."""
    if purpose in LOGGED_IN_PURPOSES:
        account: Account | None = request.patient.account
        return account
    if purpose == "activation_link":
        state, _expired = ACTIVATION.load(request)
        account_id = state.data.account_id if state else None
        if account_id is not None:
            return Account.objects.select_related("person").filter(pk=account_id).first()
    return None


def _log_in(request: PatientRequest, identity: identity_providers.Identity) -> HttpResponse:
    account = account_for(identity)
    if account is None:
        # The provider's subject only as a keyed hash: enough to follow it, nothing more.
        _audit_refusal(
            request,
            identity.provider,
            "login",
            "unknown_subject",
            subject_hash=keyed_hash(
                SUBJECT_HASH_KIND, f"{identity.provider.slug}:{identity.subject}"
            ),
        )
        messages.error(
            request,
            _(
                "Aucun compte eSanté n'est associé à ce compte %(provider)s. Connectez-vous avec "
                "votre matricule, votre mot de passe et un code, puis associez %(provider)s "
                "depuis « Mon compte »."
            )
            % {"provider": identity.provider.name},
        )
        return redirect("portal:login_choice")
    log_in(request, account, method=provider_method(identity.provider.slug), identity=identity)
    response = redirect(resume.destination(request, reverse("patient:services")))
    remember_device(request, response, account)
    # After the new-device notice, which goes in the language the holder had chosen.
    settle_language(request, response, account)
    return response


def _step_up(request: PatientRequest, identity: identity_providers.Identity) -> HttpResponse:
    """*Confirmez votre identité* with a provider: only a subject linked to the account
    logged in proves its second factor."""
    account: Account | None = request.patient.account
    if account is None:
        messages.info(request, _("Connectez-vous pour accéder à cette page."))
        return redirect("patient:login")
    provider = identity.provider
    if not account.identity_links.filter(provider=provider.slug, subject=identity.subject).exists():
        step_up_views.refused(request, account, provider_method(provider.slug), "other_subject")
        messages.error(
            request,
            _(
                "Ce compte %(provider)s n'est pas celui associé à votre compte eSanté : "
                "confirmez votre identité autrement."
            )
            % {"provider": provider.name},
        )
        return redirect("patient:step_up")
    step_up_views.proven(request, account, provider_method(provider.slug), acr=identity.acr)
    # The provider authenticated the account's own subject: the session is strongly
    # authenticated again (what a service asking for a recent LuxTrust login reads).
    mark_strong_authentication(request, identity)
    return redirect(step_up_views.next_url(request))


def _link(
    request: PatientRequest, identity: identity_providers.Identity, purpose: str
) -> HttpResponse:
    account = _account_for_purpose(request, purpose)
    if account is None:
        messages.info(request, ACTIVATION.entry_message)
        return redirect(BACK[purpose])
    try:
        link_identity(account, identity, ip_address=request.client_ip)
    except LinkRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("%(provider)s est associé à votre compte eSanté.")
            % {"provider": identity.provider.name},
        )
    return redirect(BACK[purpose])


def _activate(request: PatientRequest, identity: identity_providers.Identity) -> HttpResponse:
    """Activation without a letter: the provider's national identification number stands
    for the letter's matricule and code; steps 2 and 3 follow as usual."""
    state, _expired = ACTIVATION.load(request)
    if state is None:
        messages.info(request, ACTIVATION.entry_message)
        return redirect(ACTIVATION.entry_url)
    person = (
        InsuredPerson.objects.filter(
            matricule=identity.national_id, date_of_death__isnull=True
        ).first()
        if identity.national_id
        else None
    )
    if person is None:
        _audit_refusal(request, identity.provider, "activation", "unknown_national_id")
        messages.error(
            request,
            _(
                "%(provider)s ne nous a pas transmis de matricule connu du registre : "
                "l'activation sans courrier n'est pas possible. Utilisez le code de votre "
                "courrier, ou demandez-en un nouveau."
            )
            % {"provider": identity.provider.name},
        )
        return redirect("activation:code")
    ACTIVATION.set_subject(state, person.pk)
    state.data.letter_id = None
    state.data.matricule = person.matricule
    state.data.reactivation = Account.objects.filter(person=person).exists()
    state.data.identity = ProviderIdentity(
        provider=identity.provider.slug,
        name=identity.provider.name,
        subject=identity.subject,
        acr=identity.acr,
        amr=list(identity.amr),
    )
    return ACTIVATION.advance(request, state, "password")
