"""System checks of the accounts' configuration (`esante check --deploy`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def providers_say_the_strength_they_must_vouch_for(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """An identity provider without `acr_values` logs people in on whatever it did: a
    password alone at the provider would open the DSP (ASVS 5.0 6.3.4, 6.8.4)."""
    return [
        CheckWarning(
            f"The identity provider {entry.get('slug')!r} in ESANTE_OIDC_PROVIDERS has no "
            "acr_values: its logins are trusted whatever strength it used.",
            hint=(
                'Set "acr_values" to the levels the agency accepts (for LuxTrust, substantial '
                "or high), space-separated; see README, Identity providers."
            ),
            id="esante.W013",
        )
        for entry in settings.ESANTE_OIDC_PROVIDERS
        if isinstance(entry, dict) and not str(entry.get("acr_values") or "").strip()
    ]
