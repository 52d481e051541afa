"""Login, linking and activation through an external identity provider (LuxTrust…).

A POST to `start` names the provider and the purpose; the browser goes to the provider and
comes back to `callback`, which checks everything (esante.accounts.oidc) and then does
what the purpose says:
- login: a complete login when the subject opens an account (no extra one-time code);
- link: from *Mon compte*, link the provider to the logged-in account;
- activation_link: the guide's step 4 (*Associer un produit LuxTrust*, *Connexion*);
- activation: activation without a letter, when the provider gives the national
  identification number (then steps 2 and 3 as usual).
Provider down, user cancelling, unknown subject: a clear message and back to where the
person came from.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from esante import ratelimit
from esante.accounts import oidc
from esante.accounts.identity import LinkRefused, account_for, link_identity
from esante.accounts.login import log_in, remember_device
from esante.accounts.models import Account
from esante.accounts.views import ACTIVATION
from esante.registry.models import InsuredPerson

SESSION_KEY = "esante.oidc"
BACK = {
    "login": "portal:login_choice",
    "link": "patient:account",
    "activation_link": "activation:authenticators",
    "activation": "activation:code",
}


def _provider(slug: str) -> oidc.Provider:
    provider = oidc.provider(slug)
    if provider is None:
        raise Http404
    return provider


@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
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
        return oidc.redirect_to_provider(request, provider, callback_url)
    except oidc.ProviderError as error:
        messages.error(request, error.message)
        return redirect(BACK[purpose])


def _context_refusal(request: HttpRequest, purpose: str) -> HttpResponse | None:
    """Each purpose starts from its own place: a login to link, the wizard's step."""
    if purpose == "link" and request.patient.account is None:  # type: ignore[attr-defined]
        messages.info(request, _("Connectez-vous pour accéder à cette page."))
        return redirect("patient:login")
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
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    provider = _provider(slug)
    pending = request.session.pop(SESSION_KEY, None)
    if not pending or pending.get("provider") != provider.slug:
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
        identity = oidc.identity_from_callback(request, provider)
    except oidc.ProviderError as error:
        messages.error(request, error.message)
        return redirect(BACK[purpose])
    if purpose == "login":
        return _log_in(request, identity)
    if purpose == "activation":
        return _activate(request, identity)
    return _link(request, identity, purpose)


def _log_in(request: HttpRequest, identity: oidc.Identity) -> HttpResponse:
    account = account_for(identity)
    if account is None:
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
    log_in(
        request,
        account,
        method=f"oidc:{identity.provider.slug}",
        acr=identity.acr,
        amr=identity.amr,
    )
    response = redirect("patient:services")
    remember_device(request, response, account)
    return response


def _link(request: HttpRequest, identity: oidc.Identity, purpose: str) -> HttpResponse:
    if purpose == "activation_link":
        state, _expired = ACTIVATION.load(request)
        account_id = state.data.get("account_id") if state else None
        account = (
            Account.objects.select_related("person").filter(pk=account_id).first()
            if isinstance(account_id, int)
            else None
        )
    else:
        account = request.patient.account  # type: ignore[attr-defined]
    if account is None:
        messages.info(request, ACTIVATION.entry_message)
        return redirect(BACK[purpose])
    try:
        link_identity(account, identity, ip_address=ratelimit.client_ip(request) or None)
    except LinkRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("%(provider)s est associé à votre compte eSanté.")
            % {"provider": identity.provider.name},
        )
    return redirect(BACK[purpose])


def _activate(request: HttpRequest, identity: oidc.Identity) -> HttpResponse:
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
    if state.data.get("person_id") != person.pk:
        for key in ("password_hash", "channel", "destination", "otp_id"):
            state.data.pop(key, None)
    state.data.pop("letter_id", None)
    state.data.update(
        person_id=person.pk,
        matricule=person.matricule,
        reactivation=Account.objects.filter(person=person).exists(),
        identity={
            "provider": identity.provider.slug,
            "name": identity.provider.name,
            "subject": identity.subject,
            "acr": identity.acr,
            "amr": identity.amr,
        },
    )
    return ACTIVATION.advance(request, state, "password")
