from __future__ import annotations

from django.urls import path

from esante.practice import passkey_views, views

app_name = "practice"

urlpatterns = [
    path("", views.home, name="home"),
    # Before connexion/<slug>/: "cle-d-acces" is no provider.
    path(
        "connexion/cle-d-acces/options/",
        passkey_views.login_options,
        name="passkey_login_options",
    ),
    path("connexion/cle-d-acces/", passkey_views.login, name="passkey_login"),
    path("connexion/<slug:slug>/", views.start, name="oidc_start"),
    path("connexion/<slug:slug>/retour/", views.callback, name="oidc_callback"),
    path("deconnexion/", views.logout, name="logout"),
    path(
        "cles-d-acces/options/",
        passkey_views.register_options,
        name="passkey_register_options",
    ),
    path("cles-d-acces/", passkey_views.register, name="passkey_register"),
    path(
        "cles-d-acces/<int:passkey_id>/supprimer/",
        passkey_views.delete,
        name="passkey_delete",
    ),
]
