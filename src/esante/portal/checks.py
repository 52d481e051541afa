"""System checks of the portal's configuration (`esante check --deploy`)."""

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
    that even `check --deploy` without --fail-level stops)."""
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
