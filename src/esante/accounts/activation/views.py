"""The activation wizard, as the guide's pages 3 to 10: parse → one action → respond.

Stages (esante.flows): code (step 1), password (2), contact and otp (3),
authenticators (4), done (5). The account is created when the one-time code of step 3
is typed back; until then nothing is written but the counters of wrong codes.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante import ratelimit
from esante.accounts import actions
from esante.accounts.activation import cgu
from esante.accounts.authenticators import identity_providers
from esante.accounts.authenticators.one_time_codes import Verification
from esante.accounts.child_wording import child_wording
from esante.accounts.code_step import code_step, flow_code, forget_code, send_code, taking_at_least
from esante.accounts.forms import (
    ActivationCodeForm,
    CguForm,
    ContactForm,
    NewLetterForm,
    PasswordForm,
)
from esante.accounts.login import recovery_views
from esante.accounts.models import Account, CodeChannel, CodePurpose, IdentityLink, Passkey
from esante.audit import security_log
from esante.client_address import ClientRequest
from esante.flows import Flow, FlowState, stage_view
from esante.portal.captcha import typed_values, wants_new_captcha
from esante.registry.letters import CodeOutcome, check_letter_code, request_new_letter
from esante.registry.models import ActivationLetter, InsuredPerson


@dataclass
class ProviderIdentity:
    """Activation without a letter: who the identity provider said the person is."""

    provider: str  # its slug
    name: str
    subject: str
    acr: str
    amr: list[str]


@dataclass
class ActivationData:
    cgu_version: str = ""
    cgu_accepted_at: str = ""  # ISO 8601
    # Step 1: whom the activation is for, and how that was shown (a letter or a provider).
    person_id: int | None = None
    matricule: str = ""
    letter_id: int | None = None
    identity: ProviderIdentity | None = None
    reactivation: bool = False
    # Steps 2 and 3; the password only as its hash (Argon2id).
    password_hash: str = ""
    channel: str = CodeChannel.SMS
    destination: str = ""
    otp_id: int | None = None
    # From the account's creation on.
    account_id: int | None = None
    recovery_codes: list[str] = field(default_factory=list)  # shown once at step 4

    @property
    def verified(self) -> bool:
        """Step 1 done: a letter's code, or a provider, named the person."""
        return self.letter_id is not None or self.identity is not None


ACTIVATION = Flow(
    name="activation",
    data_type=ActivationData,
    stages=("code", "password", "contact", "otp", "authenticators", "done"),
    url_names={
        "code": "activation:code",
        "password": "activation:password",
        "contact": "activation:contact",
        "otp": "activation:otp",
        "authenticators": "activation:authenticators",
        "done": "activation:done",
    },
    idle_timeout=datetime.timedelta(minutes=30),
    entry_url="portal:activation",
    entry_message=gettext_lazy(
        "Pour activer votre compte, acceptez d'abord les Conditions Générales d'Utilisation "
        "en bas de cette page."
    ),
    expired_message=gettext_lazy(
        "Après 30 minutes sans activité, l'activation reprend à l'étape 1 par sécurité. "
        "Votre code d'activation reste valable : saisissez-le à nouveau."
    ),
    kept_on_expiry=("cgu_version", "cgu_accepted_at"),
    closes_earlier_stages="authenticators",
    # Another person's letter (or identity) at step 1: steps 2 and 3 were the previous
    # person's, and are done again; nothing chosen for them carries over.
    subject_key="person_id",
    subject_stages_from="password",
    subject_data=("password_hash", "channel", "destination", "otp_id"),
)

# The guide's five steps; stages contact and otp are both step 3.
STEPS = (
    (1, gettext_lazy("Code d'activation")),
    (2, gettext_lazy("Mot de passe")),
    (3, gettext_lazy("Sécurisation de votre compte")),
    (4, gettext_lazy("Autres moyens d'authentification")),
    (5, gettext_lazy("Confirmation")),
)
STEP_OF_STAGE = {"code": 1, "password": 2, "contact": 3, "otp": 3, "authenticators": 4, "done": 5}


def wizard(
    request: HttpRequest,
    state: FlowState[ActivationData],
    stage: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    template: str = "",
) -> HttpResponse:
    """A page of the wizard at `stage`: the template of that name unless one is given."""
    person = _person(state)
    # A parent activating a minor's account: the pages name the child, not « votre compte ».
    child = (
        child_wording(person, matricule=state.data.matricule)
        if person is not None and person.is_minor
        else None
    )
    steps: tuple[tuple[int, str | Promise], ...] = STEPS
    if child is not None:
        steps = tuple(
            (number, child["security"] if number == 3 else name) for number, name in STEPS
        )
    return render(
        request,
        f"accounts/activation/{template or stage}.html",
        {
            "steps": steps,
            "current_step": STEP_OF_STAGE[stage],
            "person": person,
            "is_minor": child is not None,
            "child": child,
            "reactivation": state.data.reactivation,
            "otp_minutes": settings.ESANTE_OTP_MINUTES,
            **context,
        },
        status=status,
    )


