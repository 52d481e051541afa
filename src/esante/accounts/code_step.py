"""The code step of every flow: the page that asks for a one-time code and checks it.

Activation step 3, login, *Mon compte* (password, channel), *Confirmez votre identité*
and *Mot de passe oublié* each call `code_step` with what is theirs (their page, whose
template includes accounts/includes/code_step.html; the key their wrong codes count
under; what a right code does); the step does the rest, the same way for all:
*Renvoyer le code* → the form → the try counted (otp.failed) → the code checked in the
transaction of what it authorizes → the refusal said, or the try given back.

*Mot de passe oublié* reads the same whether or not the matricule has an account
(`discreet`): the page names nothing of the code, refusals speak of a code received,
*Renvoyer le code* says nothing when it is too soon, the decoy (DecoyVerification) stands
in for a code without an account, and the answers take at least a floor of time
(`taking_at_least`, tests/accounts/test_enumeration.py).

The flow's code is kept in the flow's state by the functions below only (`flow_code`,
`keep_code` and their kin).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from esante import ratelimit
from esante.accounts.authenticators.one_time_codes import (
    CodeVerification,
    DecoyCode,
    DecoyVerification,
    Outcome,
    ResendTooSoon,
    Verification,
)
from esante.accounts.forms import OneTimeCodeForm
from esante.accounts.models import Account, CodeChannel, CodePurpose
from esante.client_address import ClientRequest
from esante.flows import Flow, FlowState
from esante.registry.models import InsuredPerson

# The flow's code: one sent, or (*Mot de passe oublié* without an account) the decoy.
FlowCode = CodeVerification | DecoyVerification
# The flow's code page: its context and status → the response.
Page = Callable[[dict[str, Any], int], HttpResponse]


# The flow's code in the flow's state.


class CodeData(Protocol):
    """The state of a flow with a code step: the code last sent (its row's id)."""

    otp_id: int | None


class DiscreetCodeData(CodeData, Protocol):
    """*Mot de passe oublié*'s state: the matricule, and the decoy without an account."""

    matricule: str
    decoy: DecoyCode | None


Data = TypeVar("Data", bound=CodeData)
DiscreetData = TypeVar("DiscreetData", bound=DiscreetCodeData)


def flow_code(state: FlowState[Data]) -> CodeVerification | None:
    """The code sent in this flow, never another flow's (a code typed in another
    browser)."""
    return CodeVerification.find(state.data.otp_id, state.flow_id)


def flow_decoy(state: FlowState[DiscreetData]) -> DecoyVerification:
    """The decoy of *Mot de passe oublié* for the flow's matricule."""
    return DecoyVerification.from_data(state.data.matricule, state.data.decoy)


def keep_code(state: FlowState[Data], verification: FlowCode) -> bool:
    """`verification` becomes the flow's code; whether that changed the flow's state (a
    decoy's tries are kept there, a code's in its row). The caller saves the state."""
    if isinstance(verification, DecoyVerification):
        data = cast(DiscreetCodeData, state.data)  # a decoy is only ever the recovery's
        changed = data.decoy != verification.as_data()
        data.decoy = verification.as_data()
    else:
        changed = state.data.otp_id != verification.code.pk
        state.data.otp_id = verification.code.pk
    return changed


def forget_code(state: FlowState[Data]) -> None:
    """The flow has no code any more: the step before sends a new one."""
    state.data.otp_id = None


def send_code(
    request: HttpRequest,
    state: FlowState[Data],
    purpose: CodePurpose,
    *,
    person: InsuredPerson,
    channel: CodeChannel,
    destination: str,
    language: str | None = None,
    new_flow: bool = False,
) -> None:
    """A fresh code for the flow, replacing any earlier one. Raises RateLimited past the
    limits of sending (verification.count_code_sent). The caller saves the state.

    `language`: the account's, when the caller holds it. `new_flow`: the caller started
    the flow in this request (`Flow.start`): it has no earlier code to replace."""
    keep_code(
        state,
        CodeVerification.send(
            request,
            purpose=purpose,
            flow_id=state.flow_id,
            person=person,
            channel=channel,
            destination=destination,
            language=language,
            new_flow=new_flow,
        ),
    )


def send_code_to(
    request: HttpRequest,
    state: FlowState[Data],
    purpose: CodePurpose,
    account: Account,
    *,
    new_flow: bool = False,
) -> None:
    """A fresh code to where the account's codes go, in its language (see send_code)."""
    send_code(
        request,
        state,
        purpose,
        person=account.person,
        channel=CodeChannel(account.code_channel),
        destination=account.code_destination,
        language=account.language,
        new_flow=new_flow,
    )


def send_decoy(request: HttpRequest, state: FlowState[DiscreetData]) -> None:
    """*Mot de passe oublié* without an account: a send counted as for a code, and a
    decoy's clock and tries started."""
    keep_code(state, DecoyVerification.send(request, matricule=state.data.matricule))


# The step.


def code_page(request: HttpRequest, template: str, **extra: Any) -> Page:
    """The code page rendered from `template`, with `extra` in its context."""
    return lambda context, status: render(request, template, {**context, **extra}, status=status)


def code_step(
    request: ClientRequest,
    flow: Flow[Data],
    state: FlowState[Data],
    verification: FlowCode,
    *,
    page: Page,
    failures_key: str,
    succeeded: Callable[[], HttpResponse],
    verify: Callable[[str], Verification | HttpResponse] | None = None,
    refused: Callable[[str], None] | None = None,
    allow_recovery: bool = True,
    discreet: bool = False,
    answer_floor: float = 0.0,
) -> HttpResponse:
    """One request to the flow's code step: *Renvoyer le code*, the page, or the code
    typed back, checked.

    - `page(context, status)`: the flow's code page.
    - `failures_key`: whose wrong codes these are, for the rate limit (otp.failed).
    - `verify(typed)`: the check, by default `verification.verify`. It may answer with a
      response when the step cannot go on (the activation's letter was used meanwhile):
      the try then counts for nothing.
    - `succeeded()`: what a right code authorizes, and the answer: in the check's
      transaction, so that a failure in it gives the code back.
    - `refused(reason)`: told of each code refused (the form's "malformed", or the
      outcome), for the step-up's audit.
    - `allow_recovery=False`: the form refuses recovery codes (the step-up).
    - `discreet`, `answer_floor`: *Mot de passe oublié* (see the module's docstring)."""
    if request.method == "POST" and "resend" in request.POST:
        with taking_at_least(answer_floor):
            _resend(request, flow, state, verification, discreet=discreet)
        return redirect(request.path)
    form = OneTimeCodeForm(
        request.POST if request.method == "POST" else None,
        # "any": the same form whether the account uses an app, SMS, e-mail — or is none.
        channel="any" if discreet else verification.channel,
        allow_recovery=allow_recovery,
    )
    context: dict[str, Any] = {
        "form": form,
        "action": request.path,
        "otp_minutes": settings.ESANTE_OTP_MINUTES,
        "discreet": discreet,
    }
    if not discreet:
        context["verification"] = verification
    if not form.is_valid():
        if request.method != "POST":
            return page(context, 200)
        if refused is not None:
            refused("malformed")
        return page(context, 400)
    typed = form.cleaned_data["code"]
    # A wrong code costs an account rows and an audit event, the decoy a session write.
    with taking_at_least(answer_floor):
        # Counted before the check, so that codes sent at once see each other.
        attempt = ratelimit.reserve("otp.failed", request, key=failures_key)
        with transaction.atomic():
            checked: Verification | HttpResponse = (
                verify(typed)
                if verify
                else verification.verify(typed, ip_address=request.client_ip)
            )
            if isinstance(checked, Verification) and checked.ok:
                checked = succeeded()
        if isinstance(checked, HttpResponse):  # a right code's answer, or no check at all
            attempt.release()
            return checked
        # The decoy's tries, kept in the flow's state: a wrong code is no activity (a
        # code's count is kept in its row, and the flow idles out alike).
        if keep_code(state, verification):
            flow.save(request, state, activity=False)
    if refused is not None:
        refused(checked.outcome.value)
    form.add_error("code", refusal(checked, app=verification.is_app and not discreet))
    return page(context, 400)


def _resend(
    request: HttpRequest,
    flow: Flow[Data],
    state: FlowState[Data],
    verification: FlowCode,
    *,
    discreet: bool,
) -> None:
    """*Renvoyer le code*: a fresh code replaces the flow's, or a word on when it may
    (none on a discreet page)."""
    try:
        fresh = verification.resend(request)
    except ResendTooSoon as too_soon:
        if not discreet:
            messages.warning(
                request,
                ngettext(
                    "Vous pourrez demander un nouveau code dans %(seconds)d seconde.",
                    "Vous pourrez demander un nouveau code dans %(seconds)d secondes.",
                    too_soon.seconds,
                )
                % {"seconds": too_soon.seconds},
            )
        return
    keep_code(state, fresh)
    flow.save(request, state)


@contextmanager
def taking_at_least(seconds: float) -> Iterator[None]:
    """Hold an answer to a floor of `seconds`, longer than any of its answers takes: it
    must not tell by its time what it found (an account, or none)."""
    deadline = time.perf_counter() + seconds
    try:
        yield
    finally:  # a refusal (a rate limit) takes the same time as an answer
        time.sleep(max(0.0, deadline - time.perf_counter()))


# The refusals.

REFUSALS = {
    Outcome.MALFORMED: gettext_lazy("Le code reçu compte 6 chiffres : vérifiez votre saisie."),
    Outcome.EXHAUSTED: gettext_lazy(
        "Trop d'essais erronés : ce code ne fonctionne plus. Demandez un nouveau code avec "
        "« Renvoyer le code »."
    ),
    Outcome.EXPIRED: gettext_lazy(
        "Ce code a expiré. Demandez un nouveau code avec « Renvoyer le code »."
    ),
    Outcome.USED: gettext_lazy(
        "Ce code a déjà servi ou a été remplacé par un code plus récent : saisissez le dernier "
        "code reçu."
    ),
}


# With the authenticator app nothing is sent: the way out is « Recommencer », and a code
# is shown, not received.
APP_REFUSALS = {
    Outcome.MALFORMED: gettext_lazy(
        "Le code de l'application compte 6 chiffres, un code de secours 10 caractères."
    ),
    Outcome.EXHAUSTED: gettext_lazy(
        "Trop d'essais erronés. Cliquez sur « Recommencer », puis saisissez le code que votre "
        "application affiche à ce moment-là."
    ),
    Outcome.EXPIRED: gettext_lazy(
        "Cette demande de code a expiré. Cliquez sur « Recommencer », puis saisissez le code "
        "que votre application affiche."
    ),
    Outcome.USED: gettext_lazy(
        "Ce code a déjà servi : attendez que votre application en affiche un nouveau (toutes "
        "les 30 secondes), puis saisissez-le."
    ),
}


def refusal(result: Verification, *, app: bool = False) -> str:
    """Why a typed code was refused, for the code field's error (`app`: the code comes
    from the authenticator app)."""
    if result.outcome is Outcome.LOCKED:
        minutes = max(1, -(-result.retry_after // 60))
        return ngettext(
            "Trop de codes erronés à la suite : par sécurité, aucun code n'est accepté "
            "pendant %(minutes)d minute. Réessayez ensuite.",
            "Trop de codes erronés à la suite : par sécurité, aucun code n'est accepté "
            "pendant %(minutes)d minutes. Réessayez ensuite.",
            minutes,
        ) % {"minutes": minutes}
    if result.outcome is Outcome.RECOVERY_CODE_REFUSED:
        return _(
            "Votre mot de passe a été réinitialisé avec un code de secours : un code de "
            "secours ne peut pas remplacer aussi l'application. Saisissez le code affiché par "
            "votre application d'authentification, ou connectez-vous avec une clé d'accès ou "
            "un fournisseur d'identité associé."
        )
    if result.outcome is Outcome.WRONG and app:
        return ngettext(
            "Ce code est incorrect. Vérifiez l'heure de votre téléphone et saisissez le code "
            "affiché à l'instant. Il vous reste %(count)d essai.",
            "Ce code est incorrect. Vérifiez l'heure de votre téléphone et saisissez le code "
            "affiché à l'instant. Il vous reste %(count)d essais.",
            result.remaining_attempts,
        ) % {"count": result.remaining_attempts}
    if app:
        return str(APP_REFUSALS[result.outcome])
    if result.outcome is Outcome.WRONG:
        return ngettext(
            "Ce code est incorrect. Il vous reste %(count)d essai avant de devoir demander "
            "un nouveau code.",
            "Ce code est incorrect. Il vous reste %(count)d essais avant de devoir demander "
            "un nouveau code.",
            result.remaining_attempts,
        ) % {"count": result.remaining_attempts}
    return str(REFUSALS[result.outcome])
