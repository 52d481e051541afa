"""A professional's passkeys: what changes them (the WebAuthn checks are the patients':
esante.accounts.authenticators.passkeys). Each change audited as the professional's."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from webauthn.registration.verify_registration_response import VerifiedRegistration

from esante.accounts.authenticators.passkeys import stored_credential
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.practice.models import ProfessionalPasskey
from esante.professionals.models import Professional


@transaction.atomic
def add_professional_passkey(
    professional: Professional,
    verified: VerifiedRegistration,
    *,
    name: str,
    handle: str,
    ip_address: str | None,
) -> ProfessionalPasskey:
    """A passkey registered from *Espace professionnel* (IntegrityError for one already
    registered), audited."""
    key = ProfessionalPasskey.objects.create(
        professional=professional, name=name, handle=handle, **stored_credential(verified)
    )
    record_event(
        EventType.PASSKEY_ADDED,
        actor=f"professional:{professional.pk}",
        ip_address=ip_address,
        passkey=key.pk,
    )
    return key


@transaction.atomic
def remove_professional_passkey(key: ProfessionalPasskey, *, ip_address: str | None) -> None:
    passkey_id, professional_id = key.pk, key.professional_id
    key.delete()
    record_event(
        EventType.PASSKEY_REMOVED,
        actor=f"professional:{professional_id}",
        ip_address=ip_address,
        passkey=passkey_id,
    )


def record_professional_passkey_use(key: ProfessionalPasskey, sign_count: int) -> None:
    """A passkey answered a login: its new signature counter and when it was last used."""
    ProfessionalPasskey.objects.filter(pk=key.pk).update(
        sign_count=sign_count, last_used_at=timezone.now()
    )
