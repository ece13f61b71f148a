"""The django-q schedule that sends the open invitation rounds' e-mails every minute
(members.invitation_rounds.send_due, at JUSTFACE_INVITE_RATE per minute); idempotent (by name)."""
from django.db import migrations

NAME = "members.invitation_rounds"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={"func": "members.invitation_rounds.send_due", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0017_invitation_rounds"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
