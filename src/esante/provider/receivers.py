"""When a session or a right ends on the platform, the services hear of it: the tokens
it gave them are revoked and each service holding one is sent a back-channel logout
(esante.provider.logout).

- a patient's sessions end (logout, expiry, ended from *Mon compte* or by the helpdesk,
  another identity logging in): their tokens are revoked — but for a refresh token the
  person granted offline access — and the services end those sessions;
- a password reset, a re-activation by letter, a channel reset or the helpdesk ending the
  sessions (accounts.signals.ACCOUNT_WIDE): every token of the account, offline ones too
  (the account may have been someone else's until then);
- an assistant's rights on a record end (removed, or at the holder's majority): every
  token by which they acted for that person;
- a professional's session ends: its tokens, but offline ones."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from esante.accounts.signals import ACCOUNT_WIDE, patient_sessions_ended
from esante.practice.signals import professional_session_ended
from esante.provider.actions import withdraw_consent
from esante.provider.logout import tell_services
from esante.provider.models import Consent, Token
from esante.records.signals import assistant_rights_ended


def _revoke(tokens: Q, *, keep_offline: bool, reason: str) -> None:
    live = Token.objects.live().filter(tokens).select_related("service", "person", "professional")
    if keep_offline:
        live = live.filter(offline=False)
    found = list(live)
    if found:
        Token.objects.filter(pk__in=[each.pk for each in found]).update(revoked_at=timezone.now())
    # The services end their sessions even where an offline token stays.
    told = Token.objects.filter(tokens).select_related("service", "person", "professional")
    tell_services(told if keep_offline else found, reason=reason)


def on_patient_sessions_ended(
    sender: Any, *, account: Any, session_ids: list[int], reason: str, **kwargs: Any
) -> None:
    if reason in ACCOUNT_WIDE:
        everything = Q(person=account.person, actor__isnull=True) | Q(actor=account.person)
        _revoke(
            everything | Q(patient_session_id__in=session_ids), keep_offline=False, reason=reason
        )
    elif session_ids:
        _revoke(Q(patient_session_id__in=session_ids), keep_offline=True, reason=reason)


def on_assistant_rights_ended(
    sender: Any, *, record: Any, assistant: Any, reason: str, **kwargs: Any
) -> None:
    """The assistant's consents for that person end (audited, their tokens revoked, the
    services told), and any token left by which they acted for them."""
    person = getattr(assistant, "person", assistant)
    for consent in Consent.objects.standing().filter(person=person, on_behalf_of=record.person):
        withdraw_consent(consent, actor="system", ip_address=None, reason=f"assistant_{reason}")
    _revoke(Q(person=record.person, actor=person), keep_offline=False, reason=reason)


def on_professional_session_ended(
    sender: Any, *, professional: Any, session_id: int, reason: str, **kwargs: Any
) -> None:
    _revoke(Q(professional_session_id=session_id), keep_offline=True, reason=reason)


def connect() -> None:
    patient_sessions_ended.connect(on_patient_sessions_ended, dispatch_uid="provider.patient")
    assistant_rights_ended.connect(on_assistant_rights_ended, dispatch_uid="provider.assistant")
    professional_session_ended.connect(
        on_professional_session_ended, dispatch_uid="provider.professional"
    )
