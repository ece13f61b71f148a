"""The django-q schedules of webhooks: the pump every minute (retries come due there; new events
are also kicked right after their commit) and the purge of old bodies every hour. Idempotent (by name)."""
from django.db import migrations

SCHEDULES = {
    "webhooks.pump": {"func": "webhooks.delivery.pump", "minutes": 1},
    "webhooks.purge_bodies": {"func": "webhooks.delivery.purge_bodies", "minutes": 60},
}


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, spec in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name, defaults={**spec, "schedule_type": "I", "repeats": -1}
        )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
