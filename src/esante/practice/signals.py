"""What the professionals' side tells the apps above it, which connect their receivers
in their AppConfig.ready. Sent within the sender's transaction: a receiver's error undoes
it."""

from __future__ import annotations

from django.dispatch import Signal

# A professional's session has just ended (its row's ended_at written; sent once, by
# the request that ended it): professional (Professional), session_id (the
# ProfessionalSession pk), reason — "logout", "other_identity" (a patient or a staff
# member logged in in the same browser), "inactive" (the register made the professional
# inactive), "idle", "expired" (the last three found at the professional's next request:
# sessions.session_of).
professional_session_ended = Signal()
