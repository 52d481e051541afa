"""The flow mechanism (esante.flows) on its own: the typed state kept in the session, read
back strictly — a state this code did not write is no state, never an error."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils.translation import gettext_lazy

from esante.flows import Flow


@dataclass
class Sent:
    sent_at: float
    failures: int = 0


@dataclass
class ExampleData:
    person_id: int | None = None
    matricule: str = ""
    chosen: bool = False
    codes: list[str] = field(default_factory=list)
    sent: Sent | None = None
    cgu_version: str = ""


EXAMPLE = Flow(
    name="example",
    data_type=ExampleData,
    stages=("first", "second"),
    url_names={"first": "portal:home", "second": "portal:home"},
    idle_timeout=datetime.timedelta(minutes=15),
    entry_url="portal:home",
    entry_message=gettext_lazy("Commencez au début."),
    expired_message=gettext_lazy("Recommencez."),
    kept_on_expiry=("cgu_version",),
)


def request_with_session() -> HttpRequest:
    request = RequestFactory().get("/")
    request.session = SessionStore()
    return request


def test_the_state_reads_back_as_written() -> None:
    request = request_with_session()
    data = ExampleData(
        person_id=7, matricule="1980", chosen=True, codes=["a", "b"], sent=Sent(sent_at=12.5)
    )
    written = EXAMPLE.start(request, data)

    state, expired = EXAMPLE.load(request)

    assert not expired and state == written
    assert state is not None and state.data.sent == Sent(sent_at=12.5, failures=0)


@pytest.mark.parametrize(
    "changed",
    [
        {"retired_field": 1},  # a field an earlier version kept
        {"person_id": "7"},  # of another type
        {"chosen": 1},
        {"codes": "a,b"},
        {"sent": {"sent_at": 12.5}},  # a nested field missing
        {"sent": {"sent_at": "soon", "failures": 0}},
    ],
)
def test_a_state_of_another_shape_is_no_state_and_is_dropped(changed: dict[str, Any]) -> None:
    request = request_with_session()
    EXAMPLE.start(request, ExampleData(person_id=7, sent=Sent(sent_at=1.0)))
    request.session[EXAMPLE.session_key]["data"].update(changed)

    assert EXAMPLE.load(request) == (None, False)
    assert EXAMPLE.session_key not in request.session


def test_a_state_missing_a_field_is_no_state() -> None:
    request = request_with_session()
    EXAMPLE.start(request, ExampleData(person_id=7))
    del request.session[EXAMPLE.session_key]["data"]["matricule"]

    assert EXAMPLE.load(request) == (None, False)


@pytest.mark.parametrize(
    "raw",
    [
        "flow",
        {"flow_id": "x", "reached": 0, "started_at": 0.0, "last_seen_at": 0.0},
        {"flow_id": "x", "reached": 5, "started_at": 0.0, "last_seen_at": 0.0, "data": {}},
        {"flow_id": 1, "reached": 0, "started_at": 0.0, "last_seen_at": 0.0, "data": {}},
    ],
)
def test_a_state_of_another_outer_shape_is_no_state(raw: object) -> None:
    request = request_with_session()
    request.session[EXAMPLE.session_key] = raw

    assert EXAMPLE.load(request) == (None, False)


def test_a_restart_keeps_only_what_the_flow_names() -> None:
    request = request_with_session()
    EXAMPLE.start(request, ExampleData(person_id=7, cgu_version="2026-01"))

    EXAMPLE.restart(request)

    state, _expired = EXAMPLE.load(request)
    assert state is not None and state.data == ExampleData(cgu_version="2026-01")


def test_a_declaration_naming_no_field_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="no field 'cgu'"):
        Flow(
            name="broken",
            data_type=ExampleData,
            stages=("first",),
            url_names={"first": "portal:home"},
            idle_timeout=datetime.timedelta(minutes=15),
            entry_url="portal:home",
            entry_message=gettext_lazy("Commencez au début."),
            expired_message=gettext_lazy("Recommencez."),
            kept_on_expiry=("cgu",),
        )
