"""Webhooks take the events feed's names (access.check_in, door.alarm, erasure.member, ...): an
installed endpoint's subscriptions are renamed so it keeps receiving the same events."""

from django.db import migrations

# Frozen here: a migration must not follow later edits of webhooks.events.
RENAMED = {
    "access.granted": "access.check_in",
    "door.forced_open": "door.alarm",
    "door.held_open": "door.alarm",
    "door.agent_offline": "door.alarm",
    "member.erased": "erasure.member",
}
ORDER = [
    "access.check_in",
    "access.check_out",
    "access.refused",
    "door.alarm",
    "consent.given",
    "consent.withdrawn",
    "erasure.face",
    "erasure.member",
]


def rename(apps, schema_editor, mapping):
    Endpoint = apps.get_model("webhooks", "WebhookEndpoint")
    for endpoint in Endpoint.objects.all().only("pk", "event_types"):
        renamed = {mapping.get(t, t) for t in endpoint.event_types}
        types = [t for t in ORDER if t in renamed] + sorted(renamed - set(ORDER))
        if types != endpoint.event_types:
            Endpoint.objects.filter(pk=endpoint.pk).update(event_types=types)


def forwards(apps, schema_editor):
    rename(apps, schema_editor, RENAMED)


def backwards(apps, schema_editor):
    # door.alarm goes back to all three alarm types it replaced.
    Endpoint = apps.get_model("webhooks", "WebhookEndpoint")
    back = {"access.check_in": ["access.granted"], "erasure.member": ["member.erased"],
            "door.alarm": ["door.forced_open", "door.held_open", "door.agent_offline"]}
    for endpoint in Endpoint.objects.all().only("pk", "event_types"):
        types = [old for t in endpoint.event_types for old in back.get(t, [t]) if old != "erasure.face"]
        Endpoint.objects.filter(pk=endpoint.pk).update(event_types=types)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_delivery_schedules")]

    operations = [migrations.RunPython(forwards, backwards)]
