"""Signals in tests: `received(signal)` listens for the length of a block and keeps what
each sending carried, so that a test drives the real path (a view, an action, a command)
and reads what the apps above would have heard."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.dispatch import Signal


@contextmanager
def received(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """Each sending's keyword arguments, `sender` among them, in the order sent; the
    receiver is disconnected when the block ends, whatever happens in it."""
    sent: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal", None)
        sent.append({"sender": sender, **kwargs})

    signal.connect(receiver, weak=False)
    try:
        yield sent
    finally:
        signal.disconnect(receiver)
