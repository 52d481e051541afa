import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def give_public_ids(apps, schema_editor):
    CareRecord = apps.get_model("records", "CareRecord")
    records = CareRecord.objects.using(schema_editor.connection.alias)
    for record in records.filter(public_id__isnull=True).only("pk"):
        record.public_id = uuid.uuid4()
        record.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0001_initial"),
        ("registry", "0002_letterrequest"),
    ]

    operations = [
        # Existing records get one identifier each (a column default would give them all
        # the same one), then the column becomes unique and required.
        migrations.AddField(
            model_name="carerecord",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="carerecord",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
