"""Security notices to an account's holder (a lock, a new browser, a changed factor): on the
floor of the models, so that the authenticators (passkeys, identity links) and the
account's actions all send them the same way."""

from __future__ import annotations

from esante.accounts.models import Account, CodeChannel
from esante.notifications.actions import queue_message
from esante.notifications.models import Channel


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
