"""Security notices to an account's holder (a lock, a new browser, a changed factor): on the
floor of the models, so that the authenticators (passkeys, identity links) and the
account's actions all send them the same way."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils import timezone, translation

from esante.accounts.models import Account, CodeChannel, HeldNotice
from esante.notifications.actions import queue_message
from esante.notifications.models import Channel
from esante.registry.models import InsuredPerson


def notify_owner(account: Account, subject: str, body: str, *, secret: str = "") -> None:
    """A security notice to the account's registered channel (lock, new browser, changes).
    An account whose only channel is an authenticator app has no address to write to: its
    security events are in Mon compte. `secret`: what the body carries that must not
    outlive its delivery (a link's token), as for a code."""
    if not account.code_channel:
        return  # reset by the helpdesk: the only address it had is the lost one
    channel = CodeChannel(account.code_channel)
    if channel == CodeChannel.TOTP:
        return
    queue_message(
        Channel.SMS if channel == CodeChannel.SMS else Channel.EMAIL,
        recipient=account.code_destination,
        subject=subject,
        body=body,
        person=account.person,
        secret=secret,
    )


def notify_person(person: InsuredPerson, compose: Callable[[], tuple[str, str]]) -> None:
    """A notice to `person` about their DSP: `compose()` gives its subject and body, called
    in the person's language (their account's; without one, their letters'). Sent to the
    account's channel; held until the account is activated when there is none yet
    (`release_held_notices`)."""
    account = Account.objects.filter(person=person).first()
    if account is not None:
        with translation.override(account.language):
            subject, body = compose()
        notify_owner(account, subject, body)
        return
    # Worded in every language: the account, when it comes, may choose another one than
    # the letters' (the activation wizard's).
    wordings = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            held_subject, held_body = compose()
        wordings[language] = [held_subject[:200], held_body]
    subject, body = wordings.get(person.language) or wordings[settings.LANGUAGE_CODE]
    HeldNotice.objects.create(person=person, subject=subject, body=body, wordings=wordings)


def release_held_notices(account: Account) -> int:
    """Send what was held for the account's person (at its activation), in the account's
    language; how many. Each is sent once: its row is locked, then marked released."""
    held = list(
        HeldNotice.objects.select_for_update()
        .filter(person=account.person_id, released_at__isnull=True)
        .order_by("created_at", "pk")
    )
    for notice in held:
        subject, body = notice.wordings.get(account.language) or (notice.subject, notice.body)
        notify_owner(account, subject, body)
    HeldNotice.objects.filter(pk__in=[notice.pk for notice in held]).update(
        released_at=timezone.now()
    )
    return len(held)
