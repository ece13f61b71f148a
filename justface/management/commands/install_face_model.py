"""Installs the face model's weights (FACE_MODEL) into JUSTFACE_DATA_DIR/models, once."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from justface.face.convert import ModelError
from justface.face_runtime import install_model


class Command(BaseCommand):
    help = "Convert or download the face model's weights for FACE_MODEL (idempotent)."

    def handle(self, *args, **options):
        try:
            path = install_model()
        except ModelError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Face model {settings.FACE_MODEL}: {path}")
