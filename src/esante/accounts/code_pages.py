"""What every page that asks for a one-time code shares: the refusal messages, and
*Renvoyer le code*. Used by activation, login, Mon compte and password recovery."""

from __future__ import annotations

from typing import Protocol, TypeVar

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from esante.accounts.verification import CodeVerification, Outcome, ResendTooSoon, Verification
from esante.flows import Flow, FlowState

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


class SendsCodes(Protocol):
    """The data of a flow that sends one-time codes: the last code sent."""

    otp_id: int | None


CodeFlowData = TypeVar("CodeFlowData", bound=SendsCodes)


def resend(
    request: HttpRequest,
    flow: Flow[CodeFlowData],
    state: FlowState[CodeFlowData],
    verification: CodeVerification,
) -> None:
    """*Renvoyer le code*: a fresh code replaces the flow's, or a word on when it may."""
    try:
        fresh = verification.resend(request)
    except ResendTooSoon as too_soon:
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
    state.data.otp_id = fresh.code.pk
    flow.save(request, state)
