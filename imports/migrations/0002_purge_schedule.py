"""The django-q schedule that deletes import jobs past JUSTFACE_IMPORT_KEEP_DAYS (and the file of
one no worker ran) once a day; idempotent (by name)."""
from django.db import migrations

NAME = "imports.purge"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME, defaults={"func": "imports.jobs.purge", "schedule_type": "D", "repeats": -1}
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
