"""What the DSP tells the apps above it, which connect their receivers in their
AppConfig.ready (the platform's OpenID Connect provider: what a service was given for a
record must not outlive the rights it was given under). Sent within the sender's
transaction: a receiver's error undoes it."""

from __future__ import annotations

from django.dispatch import Signal

# An assistant's rights on a record have just ended (the Assistant row's ended_at
# written): record (CareRecord), assistant (the assistant's Account), reason —
#   "removed"   by the holder or another assistant (actions.remove_assistant);
#   "majority"  rights given during the holder's minority, ended at 18 by
#               `esante coming-of-age` (majority.py): one signal per assistant.
# An assistant is chosen among activated accounts; a row whose person has no account
# (none can) sends nothing: nobody holds anything under it. Closing the record ends no
# rights (the assistants are back when it reopens), and from the holder's 18th birthday
# until the daily run ends the rows, the gate already refuses those rights
# (access.active_assistants): a receiver that must act on the day reads the gate.
assistant_rights_ended = Signal()
