"""The django-q schedule that runs access.stats.sample_hour_starts every hour; idempotent (by name)."""
from django.db import migrations

NAME = "access.sample_hour_starts"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME, defaults={"func": "access.stats.sample_hour_starts", "schedule_type": "H", "repeats": -1})


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0005_reports_and_hourly_stats"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
