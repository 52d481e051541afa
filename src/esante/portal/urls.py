from __future__ import annotations

from django.urls import path

from esante.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("activation/", views.activation, name="activation"),
    path("services/", views.services, name="services"),
    path("teleconsultation/", views.teleconsultation, name="teleconsultation"),
    path("connexion/", views.login_choice, name="login_choice"),
    path("favicon.ico", views.favicon, name="favicon"),
]
