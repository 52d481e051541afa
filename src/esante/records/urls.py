from __future__ import annotations

from django.urls import path

from esante.records import assistant_views, document_views, majority_views, views

app_name = "records"

record = "dsp/<uuid:public_id>/"
document = record + "documents/<uuid:document_id>/"

urlpatterns = [
    path("mon-dsp/", views.my_record, name="mine"),
    path("dsp/autres-dossiers/", views.other_records, name="others"),
    path("majorite/", majority_views.majority, name="majority"),
    path(record, views.record, name="record"),
    path(record + "historique/", views.access_journal, name="journal"),
    path(record + "fermer/", views.close, name="close"),
    path(record + "rouvrir/", views.reopen, name="reopen"),
    path(record + "don-d-organes/", views.organ_donation, name="organ_donation"),
    path(record + "documents/ajouter/", document_views.upload, name="upload"),
    path(document, document_views.document_detail, name="document"),
    path(document + "fichier/", document_views.document_file, name="document_file"),
    path(document + "masquer/", document_views.mask, name="mask"),
    path(document + "confidentialite/", document_views.confidentiality, name="confidentiality"),
    path(document + "supprimer/", document_views.delete, name="delete_document"),
    path(record + "assistants/rechercher/", assistant_views.search, name="assistant_search"),
    path(record + "assistants/ajouter/", assistant_views.add, name="assistant_add"),
    path(
        record + "assistants/<int:assistant_id>/retirer/",
        assistant_views.remove,
        name="assistant_remove",
    ),
]
