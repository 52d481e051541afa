from __future__ import annotations

from django.urls import path

from esante.practice import views

app_name = "practice"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/<slug:slug>/", views.start, name="oidc_start"),
    path("connexion/<slug:slug>/retour/", views.callback, name="oidc_callback"),
    path("deconnexion/", views.logout, name="logout"),
]
