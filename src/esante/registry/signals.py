"""What the registry tells the apps above it, which connect their receivers in their
AppConfig.ready (esante.accounts: the holder of an activated account is told of a new
letter, which would re-activate it). Sent within the sender's transaction: a receiver's
error undoes it."""

from __future__ import annotations

from django.dispatch import Signal

# A request for a new letter was recorded (activation step 1, "Non"):
# request (LetterRequest), actor, ip_address.
letter_requested = Signal()

# A chunk of a letter run was written (its letters not yet part of the post): the living
# persons who get a letter, by id (person_ids), and the run's time (at). Sent in the
# chunk's transaction, before its pages are drawn: esante.records opens the DSP of those
# who have none, and the pages then print its date (the opt-out).
letters_written = Signal()

# A letter run's letters are in their batch, ready for the post: batch (LetterBatch), actor.
letters_issued = Signal()
