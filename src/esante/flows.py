"""Multi-step flows kept server-side in the session (STYLE.md §4).

A flow is an ordered list of stages sharing one small state object in the session, with
a start time and an idle timeout. What the flow remembers is a dataclass of its own (its
`data_type`: the activation's ActivationData, the login's LoginData…), declared next to
the flow by the app it belongs to; this module, on the lowest floor, imports no app.

Each step's view is guarded by `stage_view`: it runs only when its stage has been
reached, so no step can be taken by URL out of order; a refresh or a double submit lands
on the same stage and is harmless. An idle flow restarts at its first stage, keeping only
what the flow names in `kept_on_expiry` — or, for a flow that does not restart (the staff
login: its code page is nothing without the password step), is over: its entry page again.

The state is stored as JSON-safe values and read back strictly: a state this code did not
write — from before a deploy that changed the flow's dataclass, with a field more or
less, or of another type — is no state. It is dropped, and the visitor starts again
at the flow's entry page, as without a flow (never an error).

A step requested out of order — ahead of the flow, closed, or posted to without any flow —
is a try at getting round the order: it is logged (the security log, ASVS 5.0 16.3.3)
before the redirect. A page merely read without a flow (an old bookmark) is not.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import secrets
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from esante import security_logger

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


# Seconds between two writes of a flow's "last seen" (see Flow.touch).
TOUCH_INTERVAL = 60

# What a flow remembers: a dataclass of JSON-safe types (str, int, float, bool, None, lists,
# dicts with str keys, dataclasses of the same). Its fields all have defaults when the flow
# restarts after idling out (it then holds only what it keeps) or has a subject.
Data = TypeVar("Data")


@dataclasses.dataclass
class FlowState(Generic[Data]):
    """What a flow remembers between requests."""

    flow_id: str
    reached: int  # index of the furthest stage reached
    started_at: float
    last_seen_at: float
    data: Data


@dataclasses.dataclass(frozen=True)
class Flow(Generic[Data]):
    name: str
    data_type: type[Data]
    stages: tuple[str, ...]
    url_names: dict[str, str]  # stage → URL name of its view
    idle_timeout: datetime.timedelta
    # Where a visitor without a flow is sent (the page that starts it), and what they read.
    entry_url: str
    entry_message: _StrPromise
    expired_message: _StrPromise
    # However active, the flow lasts at most this long from its start (None: no limit).
    max_age: datetime.timedelta | None = None
    restarts_on_expiry: bool = True
    kept_on_expiry: tuple[str, ...] = ()  # fields of the data
    # Once the flow reaches this stage, the stages before it are done for good (the
    # account exists): they redirect to where the flow is, whatever is submitted.
    closes_earlier_stages: str = ""
    # Whom the flow is for (the field of the data naming them: the activation's person),
    # the first stage whose work is theirs alone, and the fields the stages from there
    # fill in: for another subject, those stages are to be done again (set_subject).
    subject_key: str = ""
    subject_stages_from: str = ""
    subject_data: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """A flow's declaration is checked when its module is imported."""
        if not dataclasses.is_dataclass(self.data_type):
            raise TypeError(f"{self.name}: {self.data_type} is not a dataclass")
        if self.restarts_on_expiry or self.subject_key:
            fresh = self.data_type()  # every field has a default
            named = (*self.kept_on_expiry, *self.subject_data, *filter(None, [self.subject_key]))
            for name in named:
                if not hasattr(fresh, name):
                    raise TypeError(f"{self.data_type.__name__} has no field {name!r}")

    @property
    def session_key(self) -> str:
        return f"flow:{self.name}"

    def start(self, request: HttpRequest, data: Data) -> FlowState[Data]:
        now = timezone.now().timestamp()
        state = FlowState(
            flow_id=secrets.token_urlsafe(16),
            reached=0,
            started_at=now,
            last_seen_at=now,
            data=data,
        )
        self.save(request, state)
        return state

    def load(self, request: HttpRequest) -> tuple[FlowState[Data] | None, bool]:
        """The live state, or None; and whether a flow was there but idled out. A state
        that cannot be read (written before a deploy) is dropped: no flow."""
        state = self._stored(request)
        if state is None:
            return None, False
        now = timezone.now().timestamp()
        if now - state.last_seen_at > self.idle_timeout.total_seconds():
            return None, True
        if self.max_age is not None and now - state.started_at > self.max_age.total_seconds():
            return None, True
        return state, False

    def _stored(self, request: HttpRequest) -> FlowState[Data] | None:
        raw = request.session.get(self.session_key)
        if raw is None:
            return None
        try:
            return self._decode(raw)
        except Unreadable:
            self.end(request)
            return None

    def _decode(self, raw: object) -> FlowState[Data]:
        state = _decode(FlowState, raw, {"data": self.data_type})
        if not 0 <= state.reached < len(self.stages):
            raise Unreadable("reached")
        return state

    def save(self, request: HttpRequest, state: FlowState[Data], *, activity: bool = True) -> None:
        """Keep `state` in the session. `activity=False`: what a refused submission must
        remember, without counting it as activity (the idle timeout runs on, as after
        any other refusal)."""
        if activity:
            state.last_seen_at = timezone.now().timestamp()
        request.session[self.session_key] = dataclasses.asdict(state)

    def touch(self, request: HttpRequest, state: FlowState[Data]) -> None:
        """Seen now: the idle timeout starts again. Only on reading a page, and at most
        once a minute: a session is saved whole, last write wins, so a submission that
        changes nothing (one of fifty copies of a code, all but one refused) must not
        write back the state it read and undo a concurrent request's step forward. A
        submission that moves the flow saves it anyway (advance, go_back)."""
        if timezone.now().timestamp() - state.last_seen_at >= TOUCH_INTERVAL:
            self.save(request, state)

    def end(self, request: HttpRequest) -> None:
        request.session.pop(self.session_key, None)

    def restart(self, request: HttpRequest) -> None:
        """After idling out: a fresh flow at the first stage, with what it keeps."""
        expired = self._stored(request)
        fresh = self.data_type()
        if expired is not None:
            for name in self.kept_on_expiry:
                setattr(fresh, name, getattr(expired.data, name))
        self.start(request, fresh)

    def step(self, stage: str) -> int:
        return self.stages.index(stage)

    def advance(self, request: HttpRequest, state: FlowState[Data], to_stage: str) -> HttpResponse:
        """Mark `to_stage` reached (never undoing progress) and redirect to it."""
        state.reached = max(state.reached, self.step(to_stage))
        self.save(request, state)
        return redirect(self.url_names[to_stage])

    def set_subject(self, state: FlowState[Data], subject: Any) -> None:
        """The flow is now for `subject`. If that is someone else than before, what the
        stages from `subject_stages_from` did was for the previous subject: the flow goes
        back to that stage (advance never does) and forgets what they kept. The caller
        saves the state, with advance() as usual."""
        if getattr(state.data, self.subject_key) != subject:
            state.reached = min(state.reached, self.step(self.subject_stages_from))
            fresh = self.data_type()
            for name in self.subject_data:
                setattr(state.data, name, getattr(fresh, name))
        setattr(state.data, self.subject_key, subject)

    def go_back(self, request: HttpRequest, state: FlowState[Data], to_stage: str) -> HttpResponse:
        """*Etape précédente*: reopen an earlier stage; later stages must be done again
        (what they kept in the data stays, for their forms to offer again)."""
        state.reached = min(state.reached, self.step(to_stage))
        self.save(request, state)
        return redirect(self.url_names[to_stage])

    def is_closed(self, stage: str, state: FlowState[Data]) -> bool:
        if not self.closes_earlier_stages:
            return False
        closing = self.step(self.closes_earlier_stages)
        return state.reached >= closing > self.step(stage)

    def current_stage(self, state: FlowState[Data]) -> str:
        return self.stages[state.reached]


