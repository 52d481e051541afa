from __future__ import annotations

from django.urls import path

from esante.notifications import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.dev_outbox, name="dev_outbox"),
    path("outbox.json", views.dev_outbox_json, name="dev_outbox_json"),
]
