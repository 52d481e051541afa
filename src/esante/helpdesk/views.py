"""The helpdesk back-office: staff login (password, then the app's code), lookup of a
person by exact matricule or eSanté identifier, the person's page with the agent's
actions (each with a reason, audited), and — for the print side only — the letter
batches, whose PDFs hold activation codes in clear (esante.helpdesk.roles)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.core.files.storage import storages
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from esante import ratelimit
from esante.accounts.actions import has_working_second_factor
from esante.accounts.authenticators.contacts import mask
from esante.accounts.authenticators.identity_providers import provider as oidc_provider
from esante.accounts.models import Account, CodeChannel
from esante.audit import security_log
from esante.flows import FlowState, stage_view
from esante.helpdesk import actions
from esante.helpdesk.auth import (
    ANY_STAFF,
    PRINT,
    STAFF_LOGIN,
    StaffLoginData,
    StaffRequest,
    check_code,
    check_password_step,
    log_staff_in,
    log_staff_out,
    staff_of,
    staff_required,
)
from esante.helpdesk.forms import (
    LookupForm,
    NoteForm,
    ReasonForm,
    StaffCodeForm,
    StaffLoginForm,
    StaffPasswordForm,
)
from esante.helpdesk.models import CallNote
from esante.helpdesk.roles import is_print_operator
from esante.registry.letters import LetterRunInProgress
from esante.registry.models import InsuredPerson, LetterBatch


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("suivant") or request.GET.get("suivant") or ""
    if candidate.startswith(("/helpdesk/", "/admin/")) and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}
    ):
        return candidate
    return reverse("helpdesk:home")


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    if staff_of(request) is not None:
        return redirect("helpdesk:home")
    form = StaffLoginForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form, "next": _next_url(request)}
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "helpdesk/login.html", context, status=status)
    user = check_password_step(
        request, form.cleaned_data["username"], form.cleaned_data["password"]
    )
    if user is None:
        context["error"] = _("L'identifiant ou le mot de passe est incorrect.")
        return render(request, "helpdesk/login.html", context, status=400)
    request.session.cycle_key()
    STAFF_LOGIN.start(request, StaffLoginData(user_id=user.pk))
    return redirect(f"{reverse('helpdesk:login_code')}?{urlencode({'suivant': context['next']})}")


@require_http_methods(["GET", "POST"])
@stage_view(STAFF_LOGIN, "code")
def login_code(request: HttpRequest, state: FlowState[StaffLoginData]) -> HttpResponse:
    user = get_user_model().objects.get(pk=state.data.user_id)
    form = StaffCodeForm(request.POST if request.method == "POST" else None)
    next_url = _next_url(request)
    context = {"form": form, "next": next_url}
    if not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "helpdesk/login_code.html", context, status=status)
    if not check_code(request, user, form.cleaned_data["code"]):  # limited there
        form.add_error("code", _("Ce code est incorrect ou a déjà servi."))
        return render(request, "helpdesk/login_code.html", context, status=400)
    STAFF_LOGIN.end(request)
    log_staff_in(request, user)
    return redirect(next_url)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    log_staff_out(request, reason="logout")
    messages.success(request, _("Vous êtes déconnecté du helpdesk."))
    return redirect("helpdesk:login")


@require_GET
@staff_required(ANY_STAFF)
def home(request: StaffRequest) -> HttpResponse:
    """Find a person: exact matricule or eSanté identifier, nothing approximate. The
    print side looks nobody up: its home is the letter batches."""
    if is_print_operator(request.user):
        return redirect("helpdesk:batches")
    form = LookupForm(request.GET if "q" in request.GET else None)
    if form.is_valid():
        value = form.cleaned_data["q"]
        person = InsuredPerson.objects.filter(Q(matricule=value) | Q(esante_id=value)).first()
        if person is not None:
            return redirect("helpdesk:person", esante_id=person.esante_id)
        form.add_error("q", _("Aucune personne du registre ne porte ce numéro."))
    return render(
        request,
        "helpdesk/home.html",
        {"form": form, "open_requests": actions.open_requests().count()},
        status=400 if form.errors else 200,
    )


def _person(esante_id: str) -> InsuredPerson:
    return get_object_or_404(InsuredPerson, esante_id=esante_id)


def _account_state(account: Account | None) -> dict[str, Any]:
    if account is None:
        return {"label": _("Non activé"), "locked_until": None}
    if not account.code_channel:
        return {"label": _("Moyen de réception réinitialisé (réactivation par courrier)")}
    if account.locked_until and account.locked_until > timezone.now():
        return {"label": _("Bloqué"), "locked_until": account.locked_until}
    return {"label": _("Actif"), "locked_until": None}


@require_GET
@staff_required()
def person(request: StaffRequest, esante_id: str) -> HttpResponse:
    """What the agent may know: registry data, the account's state, the channel masked,
    the authenticators' names, the letters and requests — never the DSP, passwords or
    codes."""
    staff = request.user
    target = _person(esante_id)
    actions.record_lookup(target, staff=staff, ip_address=request.client_ip)
    return _render_person(request, target)


def _render_person(
    request: HttpRequest, target: InsuredPerson, *, note_form: NoteForm | None = None
) -> HttpResponse:
    """The person page; with a refused note, its form and what was typed (status 400)."""
    account = Account.objects.filter(person=target).first()
    channel = ""
    authenticators: list[str] = []
    if account is not None:
        if account.code_channel:
            channel = f"{CodeChannel(account.code_channel).label} — " + mask(
                account.code_channel, account.code_destination
            )
        for link in account.identity_links.all():
            configured = oidc_provider(link.provider)
            authenticators.append(configured.name if configured else link.provider)
        authenticators += [
            _("Clé d'accès « %(name)s »") % {"name": key.name} for key in account.passkeys.all()
        ]
    return render(
        request,
        "helpdesk/person.html",
        {
            "person": target,
            "account": account,
            "state": _account_state(account),
            "channel": channel,
            "authenticators": authenticators,
            "sessions": account.sessions.filter(ended_at__isnull=True).count() if account else 0,
            "letters": actions.letters_of(target),
            "requests": target.letter_requests.order_by("-requested_at"),
            "notes": CallNote.objects.filter(person=target).select_related("staff")[:20],
            "reason_form": ReasonForm(),
            "note_form": note_form or NoteForm(),
            "now": timezone.now(),
        },
        status=400 if note_form is not None else 200,
    )


ACTIONS = {
    "courrier": "reissue_letter",
    "debloquer": "unlock",
    "sessions": "end_sessions",
    "canal": "reset_channel",
}


@require_POST
@staff_required()
def person_action(request: StaffRequest, esante_id: str, action: str) -> HttpResponse:
    staff = request.user
    target = _person(esante_id)
    if action not in ACTIONS:
        raise Http404
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["reason"]))
        return redirect("helpdesk:person", esante_id=esante_id)
    reason = form.cleaned_data["reason"]
    account = Account.objects.filter(person=target).first()
    if action in ("courrier", "canal") and target.date_of_death is not None:
        # No letter goes to a deceased person: the request would stay open for ever.
        messages.error(request, _("Cette personne est décédée : aucun courrier ne lui est envoyé."))
    elif action == "courrier":
        actions.reissue_letter(target, staff=staff, reason=reason)
        messages.success(
            request,
            _("L'ancien courrier ne fonctionne plus ; un nouveau partira avec le prochain lot."),
        )
        if account is not None and has_working_second_factor(account):
            days = settings.ESANTE_LETTER_REACTIVATION_WAIT_DAYS
            messages.info(
                request,
                ngettext(
                    "Le titulaire du compte en est prévenu sur son moyen de réception : le "
                    "nouveau courrier ne pourra réactiver le compte qu'après %(days)d jour, "
                    "délai pendant lequel il peut l'annuler.",
                    "Le titulaire du compte en est prévenu sur son moyen de réception : le "
                    "nouveau courrier ne pourra réactiver le compte qu'après %(days)d jours, "
                    "délai pendant lequel il peut l'annuler.",
                    days,
                )
                % {"days": days},
            )
    elif account is None:
        messages.error(request, _("Cette personne n'a pas de compte activé."))
    elif action == "debloquer":
        actions.unlock_account(account, staff=staff, reason=reason)
        messages.success(request, _("Le compte est débloqué."))
    elif action == "sessions":
        ended = actions.end_all_sessions(account, staff=staff, reason=reason)
        messages.success(request, _("Sessions déconnectées : %(count)d.") % {"count": ended})
    else:
        actions.reset_code_channel(account, staff=staff, reason=reason)
        messages.success(
            request,
            _(
                "Le moyen de réception est réinitialisé, les clés d'accès et les fournisseurs "
                "d'identité associés sont retirés : un nouveau courrier partira avec le "
                "prochain lot, avec lequel la personne réactivera son compte."
            ),
        )
        messages.info(
            request,
            _(
                "Sans moyen de réception, le compte n'a plus de second facteur : le nouveau "
                "courrier le réactivera dès son arrivée, sans délai d'attente."
            ),
        )
    return redirect("helpdesk:person", esante_id=esante_id)


@require_POST
@staff_required()
def person_note(request: StaffRequest, esante_id: str) -> HttpResponse:
    target = _person(esante_id)
    form = NoteForm(request.POST)
    if not form.is_valid():  # said on the field, what was typed kept
        return _render_person(request, target, note_form=form)
    actions.add_note(target, form.cleaned_data["text"], staff=request.user)
    messages.success(request, _("La note est enregistrée."))
    return redirect("helpdesk:person", esante_id=esante_id)


@require_GET
@staff_required(PRINT)
def batches(request: StaffRequest) -> HttpResponse:
    """The print side's page: how many letters wait, the batches, their files. No names:
    the print side needs none beyond the PDF's addresses."""
    return render(
        request,
        "helpdesk/batches.html",
        {
            "request_count": actions.open_requests().count(),
            "batches": LetterBatch.objects.order_by("-created_at")[:50],
            "batch_days": settings.ESANTE_LETTER_BATCH_DAYS,
        },
    )


