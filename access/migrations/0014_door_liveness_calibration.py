from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0013_scan_client_supports"),
    ]

    operations = [
        migrations.AddField(
            model_name="door",
            name="liveness_reference",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="liveness reference"),
        ),
        migrations.AddField(
            model_name="door",
            name="liveness_calibrated_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="liveness calibrated at"),
        ),
        migrations.AddField(
            model_name="door",
            name="liveness_reset_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="liveness reset at"),
        ),
        migrations.AddField(
            model_name="door",
            name="liveness_stats",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="liveness statistics"),
        ),
    ]
