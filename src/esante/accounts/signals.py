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

# Sessions of an account have just ended (their rows' ended_at written), so what they
# opened must close with them (a service's tokens): account, session_ids (the
# PatientSession pks ended now: a path that ended none sends nothing — but for the
# ACCOUNT_WIDE reasons below, sent even with none, since what the account opened elsewhere
# must close too —, and a session ended by two requests at once is sent once), reason —
#   "logout"            the person logged out (patient_sessions.log_out);
#   "expired"           idle or too old, found so at its next request (log_out);
#   "other_identity"    a professional or a staff member logged in in the same browser;
#   "ended_by_person"   ended from *Mon compte* (one, or all the others);
#   "ended_by_helpdesk" ended by an agent (helpdesk.actions.end_all_sessions);
#   "channel_reset"     the helpdesk reset the code channel (a lost phone);
#   "password_reset"    *Mot de passe oublié*;
#   "reactivation"      a new letter re-activated the account;
#   "majority_review"   the adult holder's review ended every other session.
# A session nobody comes back to is never ended by a request: its row stays open until
# then, and receivers that care read the limits themselves (ESANTE_SESSION_*).
patient_sessions_ended = Signal()

# The reasons that end more than sessions: the account itself may have been someone else's
# until now (a reset password, a re-activation, a lost phone, the helpdesk's hand), so what
# it opened that outlives a session (a service's offline access) ends as well.
ACCOUNT_WIDE = frozenset({"password_reset", "reactivation", "ended_by_helpdesk", "channel_reset"})
