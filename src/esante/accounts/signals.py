"""What patient accounts tell the apps above them, which connect their receivers in their
AppConfig.ready (esante.records: the DSP and its assistants). Sent within the sender's
transaction: a receiver's error undoes it."""

from __future__ import annotations

from django.dispatch import Signal

# An account was activated or re-activated: account, person, at (the activation's time).
account_activated = Signal()

# The notice of a new password (a reset, a re-activation) is being written, in the
# account's language: account. Each receiver returns a sentence to add to it, or "".
new_password_notice = Signal()
