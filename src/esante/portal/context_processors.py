from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    """What the portal frame prints on every page: the helpdesk contacts, demo mode."""
    return {
        "helpdesk_phone": settings.ESANTE_HELPDESK_PHONE,
        "helpdesk_phone_uri": "tel:+"
        + "".join(c for c in settings.ESANTE_HELPDESK_PHONE if c.isdigit()),
        "helpdesk_email": settings.ESANTE_HELPDESK_EMAIL,
        "helpdesk_form_url": settings.ESANTE_HELPDESK_FORM_URL,
        "demo_mode": settings.ESANTE_DEMO,
    }
