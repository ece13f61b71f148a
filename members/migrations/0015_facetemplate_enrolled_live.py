from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0014_pending_face_photo"),
    ]

    operations = [
        migrations.AddField(
            model_name="facetemplate",
            name="enrolled_live",
            field=models.BooleanField(default=True, editable=False, verbose_name="enrolled live"),
        ),
    ]
