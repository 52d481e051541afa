from __future__ import annotations

from django.urls import path

from esante.records import views

app_name = "records"

urlpatterns = [
    path("mon-dsp/", views.my_record, name="mine"),
    path("dsp/<uuid:public_id>/", views.record, name="record"),
    path("dsp/<uuid:public_id>/historique/", views.access_journal, name="journal"),
    path("dsp/<uuid:public_id>/fermer/", views.close, name="close"),
    path("dsp/<uuid:public_id>/don-d-organes/", views.organ_donation, name="organ_donation"),
    path("dsp/<uuid:public_id>/rouvrir/", views.reopen, name="reopen"),
]
