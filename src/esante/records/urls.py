from __future__ import annotations

from django.urls import path

from esante.records import (
    assistant_views,
    document_views,
    majority_views,
    professional_views,
    views,
)

app_name = "records"

record = "dsp/<uuid:public_id>/"
document = record + "documents/<uuid:document_id>/"
professionals = record + "professionnels/"
professional = professionals + "<int:professional_id>/"

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
    path(
        document + "professionnels-nommes/",
        document_views.named_professionals,
        name="named_professionals",
    ),
    path(record + "assistants/rechercher/", assistant_views.search, name="assistant_search"),
    path(record + "assistants/ajouter/", assistant_views.add, name="assistant_add"),
    path(
        record + "assistants/<int:assistant_id>/retirer/",
        assistant_views.remove,
        name="assistant_remove",
    ),
    path(professionals, professional_views.panel, name="professionals"),
    path(professionals + "rechercher/", professional_views.search, name="professional_search"),
    path(professional + "accorder/", professional_views.grant, name="professional_grant"),
    path(professional + "bloquer/", professional_views.block, name="professional_block"),
    path(professional + "debloquer/", professional_views.unblock, name="professional_unblock"),
    path(
        professional + "medecin-referent/",
        professional_views.referent,
        name="professional_referent",
    ),
    path(
        professionals + "medecin-referent/retirer/",
        professional_views.remove_referent,
        name="referent_remove",
    ),
    path(
        professionals + "relations/<uuid:relationship_id>/fin/",
        professional_views.end,
        name="relationship_end",
    ),
    path(professionals + "urgence/", professional_views.emergency, name="emergency_setting"),
]
