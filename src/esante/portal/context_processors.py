from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from esante.portal.helpdesk import helpdesk_contacts


def portal(request: HttpRequest) -> dict[str, Any]:
    """What the portal frame prints on every page: the helpdesk contacts, demo mode."""
    helpdesk = helpdesk_contacts()
    return {
        "helpdesk_phone": helpdesk.phone,
        "helpdesk_phone_uri": helpdesk.phone_uri,
        "helpdesk_email": helpdesk.email,
        "helpdesk_form_url": helpdesk.form_url,
        "demo_mode": settings.ESANTE_DEMO,
    }
