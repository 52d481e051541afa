from __future__ import annotations

from django.urls import path

from esante.practice import care_views, passkey_views, views

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
    # The patients' records (care_views): declared, opened in an emergency, read, written.
    path("dsp/declarer/", care_views.declare, name="declare"),
    path("dsp/urgence/", care_views.emergency, name="emergency"),
    path("dsp/<uuid:public_id>/", care_views.record, name="record"),
    path("dsp/<uuid:public_id>/documents/", care_views.add_document, name="add_document"),
    path(
        "dsp/<uuid:public_id>/documents/<uuid:document_id>/",
        care_views.document_detail,
        name="document",
    ),
    path(
        "dsp/<uuid:public_id>/documents/<uuid:document_id>/fichier/",
        care_views.document_file,
        name="document_file",
    ),
    path(
        "dsp/<uuid:public_id>/documents/<uuid:document_id>/remplacer/",
        care_views.replace_document,
        name="replace_document",
    ),
    path(
        "dsp/<uuid:public_id>/documents/<uuid:document_id>/retirer/",
        care_views.withdraw_document,
        name="withdraw_document",
    ),
]
