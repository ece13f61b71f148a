"""Templates name their model as the settings do (JUSTFACE_FACE_MODEL): "casia-webface" and
"vggface2" were FACE_MODEL's values before SFace came; the door's galleries select by this name."""
from django.db import migrations

RENAMES = {"casia-webface": "facenet-casia", "vggface2": "facenet-vggface2"}


def rename(apps, schema_editor, renames=RENAMES):
    FaceTemplate = apps.get_model("members", "FaceTemplate")
    for old, new in renames.items():
        FaceTemplate.objects.filter(model_name=old).update(model_name=new)


def unrename(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMES.items()})


class Migration(migrations.Migration):
    dependencies = [("members", "0004_selfservice")]
    operations = [migrations.RunPython(rename, unrename)]
