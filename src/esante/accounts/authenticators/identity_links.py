"""Links between accounts and external identity providers' subjects (STYLE.md §2: each
change atomic, audited and notified to the owner)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from esante.accounts.authenticators.identity_providers import Identity
from esante.accounts.models import Account, IdentityLink
from esante.accounts.notices import notify_owner
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.portal.helpdesk import helpdesk_contacts


class LinkRefused(Exception):
    def __init__(self, message: str, *, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason


def link_identity(account: Account, identity: Identity, *, ip_address: str | None) -> IdentityLink:
    """Link the provider's subject to the account. Refused when the provider gives a
    national identification number that is not the account's matricule, when this subject
    already opens another account, or when the account already links this provider."""
    provider = identity.provider
    if provider.national_id_claim and not identity.national_id:
        # The provider is configured to send it: its absence proves nothing about who it is.
        _refused(account, identity, "national_id_missing", ip_address)
        raise LinkRefused(
            _(
                "%(provider)s n'a pas transmis votre numéro d'identification : impossible de "
                "vérifier que ce compte est à votre nom. Rien n'a été associé."
            )
            % {"provider": provider.name},
            reason="national_id_missing",
        )
    if identity.national_id and identity.national_id != account.person.matricule:
        _refused(account, identity, "national_id_mismatch", ip_address)
        raise LinkRefused(
            _(
                "Le compte %(provider)s utilisé n'est pas à votre nom : son numéro "
                "d'identification ne correspond pas à votre matricule. Rien n'a été associé."
            )
            % {"provider": provider.name},
            reason="national_id_mismatch",
        )
    try:
        with transaction.atomic():
            link = IdentityLink.objects.create(
                account=account,
                provider=provider.slug,
                subject=identity.subject,
                last_used_at=timezone.now(),
                acr=identity.acr,
                amr=identity.amr,
                auth_time=identity.auth_time,
            )
            record_event(
                EventType.IDENTITY_LINKED,
                actor=f"person:{account.person_id}",
                person=account.person,
                ip_address=ip_address,
                provider=provider.slug,
                acr=identity.acr,
                amr=identity.amr,
            )
            with override(account.language):
                notify_owner(
                    account,
                    _("%(provider)s est associé à votre compte eSanté")
                    % {"provider": provider.name},
                    _(
                        "Vous pouvez désormais vous connecter à votre compte eSanté avec "
                        "%(provider)s. Si ce n'était pas vous, appelez sans attendre le "
                        "helpdesk au %(phone)s."
                    )
                    % {"provider": provider.name, "phone": helpdesk_contacts().phone},
                )
    except IntegrityError as error:
        elsewhere = IdentityLink.objects.filter(
            provider=provider.slug, subject=identity.subject
        ).exclude(account=account)
        reason = "subject_elsewhere" if elsewhere.exists() else "already_linked"
        _refused(account, identity, reason, ip_address)
        if reason == "subject_elsewhere":
            message = _(
                "Ce compte %(provider)s est déjà associé à un autre compte eSanté. Rien n'a été "
                "associé."
            )
        else:
            message = _("Un compte %(provider)s est déjà associé à votre compte eSanté.")
        raise LinkRefused(message % {"provider": provider.name}, reason=reason) from error
    return link


def _refused(account: Account, identity: Identity, reason: str, ip_address: str | None) -> None:
    record_event(
        EventType.IDENTITY_REFUSED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
        provider=identity.provider.slug,
        reason=reason,
    )


# How a provider's refused answer is audited, by purpose (otherwise
# authenticator.identity_refused).
REFUSAL_EVENTS = {"login": EventType.LOGIN_FAILED, "stepup": EventType.STEP_UP_FAILED}


def record_provider_refusal(
    provider: str,
    *,
    purpose: str,
    reason: str,
    account: Account | None,
    by_account: bool,
    ip_address: str | None,
    **details: str,
) -> None:
    """A provider's answer that could not serve `purpose` (esante.accounts.login.provider_views),
    audited with the reason. `account`: the one concerned, if any (logged in, or just made
    by the wizard); the actor too when `by_account` (a purpose done from its session)."""
    record_event(
        REFUSAL_EVENTS.get(purpose, EventType.IDENTITY_REFUSED),
        actor=f"person:{account.person_id}" if by_account and account else "anonymous",
        person=account.person if account else None,
        ip_address=ip_address,
        method=f"oidc:{provider}",
        provider=provider,
        purpose=purpose,
        reason=reason,
        **details,
    )


@transaction.atomic
def unlink_identity(link: IdentityLink, *, ip_address: str | None, provider_name: str) -> None:
    account = link.account
    IdentityLink.objects.filter(pk=link.pk).delete()
    record_event(
        EventType.IDENTITY_UNLINKED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
        provider=link.provider,
    )
    with override(account.language):
        notify_owner(
            account,
            _("%(provider)s n'est plus associé à votre compte eSanté")
            % {"provider": provider_name},
            _(
                "%(provider)s ne permet plus de vous connecter à votre compte eSanté. Si ce "
                "n'était pas vous, appelez sans attendre le helpdesk au %(phone)s."
            )
            % {"provider": provider_name, "phone": helpdesk_contacts().phone},
        )


def account_for(identity: Identity) -> Account | None:
    """The account this subject opens, its last use recorded (acr, amr, auth_time)."""
    link = (
        IdentityLink.objects.select_related("account__person")
        .filter(provider=identity.provider.slug, subject=identity.subject)
        .first()
    )
    if link is None:
        return None
    IdentityLink.objects.filter(pk=link.pk).update(
        last_used_at=timezone.now(),
        acr=identity.acr,
        amr=identity.amr,
        auth_time=identity.auth_time,
    )
    return link.account
