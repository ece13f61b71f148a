"""The daily django-q schedule that deletes expired login sessions (Django's clearsessions);
idempotent (by name)."""
from django.db import migrations

NAME = "retention.clear_sessions"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME, defaults={"func": "retention.jobs.clear_sessions", "schedule_type": "D", "repeats": -1})


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0007_alter_erasurejob_kind"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
