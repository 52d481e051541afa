"""Messages given up before their code was masked on failure (after their last attempt,
or superseded by a newer code) still hold it in clear: outside demo mode, their body
becomes its masked copy, as `OutboundMessageQuerySet.mark_failed` now does."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations
from django.db.models import F


def mask_codes_of_failed_messages(apps: Any, schema_editor: Any) -> None:
    if settings.ESANTE_DEMO:
        return  # the demo's outbox page shows the codes
    message_model = apps.get_model("notifications", "OutboundMessage")
    messages = message_model.objects.using(schema_editor.connection.alias)
    messages.filter(state="failed").exclude(redacted_body="").update(
        body=F("redacted_body")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(mask_codes_of_failed_messages, migrations.RunPython.noop),
    ]