def _person(state: FlowState[ActivationData]) -> InsuredPerson | None:
    person_id = state.data.person_id
    return InsuredPerson.objects.filter(pk=person_id).first() if person_id else None


# The activation page (portal:activation) and its CGU.


def activation_page(request: HttpRequest, form: CguForm | None = None) -> HttpResponse:
    """PATIENTS → ACTIVATION COMPTE ESANTE: prerequisites, CGU, *Activer mon compte*."""
    return render(
        request,
        "portal/activation.html",
        {"cgu_form": form or CguForm(), "cgu_sections": cgu.CGU_SECTIONS, "cgu": cgu},
        status=400 if form is not None else 200,
    )


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    form = CguForm(request.POST)
    if not form.is_valid():
        return activation_page(request, form)
    ACTIVATION.start(
        request,
        ActivationData(cgu_version=cgu.CGU_VERSION, cgu_accepted_at=timezone.now().isoformat()),
    )
    return redirect("activation:code")


@require_GET
def cgu_pdf(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(cgu.render_cgu_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="CGU-eSante-{cgu.CGU_VERSION}.pdf"'
    return response


# Step 1.

LETTER_REFUSALS = {
    CodeOutcome.EXPIRED: gettext_lazy(
        "Ce code d'activation a expiré. Demandez un nouveau courrier ci-dessous (réponse "
        "« Non ») ou contactez le helpdesk."
    ),
    CodeOutcome.VOIDED: gettext_lazy(
        "Ce code d'activation a été remplacé par celui d'un courrier plus récent. Utilisez le "
        "code du dernier courrier reçu, ou demandez un nouveau courrier ci-dessous."
    ),
    CodeOutcome.LOCKED: gettext_lazy(
        "Ce code d'activation est bloqué après 5 essais erronés. Demandez un nouveau courrier "
        "ci-dessous (réponse « Non ») ou contactez le helpdesk."
    ),
}
WRONG_PAIR = gettext_lazy(
    "Le matricule ou le code d'activation est incorrect. Vérifiez les deux sur le courrier "
    "de l'Agence eSanté."
)


@require_http_methods(["GET", "POST"])
@stage_view(ACTIVATION, "code")
def code(request: ClientRequest, state: FlowState[ActivationData]) -> HttpResponse:
    verified = state.data.verified
    if request.method == "POST" and "keep" in request.POST and verified:
        return ACTIVATION.advance(request, state, "password")
    form = ActivationCodeForm(request.POST if request.method == "POST" else None)
    if wants_new_captcha(request):
        form = ActivationCodeForm(initial=typed_values(form))
    context: dict[str, Any] = {
        "form": form,
        "new_letter_form": NewLetterForm(prefix=NEW_LETTER_PREFIX),
        "verified_matricule": state.data.matricule if verified else None,
        "verified_by": state.data.identity.name if state.data.identity else "",
        "received": request.GET.get("recu", "oui") != "non",
        "providers": [each for each in identity_providers.providers() if each.national_id_claim],
    }
    if not form.is_valid():  # an unbound form (a GET, a new captcha) is not valid either
        security_log.form_refused(request, form)
        return wizard(request, state, "code", context, status=_form_status(request))

    matricule = form.cleaned_data["matricule"]
    checking_since = time.perf_counter()
    # Counted before the check, so that pairs sent at once see each other; given back
    # unless the pair was wrong.
    attempt = ratelimit.reserve("activation.code_failed", request, key=matricule)
    checked = check_letter_code(
        matricule,
        form.cleaned_data["code"],
        actor="anonymous",
        ip_address=request.client_ip,
    )
    if not checked.wrong_pair:
        attempt.release()
    if checked.ok and checked.letter is not None:
        allowed_from = actions.reactivation_allowed_from(checked.letter)
        if allowed_from is not None and allowed_from > timezone.now():
            return _letter_waits(request, state, context, checked.letter, allowed_from)
        person = checked.letter.person
        actions.record_letter_code_accepted(checked.letter, ip_address=request.client_ip)
        ACTIVATION.set_subject(state, person.pk)
        state.data.identity = None
        state.data.letter_id = checked.letter.pk
        state.data.matricule = matricule
        state.data.reactivation = _has_account(person)
        return ACTIVATION.advance(request, state, "password")

    if checked.wrong_pair:
        # A wrong code for a letter still usable is counted against it (a write) where an
        # unknown matricule, or an activated one, has nothing to count: the three answers
        # are held to the recovery's floor, so that their time tells nothing either.
        time.sleep(max(0.0, checking_since + recovery_views.ANSWER_SECONDS - time.perf_counter()))
        form.add_error(None, WRONG_PAIR)
    elif checked.outcome is CodeOutcome.USED:
        context["already_activated"] = True
        form.add_error(None, _("Ce compte eSanté est déjà activé."))
    else:
        form.add_error(None, LETTER_REFUSALS[checked.outcome])
        context["received"] = True
        context["offer_new_letter"] = True
    return wizard(request, state, "code", context, status=400)


def _letter_waits(
    request: ClientRequest,
    state: FlowState[ActivationData],
    context: dict[str, Any],
    letter: ActivationLetter,
    allowed_from: datetime.datetime,
) -> HttpResponse:
    """The right code of a letter that would take over an account with a working second
    factor before the end of the wait: said to whoever typed it (nobody else learns
    anything: the code is the letter's), with the day it will work."""
    actions.record_reactivation_waiting(
        letter, allowed_from=allowed_from, ip_address=request.client_ip
    )
    local = timezone.localtime(allowed_from)
    context["form"].add_error(
        None,
        _(
            "Ce courrier réactive un compte eSanté déjà activé. Par sécurité, son titulaire "
            "a été prévenu et peut annuler la demande : le code de ce courrier ne "
            "fonctionnera qu'à partir du %(date)s à %(time)s. Revenez à cette date. Si vous "
            "avez perdu votre téléphone, le helpdesk peut réinitialiser le moyen de "
            "réception de vos codes : le courrier fonctionne alors sans attendre."
        )
        % {"date": date_format(local, "DATE_FORMAT"), "time": date_format(local, "TIME_FORMAT")},
    )
    context["received"] = True
    return wizard(request, state, "code", context, status=400)


def _has_account(person: InsuredPerson) -> bool:
    return Account.objects.filter(person=person).exists()


def _form_status(request: HttpRequest) -> int:
    """400 for a refused submission, so that it shows in logs and to tests; 200 to show
    a form (GET, or a new captcha asked for)."""
    refused = request.method == "POST" and not wants_new_captcha(request)
    return 400 if refused else 200


NEW_LETTER_PREFIX = "courrier"  # the two forms of step 1 share a page: distinct ids


@require_http_methods(["GET", "POST"])
@stage_view(ACTIVATION, "code")
def new_letter(request: ClientRequest, state: FlowState[ActivationData]) -> HttpResponse:
    """Step 1, answer "Non": a new letter by post. The answer never says whether the
    matricule exists, has an account or was asked for already."""
    form = NewLetterForm(
        request.POST if request.method == "POST" else None, prefix=NEW_LETTER_PREFIX
    )
    if wants_new_captcha(request):
        form = NewLetterForm(initial=typed_values(form), prefix=NEW_LETTER_PREFIX)
    context: dict[str, Any] = {
        "form": ActivationCodeForm(),
        "new_letter_form": form,
        "received": False,
    }
    if not form.is_valid():
        security_log.form_refused(request, form)
        return wizard(request, state, "code", context, status=_form_status(request))
    matricule = form.cleaned_data["matricule"]
    # Held to the recovery's floor: a request for an activated account also tells its
    # holder (a message queued), which an unknown matricule does not; the time must not say.
    with taking_at_least(recovery_views.ANSWER_SECONDS):
        ratelimit.check_and_hit("activation.new_letter", request, key=matricule)
        request_new_letter(matricule, ip_address=request.client_ip)
    return wizard(
        request,
        state,
        "code",
        {"matricule": matricule, "wait_days": settings.ESANTE_LETTER_REACTIVATION_WAIT_DAYS},
        template="letter_requested",
    )


# Step 2.


@require_http_methods(["GET", "POST"])
@stage_view(ACTIVATION, "password")
def password(request: HttpRequest, state: FlowState[ActivationData]) -> HttpResponse:
    if request.method == "POST" and "back" in request.POST:
        return ACTIVATION.go_back(request, state, "code")
    person = _person(state)
    if person is None:
        return ACTIVATION.go_back(request, state, "code")
    has_password = bool(state.data.password_hash)
    form = PasswordForm(
        request.POST if request.method == "POST" else None,
        person=person,
        has_password=has_password,
        for_child=person.is_minor,
    )
    if request.method == "GET" or not form.is_valid():
        return wizard(
            request,
            state,
            "password",
            {"form": form, "has_password": has_password},
            status=_form_status(request),
        )
    if not form.keeps_password:
        # Hashed now (Argon2id): the plain password never reaches the session store.
        state.data.password_hash = make_password(form.cleaned_data["password1"])
    return ACTIVATION.advance(request, state, "contact")


# Step 3.


@require_http_methods(["GET", "POST"])
@stage_view(ACTIVATION, "contact")
def contact(request: HttpRequest, state: FlowState[ActivationData]) -> HttpResponse:
    if request.method == "POST" and "back" in request.POST:
        return ACTIVATION.go_back(request, state, "password")
    channel = state.data.channel
    destination = state.data.destination
    initial = {"channel": channel}
    if channel != CodeChannel.TOTP:
        initial["mobile" if channel == CodeChannel.SMS else "email"] = destination
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        app_secret=destination if channel == CodeChannel.TOTP else "",
    )
    if request.method == "GET" or not form.is_valid():
        security_log.form_refused(request, form)
        return wizard(
            request,
            state,
            "contact",
            {"form": form},
            status=_form_status(request),
        )
    person = _person(state)
    if person is None:
        return ACTIVATION.go_back(request, state, "code")
    send_code(
        request,
        state,
        CodePurpose.ACTIVATION,
        person=person,
        channel=CodeChannel(form.cleaned_data["channel"]),
        destination=form.cleaned_data["destination"],
    )
    state.data.channel = form.cleaned_data["channel"]
    state.data.destination = form.cleaned_data["destination"]
    return ACTIVATION.advance(request, state, "otp")


@require_http_methods(["GET", "POST"])
@stage_view(ACTIVATION, "otp")
def otp(request: ClientRequest, state: FlowState[ActivationData]) -> HttpResponse:
    verification = flow_code(state)
    if verification is None or (request.method == "POST" and "back" in request.POST):
        return ACTIVATION.go_back(request, state, "contact")

    def activate(typed_code: str) -> Verification | HttpResponse:
        identity = state.data.identity
        try:
            activation = actions.activate_account(
                letter_id=state.data.letter_id,
                person_id=state.data.person_id,
                identity=(
                    actions.VerifiedIdentity(
                        provider=identity.provider,
                        subject=identity.subject,
                        acr=identity.acr,
                        amr=tuple(identity.amr),
                    )
                    if identity
                    else None
                ),
                password_hash=state.data.password_hash,
                verification=verification,
                typed_code=typed_code,
                cgu_version=state.data.cgu_version,
                cgu_accepted_at=datetime.datetime.fromisoformat(state.data.cgu_accepted_at),
                ip_address=request.client_ip,
                language=get_language(),
            )
        except actions.LetterNoLongerUsable:
            state.data.letter_id = None
            forget_code(state)
            messages.error(
                request,
                _(
                    "Votre code d'activation n'est plus valable : il vient de servir à activer "
                    "ce compte, ou un courrier plus récent l'a remplacé. Si le compte est "
                    "activé, connectez-vous ; sinon, saisissez le code du dernier courrier."
                ),
            )
            return ACTIVATION.go_back(request, state, "code")
        if activation.account is not None:
            state.data.account_id = activation.account.pk
            state.data.password_hash = ""  # no longer needed anywhere
            if activation.recovery_codes:
                state.data.recovery_codes = list(activation.recovery_codes)
        return activation.verification

    return code_step(
        request,
        ACTIVATION,
        state,
        verification,
        page=lambda context, status: wizard(request, state, "otp", context, status=status),
        # Its own count: wrong codes at activation never use up the login's (per person).
        failures_key=f"activation:{state.data.person_id}",
        verify=activate,
        succeeded=lambda: ACTIVATION.advance(request, state, "authenticators"),
    )


# Steps 4 and 5.


@require_http_methods(["GET", "POST"])
@stage_view(ACTIVATION, "authenticators")
def authenticators(request: HttpRequest, state: FlowState[ActivationData]) -> HttpResponse:
    """Step 4: optionally link a provider (its *Connexion* posts to the provider's start,
    esante.accounts.login.provider_views); *Etape suivante* goes on."""
    if request.method == "POST":
        return ACTIVATION.advance(request, state, "done")
    if state.data.account_id is None:  # not created yet: step 3 first
        return ACTIVATION.go_back(request, state, "otp")
    linked = set(
        IdentityLink.objects.filter(account_id=state.data.account_id).values_list(
            "provider", flat=True
        )
    )
    # The authenticator app's recovery codes: shown here once, then forgotten.
    recovery_codes, state.data.recovery_codes = state.data.recovery_codes, []
    ACTIVATION.save(request, state)
    return wizard(
        request,
        state,
        "authenticators",
        {
            "providers": [(each, each.slug in linked) for each in identity_providers.providers()],
            "passkeys": Passkey.objects.filter(account_id=state.data.account_id),
            "recovery_codes": recovery_codes,
        },
    )


@require_GET
@stage_view(ACTIVATION, "done")
def done(request: HttpRequest, state: FlowState[ActivationData]) -> HttpResponse:
    return wizard(request, state, "done", {})
