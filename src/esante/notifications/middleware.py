"""Delivery after the response: the messages a request commits (a one-time code, a notice)
go out once the server has sent the response's last byte, so that nobody waits for an SMTP
server or an SMS gateway, and no answer's time tells that a code left (esante.notifications
.actions, queue_message)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from esante.notifications import actions


class DeliverAfterResponseMiddleware:
    """Collects the messages a request commits, and delivers them when the server closes
    the response, after its last byte was sent."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        waiting: list[int] = []
        token = actions.after_response.set(waiting)
        try:
            response = self.get_response(request)
        finally:
            actions.after_response.reset(token)
        if waiting:
            # What close() runs (Django closes files and streams this way); the WSGI
            # server calls close() once the response is sent.
            response._resource_closers.append(partial(actions.deliver_all, waiting))  # type: ignore[attr-defined]
        return response
