"""Act as a door tablet: send a photo through the same checks and services as the API and print
the decision as JSON (the API's shape)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from access import services
from access.api.serializers import DecisionSerializer
from access.frames import CONTENT_TYPES, FrameRejected, read_frame
from access.selectors import device_for_token

_SUFFIX_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


class Command(BaseCommand):
    help = "Send a photo as a door scan with a device token and print the decision."

    def add_arguments(self, parser):
        parser.add_argument(
            "--token", required=True, help="The device token; write --token=T when it starts with a dash."
        )
        parser.add_argument("--image", required=True, type=Path)
        parser.add_argument("--direction", choices=["in", "out"], default="in")

    def handle(self, *args, token: str, image: Path, direction: str, **options):
        device = device_for_token(token.strip())
        if device is None or not device.is_active:
            raise CommandError("Unknown or revoked device token.")
        try:
            data = image.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {image}: {exc.strerror}.") from None
        content_type = _SUFFIX_TYPES.get(image.suffix.lower(), "application/octet-stream")
        try:
            frame = read_frame(data, content_type)
        except FrameRejected as exc:
            raise CommandError(f"{exc.detail} (accepted: {', '.join(CONTENT_TYPES)})") from None
        scan, _ = services.open_scan(device=device, method="face", direction=direction)
        scan = services.decide_face_scan(scan=scan, frame=frame)
        self.stdout.write(json.dumps(DecisionSerializer(scan).data, ensure_ascii=False))
