"""The superviseur's pages: the audit log, filtered and paginated; the statistics — the
activation funnel, code delivery failures, account locks per day — as server-side SVG
charts with their numbers in tables, and as CSV; the report of the emergency accesses to
DSPs, each reviewed as justified or not (never what the access opened)."""

from __future__ import annotations

import csv
import datetime
import json
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from esante import client_address
from esante.audit.models import AuditEvent, EventType
from esante.helpdesk import stats
from esante.helpdesk.auth import StaffRequest, staff_required
from esante.records.care import review_emergency_access
from esante.records.models import EmergencyAccess
from esante.registry.models import InsuredPerson

AUDIT_PAGE_SIZE = 50

# Forms.


class IsoDateInput(forms.DateInput):
    """The browser's date picker, which sends and expects YYYY-MM-DD."""

    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


DATE_ERRORS = {"invalid": gettext_lazy("Saisissez une date valide (AAAA-MM-JJ).")}
# Dates the journal and the statistics can mean; beyond, a day before or after would not
# even be a date (year 1 or 9999).
EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)


def within_bounds(day: datetime.date | None) -> datetime.date | None:
    if day is not None and not EARLIEST <= day <= LATEST:
        raise forms.ValidationError(gettext_lazy("Saisissez une date entre 1900 et 2100."))
    return day


