from __future__ import annotations

from django.urls import path

from esante.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
]
