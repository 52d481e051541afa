"""What patient accounts do when a lower app tells them something: Django signals, whose
receivers connect when AccountsConfig.ready imports this module."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.http import HttpRequest

from esante import identities
from esante.accounts.actions import announce_issued_letters, announce_letter_request
from esante.accounts.patient_sessions import end_for_other_identity
from esante.registry import signals as registry
from esante.registry.models import LetterBatch, LetterRequest


@receiver(registry.letter_requested)
def new_letter_requested(
    sender: type[LetterRequest],
    *,
    request: LetterRequest,
    actor: str,
    ip_address: str | None,
    **kwargs: Any,
) -> None:
    announce_letter_request(request, actor=actor, ip_address=ip_address)


@receiver(registry.letters_issued)
def letters_issued(
    sender: type[LetterBatch], *, batch: LetterBatch, actor: str, **kwargs: Any
) -> None:
    announce_issued_letters(batch, actor=actor)


@receiver(identities.identity_starting)
def other_identity_starting(sender: str, *, request: HttpRequest, **kwargs: Any) -> None:
    """A professional or a staff member logs in in this browser: the patient is out."""
    if sender != "patient":
        end_for_other_identity(request)
