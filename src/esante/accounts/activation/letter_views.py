"""Cancelling a new letter for one's activated account: with the link of its notice (no
login: a GET shows what the link cancels, only a POST cancels), or logged in, from *Mes
services eSanté* and *Mon compte*. See esante.accounts.actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from esante import ratelimit
from esante.accounts import actions
from esante.accounts.middleware import patient_required
from esante.accounts.patient_sessions import PatientRequest
from esante.client_address import ClientRequest
from esante.registry.models import LetterRequest


@never_cache
@require_http_methods(["GET", "POST"])
def cancel_by_link(request: ClientRequest, token: str) -> HttpResponse:
    # Counted before the lookup, given back for a link that works: unknown and spent
    # links are what a scan would send.
    attempt = ratelimit.reserve("letter.cancel", request)
    letter_request = actions.request_for_cancel_token(token)
    if letter_request is None:
        return render(request, "accounts/letter_cancel.html", {"invalid": True}, status=404)
    attempt.release()
    if request.method == "GET":
        return render(
            request,
            "accounts/letter_cancel.html",
            {
                "letter_request": letter_request,
                "wait_ends": actions.letter_wait_ends(letter_request),
            },
        )
    cancelled = actions.cancel_letter_request(
        letter_request.pk,
        actor=f"person:{letter_request.person_id}",
        ip_address=request.client_ip,
        via="link",
    )
    if not cancelled:  # cancelled meanwhile, by the same link sent twice at once
        return render(request, "accounts/letter_cancel.html", {"invalid": True}, status=404)
    return render(request, "accounts/letter_cancel.html", {"cancelled": True})


@patient_required
@require_POST
def cancel_mine(request: PatientRequest, request_id: int) -> HttpResponse:
    account = request.patient.logged_in_account
    if not LetterRequest.objects.filter(pk=request_id, person_id=account.person_id).exists():
        raise Http404
    if actions.cancel_letter_request(
        request_id, actor=f"person:{account.person_id}", ip_address=request.client_ip, via="account"
    ):
        messages.success(
            request,
            _(
                "Le nouveau courrier d'activation est annulé : s'il arrive, son code ne "
                "fonctionnera pas."
            ),
        )
    back_to_services = request.POST.get("retour") == "services"
    return redirect("patient:services" if back_to_services else "patient:account")
