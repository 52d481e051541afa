"""The FHIR API's addresses, under /fhir/ (docs/api.md), and the patient's copy of their DSP."""

from __future__ import annotations

from django.urls import path, re_path

from esante.fhir import export_views, views

app_name = "fhir"

TYPE = r"(?P<resource_type>[A-Z][A-Za-z]{1,63})"
ID = r"(?P<resource_id>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    # « Télécharger mon dossier »: a patient's page, beside the record's (records/urls.py).
    path("dsp/<uuid:public_id>/telecharger/", export_views.export, name="export"),
    path("fhir/", views.unknown, name="base"),
    path("fhir/metadata", views.metadata, name="metadata"),
    path("fhir/.well-known/smart-configuration", views.smart_configuration, name="smart"),
    path("fhir/CodeSystem/<slug:name>", views.code_system, name="code_system"),
    re_path(rf"^fhir/{TYPE}$", views.type_endpoint, name="type"),
    re_path(rf"^fhir/{TYPE}/{ID}$", views.instance_endpoint, name="instance"),
    # Any character, a line break too (`.` stops at one: "/fhir/Patient/%0A" was the
    # portal's HTML page).
    re_path(r"^fhir/(?P<rest>[\s\S]*)$", views.unknown, name="unknown"),
]
