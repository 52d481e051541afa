from __future__ import annotations

from django.urls import path

from esante.helpdesk import passkey_views, supervisor_views, views

app_name = "helpdesk"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.login, name="login"),
    path("connexion/code/", views.login_code, name="login_code"),
    path("deconnexion/", views.logout, name="logout"),
    path("connexion/cle/options/", passkey_views.login_options, name="passkey_login_options"),
    path("connexion/cle/", passkey_views.login, name="passkey_login"),
    path("mot-de-passe/", views.password, name="password"),
    path("cles/", passkey_views.keys, name="passkeys"),
    path("cles/confirmer/", passkey_views.step_up, name="step_up"),
    path("cles/options/", passkey_views.register_options, name="passkey_register_options"),
    path("cles/ajouter/", passkey_views.register, name="passkey_register"),
    path("cles/<int:passkey_id>/supprimer/", passkey_views.delete, name="passkey_delete"),
    path("personnes/<str:esante_id>/", views.person, name="person"),
    path("personnes/<str:esante_id>/note/", views.person_note, name="person_note"),
    path("personnes/<str:esante_id>/<slug:action>/", views.person_action, name="person_action"),
    path("courriers/", views.batches, name="batches"),
    path("courriers/generer/", views.batch_generate, name="batch_generate"),
    path("courriers/<int:batch_id>/poste/", views.batch_posted, name="batch_posted"),
    path("courriers/<int:batch_id>.pdf", views.batch_pdf, name="batch_pdf"),
    path("journal/", supervisor_views.audit_log, name="audit_log"),
    path("statistiques/", supervisor_views.statistics, name="statistics"),
    path("statistiques.csv", supervisor_views.statistics_csv, name="statistics_csv"),
    path("urgences/", supervisor_views.emergency_report, name="emergency_report"),
    path(
        "urgences/<uuid:public_id>/examen/",
        supervisor_views.emergency_review,
        name="emergency_review",
    ),
]
