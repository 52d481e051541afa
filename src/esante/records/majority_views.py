"""The first login after majority: the holder, whose account a parent activated, chooses
their own password, confirms or replaces the code channel, and keeps or removes each
former assistant. Until this page is done, every patient page leads here."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from esante.accounts.authenticators import identity_providers
from esante.accounts.authenticators.contacts import mask
from esante.accounts.forms import PasswordForm
from esante.accounts.middleware import MAJORITY_CHANNEL_PENDING, patient_required
from esante.accounts.models import Account, IdentityLink
from esante.accounts.patient_sessions import PatientRequest
from esante.records.actions import ensure_care_record
from esante.records.majority import complete_majority_review, former_assistants


class MajorityForm(PasswordForm):
    channel = forms.ChoiceField(
        label=gettext_lazy("Moyen de réception de vos codes à usage unique"),
        choices=[
            ("keep", gettext_lazy("Je garde ce moyen : il est bien à moi.")),
            ("replace", gettext_lazy("Je le remplace par mon propre numéro ou adresse.")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choisissez de garder ou de remplacer ce moyen.")},
    )
    kept = forms.MultipleChoiceField(
        label=gettext_lazy("Vos anciens assistants DSP que vous gardez"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Les personnes non cochées n'ont plus accès à votre DSP."),
    )
    passkeys_kept = forms.MultipleChoiceField(
        label=gettext_lazy("Les clés d'accès de votre compte que vous gardez"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Une clé d'accès non cochée est supprimée : gardez seulement celles de vos "
            "propres appareils."
        ),
    )

    links_kept = forms.MultipleChoiceField(
        label=gettext_lazy("Les fournisseurs d'identité associés que vous gardez"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Un fournisseur non coché est dissocié : gardez seulement un compte LuxTrust "
            "(ou autre) qui est le vôtre."
        ),
    )

    def __init__(
        self,
        *args: Any,
        former: list[Any],
        passkeys: list[Any],
        links: list[tuple[IdentityLink, str]],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        kept = cast(forms.MultipleChoiceField, self.fields["kept"])
        kept.choices = [(str(row.pk), row.person.public_label) for row in former]
        if not former:
            del self.fields["kept"]
        keys = cast(forms.MultipleChoiceField, self.fields["passkeys_kept"])
        keys.choices = [(str(key.pk), key.name) for key in passkeys]
        if not passkeys:
            del self.fields["passkeys_kept"]
        providers = cast(forms.MultipleChoiceField, self.fields["links_kept"])
        providers.choices = [(str(link.pk), name) for link, name in links]
        if not links:
            del self.fields["links_kept"]


def _identity_links(account: Account) -> list[tuple[IdentityLink, str]]:
    """The account's identity links, each with its provider's name (its slug when the
    provider is no longer configured)."""
    return [
        (
            link,
            provider.name
            if (provider := identity_providers.provider(link.provider))
            else link.provider,
        )
        for link in account.identity_links.order_by("linked_at")
    ]


@patient_required
@require_http_methods(["GET", "POST"])
def majority(request: PatientRequest) -> HttpResponse:
    account = request.patient.logged_in_account
    if not account.majority_review_due:
        return redirect("patient:services")
    if account.majority_channel_pending:
        return redirect("patient:contact")
    holder = account.person
    care_record = ensure_care_record(holder)
    former = former_assistants(care_record)
    passkeys = list(account.passkeys.all())
    links = _identity_links(account)
    form = MajorityForm(
        request.POST if request.method == "POST" else None,
        person=holder,
        has_password=False,
        former=former,
        passkeys=passkeys,
        links=links,
    )
    if not form.is_valid():
        return render(
            request,
            "records/majority.html",
            {
                "form": form,
                "holder": holder,
                "destination": mask(account.code_channel, account.code_destination),
            },
            status=400 if request.method == "POST" else 200,
        )
    kept_ids = set(form.cleaned_data.get("kept", []))
    kept_keys = set(form.cleaned_data.get("passkeys_kept", []))
    kept_links = set(form.cleaned_data.get("links_kept", []))
    replacing = form.cleaned_data["channel"] == "replace"
    complete_majority_review(
        account,
        care_record,
        password_hash=make_password(form.cleaned_data["password1"]),
        kept_assistants=[row for row in former if str(row.pk) in kept_ids],
        removed_passkeys=[key for key in passkeys if str(key.pk) not in kept_keys],
        unlinked=[(link, name) for link, name in links if str(link.pk) not in kept_links],
        replacing_channel=replacing,
        current_session=request.patient.logged_in_session,
        ip_address=request.client_ip,
    )
    if replacing:
        messages.info(request, MAJORITY_CHANNEL_PENDING)
        return redirect("patient:contact")
    messages.success(request, _("Votre compte eSanté est désormais le vôtre."))
    return redirect("records:mine")