@require_POST
@staff_required(PRINT)
def batch_generate(request: StaffRequest) -> HttpResponse:
    try:
        batch = actions.generate_batch(staff=request.user)
    except LetterRunInProgress as busy:  # another agent's click, or the nightly command
        messages.error(request, str(busy))
        return redirect("helpdesk:batches")
    if batch is None:
        messages.info(request, _("Aucun courrier à imprimer."))
    else:
        messages.success(
            request,
            ngettext(
                "Lot %(batch)s généré : %(count)d courrier.",
                "Lot %(batch)s généré : %(count)d courriers.",
                batch.letter_count,
            )
            % {"batch": batch.pk, "count": batch.letter_count},
        )
    return redirect("helpdesk:batches")


@require_POST
@staff_required(PRINT)
def batch_posted(request: StaffRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(LetterBatch, pk=batch_id)
    actions.mark_posted(batch, staff=request.user)  # deletes its PDF
    messages.success(
        request,
        _("Lot %(batch)s marqué comme posté ; son PDF est supprimé.") % {"batch": batch.pk},
    )
    return redirect("helpdesk:batches")


@require_GET
@staff_required(PRINT)
def batch_pdf(request: StaffRequest, batch_id: int) -> HttpResponseBase:
    """The batch PDF holds codes in clear: downloaded by the print side only, audited."""
    batch = get_object_or_404(LetterBatch, pk=batch_id)
    storage = storages["letters"]
    if batch.pdf_deleted_at or not batch.pdf_name or not storage.exists(batch.pdf_name):
        messages.error(
            request,
            _(
                "Le PDF du lot %(batch)s n'existe plus : il est supprimé dès que le lot est "
                "marqué comme posté, et au plus tard %(days)d jours après sa génération."
            )
            % {"batch": batch.pk, "days": settings.ESANTE_LETTER_BATCH_DAYS},
        )
        return redirect("helpdesk:batches")
    actions.record_download(batch, staff=request.user)
    response = FileResponse(
        storage.open(batch.pdf_name, "rb"),
        as_attachment=True,
        filename=f"lot-{batch.pk}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@staff_required(ANY_STAFF)
def password(request: StaffRequest) -> HttpResponse:
    """*Mon mot de passe*: the current password, then a new one under the staff rules
    (AUTH_PASSWORD_VALIDATORS). The staff member's other sessions end with it (Django's
    session hash); this one gets a new id; and their passkeys are removed (they may have
    been planted by whoever knew the old password), to be registered again."""
    staff = request.user
    form = StaffPasswordForm(staff, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        attempt = ratelimit.reserve("staff.login", request, key=staff.get_username().lower())
        if form.is_valid():
            attempt.release()
            removed = actions.change_staff_password(
                staff, form.cleaned_data["new_password1"], ip_address=request.client_ip
            )
            update_session_auth_hash(request, staff)
            if removed:
                messages.success(
                    request,
                    ngettext(
                        "Votre mot de passe est changé ; vos autres sessions sont fermées et "
                        "votre clé d'accès est supprimée. Vous pouvez en enregistrer une "
                        "nouvelle dans « Mes clés d'accès ».",
                        "Votre mot de passe est changé ; vos autres sessions sont fermées et "
                        "vos %(count)d clés d'accès sont supprimées. Vous pouvez en enregistrer "
                        "de nouvelles dans « Mes clés d'accès ».",
                        removed,
                    )
                    % {"count": removed},
                )
            else:
                messages.success(
                    request, _("Votre mot de passe est changé ; vos autres sessions sont fermées.")
                )
            return redirect("helpdesk:home")
        if "old_password" not in form.errors:  # only a wrong current password counts
            attempt.release()
        security_log.form_refused(request, form)
    status = 400 if request.method == "POST" else 200
    return render(request, "helpdesk/password.html", {"form": form}, status=status)
