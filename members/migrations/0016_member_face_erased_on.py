from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0015_facetemplate_enrolled_live"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="face_erased_on",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="face data deleted on"),
        ),
    ]
