import uuid

from django.db import migrations, models


def give_public_ids(apps, schema_editor):
    # On the database being migrated (`esante serve` migrates as the schema owner).
    professionals = apps.get_model("professionals", "Professional").objects.using(
        schema_editor.connection.alias
    )
    for pk in professionals.values_list("pk", flat=True).iterator():
        professionals.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("professionals", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="professional",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(give_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="professional",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