Request = TypeVar("Request", bound=HttpRequest)


def stage_view(
    flow: Flow[Data], stage: str
) -> Callable[
    [Callable[[Request, FlowState[Data]], HttpResponse]], Callable[[Request], HttpResponse]
]:
    """Guard a step: without a flow, to the entry page; idled out, to the first stage of
    a fresh flow; ahead of the flow, to the stage it has reached."""

    def decorator(
        view: Callable[[Request, FlowState[Data]], HttpResponse],
    ) -> Callable[[Request], HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: Request) -> HttpResponse:
            stored = flow.session_key in request.session
            state, expired = flow.load(request)
            if expired and flow.restarts_on_expiry:
                flow.restart(request)
                messages.warning(request, flow.expired_message)
                return redirect(flow.url_names[flow.stages[0]])
            if state is None:
                # A flow over, or a state this code cannot read (from before a deploy), is
                # no try at getting round the order: the visitor starts again, unlogged.
                flow.end(request)
                if request.method == "POST" and not stored:
                    _out_of_order(request, flow, stage, "no_flow")
                messages.info(request, flow.expired_message if expired else flow.entry_message)
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
    request: HttpRequest, flow: Flow[Any], stage: str, reason: str, **details: str
) -> None:
    security_logger.warn(
        request, "flow.out_of_order", flow=flow.name, stage=stage, reason=reason, **details
    )


# Reading a stored state back: the types of the dataclass's fields, checked.


class Unreadable(Exception):
    """A stored value that does not fit the dataclass it is read into."""


Decoded = TypeVar("Decoded")


def _decode(cls: type[Decoded], raw: object, hints: dict[str, Any] | None = None) -> Decoded:
    """`raw` (JSON-safe values) read back into the dataclass `cls`: exactly its fields, each
    of its type (`hints` overrides some of them: a generic's parameter)."""
    if not isinstance(raw, dict):
        raise Unreadable(cls.__name__)
    fields = {**_field_types(cls), **(hints or {})}
    names = fields.keys()
    if raw.keys() != names:
        raise Unreadable(f"{cls.__name__}: {sorted(set(raw) ^ names)}")
    return cls(**{name: _value(fields[name], raw[name]) for name in names})


_FIELD_TYPES: dict[type, dict[str, Any]] = {}


def _field_types(cls: type) -> dict[str, Any]:
    """The dataclass's fields and their types (resolved once: they are strings here)."""
    if cls not in _FIELD_TYPES:
        hints = typing.get_type_hints(cls)
        _FIELD_TYPES[cls] = {each.name: hints[each.name] for each in dataclasses.fields(cls)}
    return _FIELD_TYPES[cls]


def _value(hint: Any, raw: object) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _value(option, raw)
            except Unreadable:
                continue
        raise Unreadable(str(hint))
    if origin is list and isinstance(raw, list):
        return [_value(args[0], each) for each in raw]
    if origin is dict and isinstance(raw, dict) and all(isinstance(key, str) for key in raw):
        return {key: _value(args[1], each) for key, each in raw.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _decode(hint, raw)
    if hint is Any:
        return raw
    if hint is type(None) and raw is None:
        return None
    if hint is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if hint is int and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if hint in (str, bool) and isinstance(raw, hint):
        return raw
    raise Unreadable(str(hint))
