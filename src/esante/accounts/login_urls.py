from __future__ import annotations

from django.urls import path

from esante.accounts import login_views

app_name = "patient"

urlpatterns = [
    path("connexion/patient/", login_views.login, name="login"),
    path("connexion/patient/code/", login_views.login_code, name="login_code"),
    path("deconnexion/", login_views.logout, name="logout"),
    path("mes-services/", login_views.services, name="services"),
    path("mon-dsp/", login_views.my_record, name="record"),
]
