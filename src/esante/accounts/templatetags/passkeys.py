"""`request|passkeys_offered`: whether the page may show its passkey forms (not at an IP
address, where browsers refuse WebAuthn)."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

from esante.accounts.authenticators import passkeys

register = template.Library()


@register.filter
def passkeys_offered(request: HttpRequest | None) -> bool:
    return request is not None and passkeys.offered(request)
