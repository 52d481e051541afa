"""Multi-step flows kept server-side in the session (STYLE.md §4).

A flow is an ordered list of stages sharing one small state object in the session, with
a start time and an idle timeout. Each step's view is guarded by `stage_view`: it runs
only when its stage has been reached, so no step can be taken by URL out of order; a
refresh or a double submit lands on the same stage and is harmless. An idle flow
restarts at its first stage, keeping only what the flow names in `kept_on_expiry`. The
activation wizard, login-with-code and password recovery are uses of this one mechanism.

A step requested out of order — ahead of the flow, closed, or posted to without any flow —
is a try at getting round the order: it is logged (esante.audit.security_log, ASVS 5.0
16.3.3) before the redirect. A page merely read without a flow (an old bookmark) is not.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from esante.audit import security_log

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


# Seconds between two writes of a flow's "last seen" (see Flow.touch).
TOUCH_INTERVAL = 60


@dataclass
class FlowState:
    """What a flow remembers between requests. `data` holds only JSON-safe values."""

    flow_id: str
    reached: int  # index of the furthest stage reached
    started_at: float
    last_seen_at: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Flow:
    name: str
    stages: tuple[str, ...]
    url_names: dict[str, str]  # stage → URL name of its view
    idle_timeout: datetime.timedelta
    # Where a visitor without a flow is sent (the page that starts it), and what they read.
    entry_url: str
    entry_message: _StrPromise
    expired_message: _StrPromise
    kept_on_expiry: tuple[str, ...] = ()
    # Once the flow reaches this stage, the stages before it are done for good (the
    # account exists): they redirect to where the flow is, whatever is submitted.
    closes_earlier_stages: str = ""
    # Whom the flow is for (the key of `data` naming them: the activation's person), the
    # first stage whose work is theirs alone, and what the stages from there keep in
    # `data`: for another subject, those stages are to be done again (set_subject).
    subject_key: str = ""
    subject_stages_from: str = ""
    subject_data: tuple[str, ...] = ()

    @property
    def session_key(self) -> str:
        return f"flow:{self.name}"

    def start(self, request: HttpRequest, **data: Any) -> FlowState:
        now = timezone.now().timestamp()
        state = FlowState(
            flow_id=secrets.token_urlsafe(16), reached=0, started_at=now, last_seen_at=now
        )
        state.data.update(data)
        self.save(request, state)
        return state

    def load(self, request: HttpRequest) -> tuple[FlowState | None, bool]:
        """The live state, or None; and whether a flow was there but idled out."""
        raw = request.session.get(self.session_key)
        if raw is None:
            return None, False
        state = FlowState(**raw)
        idle = timezone.now().timestamp() - state.last_seen_at
        if idle > self.idle_timeout.total_seconds():
            return None, True
        return state, False

    def save(self, request: HttpRequest, state: FlowState, *, activity: bool = True) -> None:
        """Keep `state` in the session. `activity=False`: what a refused submission must
        remember, without counting it as activity (the idle timeout runs on, as after
        any other refusal)."""
        if activity:
            state.last_seen_at = timezone.now().timestamp()
        request.session[self.session_key] = asdict(state)

    def touch(self, request: HttpRequest, state: FlowState) -> None:
        """Seen now: the idle timeout starts again. Only on reading a page, and at most
        once a minute: a session is saved whole, last write wins, so a submission that
        changes nothing (one of fifty copies of a code, all but one refused) must not
        write back the state it read and undo a concurrent request's step forward. A
        submission that moves the flow saves it anyway (advance, go_back)."""
        if timezone.now().timestamp() - state.last_seen_at >= TOUCH_INTERVAL:
            self.save(request, state)

    def end(self, request: HttpRequest) -> None:
        request.session.pop(self.session_key, None)

    def step(self, stage: str) -> int:
        return self.stages.index(stage)

    def advance(self, request: HttpRequest, state: FlowState, to_stage: str) -> HttpResponse:
        """Mark `to_stage` reached (never undoing progress) and redirect to it."""
        state.reached = max(state.reached, self.step(to_stage))
        self.save(request, state)
        return redirect(self.url_names[to_stage])

    def set_subject(self, state: FlowState, subject: Any) -> None:
        """The flow is now for `subject`. If that is someone else than before, what the
        stages from `subject_stages_from` did was for the previous subject: the flow goes
        back to that stage (advance never does) and forgets what they kept. The caller
        saves the state, with advance() as usual."""
        if state.data.get(self.subject_key) != subject:
            state.reached = min(state.reached, self.step(self.subject_stages_from))
            for key in self.subject_data:
                state.data.pop(key, None)
        state.data[self.subject_key] = subject

    def go_back(self, request: HttpRequest, state: FlowState, to_stage: str) -> HttpResponse:
        """*Etape précédente*: reopen an earlier stage; later stages must be done again
        (what they kept in `data` stays, for their forms to offer again)."""
        state.reached = min(state.reached, self.step(to_stage))
        self.save(request, state)
        return redirect(self.url_names[to_stage])

    def is_closed(self, stage: str, state: FlowState) -> bool:
        if not self.closes_earlier_stages:
            return False
        closing = self.step(self.closes_earlier_stages)
        return state.reached >= closing > self.step(stage)

    def current_stage(self, state: FlowState) -> str:
        return self.stages[state.reached]


Request = TypeVar("Request", bound=HttpRequest)


def stage_view(
    flow: Flow, stage: str
) -> Callable[[Callable[[Request, FlowState], HttpResponse]], Callable[[Request], HttpResponse]]:
    """Guard a step: without a flow, to the entry page; idled out, to the first stage of
    a fresh flow; ahead of the flow, to the stage it has reached."""

    def decorator(
        view: Callable[[Request, FlowState], HttpResponse],
    ) -> Callable[[Request], HttpResponse]:
        @wraps(view)
        def wrapper(request: Request) -> HttpResponse:
            state, expired = flow.load(request)
            if expired:
                kept = request.session[flow.session_key]["data"]
                flow.start(
                    request, **{key: kept[key] for key in flow.kept_on_expiry if key in kept}
                )
                messages.warning(request, flow.expired_message)
                return redirect(flow.url_names[flow.stages[0]])
            if state is None:
                if request.method == "POST":
                    _out_of_order(request, flow, stage, "no_flow")
                messages.info(request, flow.entry_message)
                return redirect(flow.entry_url)
            if flow.step(stage) > state.reached or flow.is_closed(stage, state):
                reason = "closed" if flow.is_closed(stage, state) else "ahead"
                _out_of_order(request, flow, stage, reason, current=flow.current_stage(state))
                return redirect(flow.url_names[flow.current_stage(state)])
            if request.method in ("GET", "HEAD"):
                flow.touch(request, state)
            return view(request, state)

        return wrapper

    return decorator


def _out_of_order(
    request: HttpRequest, flow: Flow, stage: str, reason: str, **details: str
) -> None:
    security_log.warn(
        request, "flow.out_of_order", flow=flow.name, stage=stage, reason=reason, **details
    )
