"""Installs the face models (JUSTFACE_FACE_MODEL, and JUSTFACE_FACE_MODEL_PREVIOUS while members
move from it) into JUSTFACE_DATA_DIR/models, once, each verified."""

from django.core.management.base import BaseCommand, CommandError

from justface.face.convert import ModelError
from justface.face_runtime import install_model, installed_models


class Command(BaseCommand):
    help = (
        "Install and verify the face models the settings name (JUSTFACE_FACE_MODEL and, during a move "
        "of members between models, JUSTFACE_FACE_MODEL_PREVIOUS). Idempotent; offline where the source is."
    )

    def handle(self, *args, **options):
        for model in installed_models():
            try:
                path = install_model(model)
            except ModelError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"Face model {model}: {path}")
