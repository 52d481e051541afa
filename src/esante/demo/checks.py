"""The demo's system check (`esante check --deploy`): a deployment must not run it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def demo_mode_is_off(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Demo mode shows every code in clear at /dev/outbox/, serves plain HTTP and makes
    its own secrets: a deployment with it on fails, whatever else it sets (an Error, so
    that even `check --deploy` without --fail-level stops). The demo app is installed in
    demo mode only; the flag is read all the same, as the test suite has the app with the
    mode off."""
    if not settings.ESANTE_DEMO:
        return []
    return [
        Error(
            "ESANTE_DEMO is on: demo mode (dev outbox with codes in clear, plain HTTP, "
            "generated secrets) is for `make run` on this machine only.",
            hint="Set ESANTE_DEMO=0 (the default) for any deployment.",
            id="esante.E001",
        )
    ]
