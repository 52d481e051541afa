"""The logical ids of the FHIR API (esante.fhir): an opaque public id for the assistants
(RelatedPerson, Consent), the blocks (Consent) and the journal's lines (AuditEvent), and
each document's last change (meta.lastUpdated). Existing rows get theirs here, one each."""

import uuid

from django.db import migrations, models
from django.utils import timezone


def give_public_ids(apps, schema_editor):
    alias = schema_editor.connection.alias
    for name in ("Assistant", "ProfessionalBlock", "AccessEntry"):
        model = apps.get_model("records", name)
        rows = model.objects.using(alias).filter(public_id__isnull=True).only("pk")
        batch = []
        for row in rows.iterator(chunk_size=2000):
            row.public_id = uuid.uuid4()
            batch.append(row)
            if len(batch) == 2000:
                model.objects.using(alias).bulk_update(batch, ["public_id"])
                batch = []
        if batch:
            model.objects.using(alias).bulk_update(batch, ["public_id"])
    Document = apps.get_model("records", "Document")
    Document.objects.using(alias).update(updated_at=models.F("added_at"))


class Migration(migrations.Migration):
    dependencies = [("records", "0008_professionals")]

    operations = [
        migrations.AddField(
            model_name="assistant",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="professionalblock",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="accessentry",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="document",
            name="updated_at",
            field=models.DateTimeField(default=timezone.now),
        ),
        migrations.RunPython(give_public_ids, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="assistant",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AlterField(
            model_name="professionalblock",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AlterField(
            model_name="accessentry",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