class PeriodForm(forms.Form):
    """From one day to another, both included: by default the last 30 days."""

    du = forms.DateField(
        label=gettext_lazy("Du"), required=False, widget=IsoDateInput(), error_messages=DATE_ERRORS
    )
    au = forms.DateField(
        label=gettext_lazy("Au (inclus)"),
        required=False,
        widget=IsoDateInput(),
        error_messages=DATE_ERRORS,
    )

    max_days: int | None = stats.MAX_DAYS

    def clean_du(self) -> datetime.date | None:
        return within_bounds(self.cleaned_data.get("du"))

    def clean_au(self) -> datetime.date | None:
        return within_bounds(self.cleaned_data.get("au"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and start > end:
            raise forms.ValidationError(
                gettext_lazy("La date de début doit précéder la date de fin.")
            )
        if self.max_days and start and end and (end - start).days + 1 > self.max_days:
            raise forms.ValidationError(
                gettext_lazy("La période ne peut dépasser %(days)d jours."),
                params={"days": self.max_days},
            )
        return cleaned

    def period(self) -> stats.Period:
        """The period asked for (valid form), completed by the default one."""
        default = stats.default_period()
        start = self.cleaned_data.get("du")
        end = self.cleaned_data.get("au")
        if start and not end:
            end = min(start + datetime.timedelta(days=stats.DEFAULT_DAYS - 1), default.end)
            end = max(end, start)
        elif end and not start:
            start = end - datetime.timedelta(days=stats.DEFAULT_DAYS - 1)
        return stats.Period(start or default.start, end or default.end)


class AuditFilterForm(PeriodForm):
    personne = forms.CharField(
        label=gettext_lazy("Personne"),
        required=False,
        max_length=32,
        help_text=gettext_lazy("Matricule (11 ou 13 chiffres) ou identifiant eSanté (10)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    membre = forms.CharField(
        label=gettext_lazy("Membre du personnel"),
        required=False,
        max_length=150,
        help_text=gettext_lazy("Son identifiant de connexion exact."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    type = forms.ChoiceField(
        label=gettext_lazy("Type d'événement"),
        required=False,
        choices=[("", gettext_lazy("Tous")), *EventType.choices],
        error_messages={"invalid_choice": gettext_lazy("Choisissez un type de la liste.")},
    )
    max_days = None
    field_order = ["personne", "membre", "type", "du", "au"]

    def clean_personne(self) -> InsuredPerson | None:
        typed = self.cleaned_data["personne"]
        if not typed.strip():
            return None
        value = "".join(char for char in typed if char.isalnum())
        if not value.isdigit() or len(value) not in (10, 11, 13):
            raise forms.ValidationError(
                _("Saisissez 11 ou 13 chiffres (matricule) ou 10 chiffres (identifiant eSanté).")
            )
        person = InsuredPerson.objects.filter(Q(matricule=value) | Q(esante_id=value)).first()
        if person is None:
            raise forms.ValidationError(_("Aucune personne du registre ne porte ce numéro."))
        return person

    def clean_membre(self) -> User | None:
        username = self.cleaned_data["membre"].strip()
        if not username:
            return None
        member = get_user_model().objects.filter(username=username).first()
        if member is None:
            raise forms.ValidationError(_("Aucun membre du personnel ne porte cet identifiant."))
        return member

    def events(self) -> QuerySet[AuditEvent]:
        """The events matching the (valid) filters, newest first."""
        events = AuditEvent.objects.select_related("person").order_by("-at", "-id")
        data = self.cleaned_data
        if data.get("personne"):
            events = events.filter(person=data["personne"])
        if data.get("membre"):
            events = events.filter(actor=f"staff:{data['membre'].pk}")
        if data.get("type"):
            events = events.filter(event_type=data["type"])
        if data.get("du"):
            events = events.filter(at__gte=stats.Period(data["du"], data["du"]).bounds[0])
        if data.get("au"):
            events = events.filter(at__lt=stats.Period(data["au"], data["au"]).bounds[1])
        return events


# The audit log.

SECRET_WORDS = ("password", "secret", "token", "code_hash")


def _detail_value(key: str, value: Any) -> str:
    lowered = key.lower()
    if lowered == "code" or any(word in lowered for word in SECRET_WORDS):
        return "•••"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _actor_labels(events: list[AuditEvent]) -> dict[str, str]:
    """Readable actors: a staff member's username, "Titulaire (<eSanté id>)"."""
    staff_ids: set[int] = set()
    person_ids: set[int] = set()
    for event in events:
        kind, _sep, ident = event.actor.partition(":")
        if ident.isdigit():
            if kind == "staff":
                staff_ids.add(int(ident))
            elif kind == "person":
                person_ids.add(int(ident))
    usernames = dict(
        get_user_model().objects.filter(pk__in=staff_ids).values_list("pk", "username")
    )
    esante_ids = dict(
        InsuredPerson.objects.filter(pk__in=person_ids).values_list("pk", "esante_id")
    )
    labels: dict[str, str] = {}
    for event in events:
        actor = event.actor
        kind, _sep, ident = actor.partition(":")
        if kind == "staff" and ident.isdigit() and int(ident) in usernames:
            labels[actor] = usernames[int(ident)]
        elif kind == "person" and ident.isdigit() and int(ident) in esante_ids:
            labels[actor] = _("Titulaire (%(id)s)") % {"id": esante_ids[int(ident)]}
        elif actor == "anonymous":
            labels[actor] = _("Anonyme")
        elif actor == "system":
            labels[actor] = _("Système")
        elif kind == "command" and ident:
            labels[actor] = _("Commande « %(name)s »") % {"name": ident}
        else:
            labels[actor] = actor
    return labels


@require_GET
@staff_required("helpdesk.view_audit_log")
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "helpdesk/audit_log.html", {"form": form, "page": None}, status=400)
    page = Paginator(form.events(), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    events = list(page.object_list)
    actors = _actor_labels(events)
    rows = [
        {
            "event": event,
            "actor": actors[event.actor],
            "details": [
                (str(key), _detail_value(str(key), value))
                for key, value in sorted((event.details or {}).items())
            ]
            if isinstance(event.details, dict)
            else [("", _detail_value("", event.details))],
        }
        for event in events
    ]
    filtered = any(form.cleaned_data.get(name) for name in form.fields)
    return render(
        request,
        "helpdesk/audit_log.html",
        {"form": form, "page": page, "rows": rows, "filtered": filtered},
    )


# The statistics.


def _period_or_errors(request: HttpRequest) -> tuple[PeriodForm, stats.Period | None]:
    form = PeriodForm(request.GET)
    return form, form.period() if form.is_valid() else None


@require_GET
@staff_required("helpdesk.view_statistics")
def statistics(request: HttpRequest) -> HttpResponse:
    form, period = _period_or_errors(request)
    if period is None:
        return render(
            request, "helpdesk/statistics.html", {"form": form, "period": None}, status=400
        )
    funnel = stats.funnel(period)
    failures = stats.delivery_failures(period)
    locks = stats.column_chart(stats.locks_per_day(period))
    shown = PeriodForm(initial={"du": period.start, "au": period.end})
    return render(
        request,
        "helpdesk/statistics.html",
        {
            "form": shown,
            "period": period,
            "funnel": stats.bar_chart(funnel, percent_of_first=True),
            "funnel_printed": funnel[0].key == "courriers_imprimes",
            "failures": stats.bar_chart(failures),
            "failure_total": sum(figure.value for figure in failures),
            "locks": locks,
        },
    )


CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = str(value)
    return f"'{text}" if text.startswith(CSV_DANGEROUS) else text


@require_GET
@staff_required("helpdesk.view_statistics")
def statistics_csv(request: HttpRequest) -> HttpResponse:
    form, period = _period_or_errors(request)
    if period is None:
        errors = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    rows: list[tuple[str, str, object]] = [
        ("entonnoir", figure.key, figure.value) for figure in stats.funnel(period)
    ]
    rows += [
        ("echecs_envoi", figure.key, figure.value) for figure in stats.delivery_failures(period)
    ]
    rows += [("blocages", day.isoformat(), count) for day, count in stats.locks_per_day(period)]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"statistiques-esante-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    writer.writerow(["section", "cle", "valeur"])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return response


# The emergency accesses (bris de glace): who opened which holder's DSP, when and why —
# never a document's title or content, never the record's address.

EMERGENCY_PAGE_SIZE = 25
REVIEW = "helpdesk.review_emergency_access"
TO_REVIEW, JUSTIFIED, UNJUSTIFIED = "a_examiner", "justifies", "non_justifies"


class EmergencyFilterForm(forms.Form):
    etat = forms.ChoiceField(
        label=gettext_lazy("État de l'examen"),
        required=False,
        choices=[
            ("", gettext_lazy("Tous")),
            (TO_REVIEW, gettext_lazy("À examiner")),
            (JUSTIFIED, gettext_lazy("Justifiés")),
            (UNJUSTIFIED, gettext_lazy("Non justifiés")),
        ],
        error_messages={"invalid_choice": gettext_lazy("Choisissez un état de la liste.")},
    )

    def accesses(self) -> QuerySet[EmergencyAccess]:
        """The accesses in the (valid) state asked for, newest first. Of the record, only
        its holder's eSanté identifier is read."""
        accesses = EmergencyAccess.objects.select_related(
            "professional", "record__person", "reviewed_by"
        ).only(
            "public_id",
            "reason",
            "started_at",
            "ends_at",
            "reviewed_at",
            "justified",
            "review_note",
            "professional__first_name",
            "professional__last_name",
            "professional__profession",
            "professional__national_code",
            "record__person__esante_id",
            "reviewed_by__username",
        )
        state = self.cleaned_data.get("etat")
        if state == TO_REVIEW:
            accesses = accesses.filter(reviewed_at__isnull=True)
        elif state == JUSTIFIED:
            accesses = accesses.filter(justified=True)
        elif state == UNJUSTIFIED:
            accesses = accesses.filter(justified=False)
        return accesses.order_by("-started_at", "-pk")


class EmergencyReviewForm(forms.Form):
    verdict = forms.ChoiceField(
        label=gettext_lazy("Verdict"),
        choices=[
            ("justifie", gettext_lazy("Justifié")),
            ("non_justifie", gettext_lazy("Non justifié")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choisissez : justifié ou non justifié."),
            "invalid_choice": gettext_lazy("Choisissez : justifié ou non justifié."),
        },
    )
    commentaire = forms.CharField(
        label=gettext_lazy("Commentaire"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": gettext_lazy("Le commentaire ne peut dépasser 500 caractères.")
        },
    )


def _review_form(access: EmergencyAccess, data: Any = None) -> EmergencyReviewForm:
    """A row's form: its fields named after the access (one form per row), the last
    verdict as the initial choice."""
    initial: dict[str, str] = {"commentaire": access.review_note}
    if access.justified is not None:
        initial["verdict"] = "justifie" if access.justified else "non_justifie"
    return EmergencyReviewForm(data, prefix=f"u{access.public_id.hex}", initial=initial)


def _emergency_page(
    request: HttpRequest,
    filters: EmergencyFilterForm,
    *,
    failed: tuple[EmergencyAccess, EmergencyReviewForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    page: Page[EmergencyAccess] = Paginator(filters.accesses(), EMERGENCY_PAGE_SIZE).get_page(
        request.GET.get("page") or request.POST.get("page")
    )
    rows = []
    for access in page.object_list:
        if failed is not None and failed[0].pk == access.pk:
            form = failed[1]  # what was typed, with its errors
        else:
            form = _review_form(access)
        rows.append({"access": access, "form": form})
    if failed is not None and all(row["access"].pk != failed[0].pk for row in rows):
        rows.insert(0, {"access": failed[0], "form": failed[1]})
    return render(
        request,
        "helpdesk/emergency_report.html",
        {
            "form": filters,
            "page": page,
            "rows": rows,
            "state": filters.cleaned_data.get("etat", ""),
        },
        status=status,
    )


@require_GET
@staff_required(REVIEW)
def emergency_report(request: HttpRequest) -> HttpResponse:
    filters = EmergencyFilterForm(request.GET)
    if not filters.is_valid():
        return render(
            request,
            "helpdesk/emergency_report.html",
            {"form": filters, "page": None},
            status=400,
        )
    return _emergency_page(request, filters)


@require_POST
@staff_required(REVIEW)
def emergency_review(request: StaffRequest, public_id: uuid.UUID) -> HttpResponse:
    access = get_object_or_404(
        EmergencyAccess.objects.select_related("professional", "record__person", "reviewed_by"),
        public_id=public_id,
    )
    # The list's filter and page come back with the form, to return to them.
    filters = EmergencyFilterForm({"etat": request.POST.get("etat", "")})
    if not filters.is_valid():
        filters = EmergencyFilterForm({})
        filters.is_valid()
    form = _review_form(access, request.POST)
    if not form.is_valid():
        return _emergency_page(request, filters, failed=(access, form), status=400)
    justified = form.cleaned_data["verdict"] == "justifie"
    review_emergency_access(
        access,
        staff=request.user,
        justified=justified,
        note=form.cleaned_data["commentaire"].strip(),
        ip_address=client_address.of(request),
    )
    messages.success(
        request,
        _("Accès en urgence examiné : justifié.")
        if justified
        else _("Accès en urgence examiné : non justifié."),
    )
    page = request.POST.get("page", "")
    back = {"etat": filters.cleaned_data["etat"], "page": page if page.isdigit() else ""}
    query = urlencode({key: value for key, value in back.items() if value})
    return redirect(reverse("helpdesk:emergency_report") + (f"?{query}" if query else ""))
