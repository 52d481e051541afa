"""What the registry tells the apps above it, which connect their receivers in their
AppConfig.ready (esante.accounts: the holder of an activated account is told of a new
letter, which would re-activate it). Sent within the sender's transaction: a receiver's
error undoes it."""

from __future__ import annotations

from django.dispatch import Signal

# A request for a new letter was recorded (activation step 1, "Non"):
# request (LetterRequest), actor, ip_address.
letter_requested = Signal()

# A letter run's letters are in their batch, ready for the post: batch (LetterBatch), actor.
letters_issued = Signal()
