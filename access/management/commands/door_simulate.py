"""Act as a door tablet: send a photo through the same checks and services as the API and print
the final decision as JSON (the API's shape, rendered by the API's own renderer).

A scan the centre answers with a liveness challenge is answered with the frames of ``--answer``
(a burst, in the order taken); a photo alone cannot turn its head, so without them the challenge
is closed at once as unanswered (``liveness_failed``), as the purge job would after 20 s. A
grey-zone face (status ``confirm``) is confirmed with ``--pin``; without it the scan is left to
its 60-s window. What happened on the way is said on stderr."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from access import liveness as door_liveness
from access import services
from access.api.serializers import DecisionSerializer
from access.frames import CONTENT_TYPES, FrameRejected, read_frame
from access.liveness import ChallengeRefused
from access.models import Scan
from access.selectors import device_for_token

_SUFFIX_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def _frame(path: Path):
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
    content_type = _SUFFIX_TYPES.get(path.suffix.lower(), "application/octet-stream")
    try:
        return read_frame(data, content_type)
    except FrameRejected as exc:
        raise CommandError(f"{path.name}: {exc.detail} (accepted: {', '.join(CONTENT_TYPES)})") from None


class Command(BaseCommand):
    help = "Send a photo as a door scan with a device token and print the final decision."

    def add_arguments(self, parser):
        parser.add_argument(
            "--token", required=True, help="The device token; write --token=T when it starts with a dash."
        )
        parser.add_argument("--image", required=True, type=Path)
        parser.add_argument("--direction", choices=["in", "out"], default="in")
        parser.add_argument(
            "--answer",
            nargs="+",
            type=Path,
            default=[],
            metavar="FRAME",
            help="Frames answering a liveness challenge (the person turning their head the asked way), "
            "in the order taken. Without them a challenge is closed at once as unanswered.",
        )
        parser.add_argument("--pin", help="The member's PIN, if the face lands in the grey zone (status confirm).")

    def handle(self, *args, token: str, image: Path, direction: str, answer: list[Path], pin: str | None, **options):
        device = device_for_token(token.strip())
        if device is None or not device.is_active:
            raise CommandError("Unknown or revoked device token.")
        frame = _frame(image)
        burst = [_frame(path) for path in answer]  # all read before anything is decided
        # It answers challenges (--answer) and grey-zone PINs (--pin) as the kiosk does.
        scan, _ = services.open_scan(device=device, method="face", direction=direction, supports=services.ALL_FEATURES)
        scan = services.decide_face_scan(scan=scan, frame=frame)
        if scan.status == Scan.Status.CHALLENGE:
            scan = self._challenge(scan, burst)
        if scan.status == Scan.Status.CONFIRM:
            if pin:
                scan = services.confirm_scan(device=device, scan=scan, pin=pin)
            else:
                self.stderr.write("The face matched a member only moderately: give --pin to confirm it (60 s).")
        self.stdout.write(JSONRenderer().render(DecisionSerializer(scan).data).decode())

    def _challenge(self, scan: Scan, burst: list) -> Scan:
        instruction = scan.challenge.instruction.replace("_", " ")
        if not burst:
            self.stderr.write(
                f"The centre asked for a liveness challenge ({instruction}); a photo cannot answer it and no "
                "--answer frames were given, so it is closed as unanswered."
            )
            return services.expire_challenge(scan)
        self.stderr.write(f"The centre asked for a liveness challenge ({instruction}): answering with the frames.")
        # As the kiosk does: the burst takes its frames' time after the challenge (sooner is refused).
        waited = timezone.now() - scan.challenge.created_at
        time.sleep(max(0.0, (door_liveness.MIN_ANSWER_DELAY - waited).total_seconds()))
        try:
            return services.answer_challenge(scan=scan, nonce=scan.issued_nonce, frames=burst)
        except ChallengeRefused as exc:  # cannot happen for a fresh scan; never a traceback though
            raise CommandError(exc.detail) from None
