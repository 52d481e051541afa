"""/dev/…, included by esante.urls where the demo app is installed (demo mode)."""

from __future__ import annotations

from django.urls import path

from esante.demo import outbox_views

app_name = "demo"

urlpatterns = [
    path("outbox/", outbox_views.dev_outbox, name="outbox"),
    path("outbox.json", outbox_views.dev_outbox_json, name="outbox_json"),
    path("code-recu/", outbox_views.code_received, name="code_received"),
]
