"""The door API's shapes: what the tablet sends and the decision it gets back."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.messages import Reason, door_message
from access.models import Method, Scan
from members.services import PIN_PATTERN

DIRECTIONS = [("in", "Check-in"), ("out", "Check-out")]
FEATURES = ["challenge", "confirm"]
SUPPORTS_HELP = (
    "What this tablet can handle beyond the first API's `pending`, `granted` and `denied`: `challenge` (a "
    "liveness challenge) and `confirm` (a grey-zone PIN). A tablet that has not declared one never gets that "
    "status: where the door would ask it, the scan is denied with reason `use_pin` (the PIN pad). Unknown "
    "values are ignored."
)


class ScanRequestSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text="The camera frame: JPEG, PNG or WebP, at most 5 MB and 16.8 megapixels "
        "(JUSTFACE_IMAGE_MAX_PIXELS), all frames together at most JUSTFACE_IMAGE_MAX_REQUEST_PIXELS."
    )
    image2 = serializers.FileField(
        required=False,
        help_text="Optional: a second frame of the same visit (a burst; "
        "the kiosk sends frames 150 ms apart). Frames showing one good face are fused "
        "into one decision; a frame with two people refuses the attempt.",
    )
    image3 = serializers.FileField(required=False, help_text="Optional: a third frame of the burst.")
    direction = serializers.ChoiceField(choices=DIRECTIONS, default="in")
    faces = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=50,
        help_text="Optional: how many faces the tablet's own detector saw. Kept with the access event with the "
        "server's own count (the most of the two); more than one on a grant that opens the door is a "
        "tailgating hint for staff. It never changes the decision.",
    )
    supports = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=16,
        help_text=SUPPORTS_HELP + " Repeat the field once per feature (a comma-separated list works too). When the "
        "field is sent, it counts for this scan instead of the last heartbeat's (so a scan before the first "
        "heartbeat can declare it); an empty value declares nothing.",
    )


class PinRequestSerializer(serializers.Serializer):
    member_number = serializers.CharField(min_length=1, max_length=32)
    pin = serializers.RegexField(PIN_PATTERN, error_messages={"invalid": "The PIN is 4 to 8 digits."})
    direction = serializers.ChoiceField(choices=DIRECTIONS, default="in")


class ConfirmRequestSerializer(serializers.Serializer):
    pin = serializers.RegexField(
        PIN_PATTERN,
        error_messages={"invalid": "The PIN is 4 to 8 digits."},
        help_text="The PIN of the member the face was matched to (no member number).",
    )


class HeartbeatSerializer(serializers.Serializer):
    app_version = serializers.CharField(max_length=40, required=False, allow_blank=True)
    camera = serializers.ChoiceField(choices=["ok", "no_permission", "not_found", "error"], required=False)
    supports = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=16,
        help_text=SUPPORTS_HELP + " Holds until the next heartbeat; a heartbeat without it declares nothing.",
    )

    def validate_supports(self, value: list[str]) -> list[str]:
        return sorted(set(value) & set(FEATURES))


class FirstNameSerializer(serializers.Serializer):
    first_name = serializers.CharField()


class ChallengeSerializer(serializers.Serializer):
    """A liveness challenge for the tablet to show (status `challenge`)."""

    instruction = serializers.ChoiceField(
        choices=["turn_left", "turn_right"],
        help_text="The member's own left or right (the camera image is not mirrored).",
    )
    message = serializers.CharField(help_text="The instruction for the screen, in the centre's language.")
    nonce = serializers.CharField(
        allow_null=True,
        help_text="Send it back with the burst. Given once, in the answer "
        "that issued the challenge (null when the scan is read again: start over).",
    )
    expires_at = serializers.DateTimeField()
    frames = serializers.IntegerField(help_text="How many frames to send.")
    interval_ms = serializers.IntegerField(help_text="How far apart to take them, in milliseconds.")
    answer_url = serializers.CharField(help_text="Where to POST the burst.")


class ChallengeAnswerSerializer(serializers.Serializer):
    nonce = serializers.CharField(max_length=64)
    frames = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=10,
        help_text="The burst: 3 to 10 camera frames (JPEG, PNG or WebP), in the order taken, the first one looking "
        "at the camera; repeat the multipart field `frames` once per frame.",
    )


class DecisionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=Scan.Status.choices,
        help_text="`confirm`: the face matched a member only moderately; show a PIN pad (no member number) and "
        "POST the PIN to `confirm_url` within 60 s. Then the scan is granted or denied. `challenge`: see "
        "`challenge`. Both only for a tablet that declared them (`supports`); any other gets `denied` with "
        "reason `use_pin` instead. `granted` with reason `goodbye` and no `member`: a check-out that names no one.",
    )
    reason = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(help_text="For the screen, in the centre's language.")
    member = serializers.SerializerMethodField(
        help_text="Only when granted to a named member: who to greet (null for a check-out that names no one, "
        "reason `goodbye`)."
    )
    method = serializers.ChoiceField(
        choices=Method.choices, help_text="`face_pin`: a face confirmed by the member's PIN."
    )
    direction = serializers.ChoiceField(choices=DIRECTIONS)
    decided_at = serializers.DateTimeField(allow_null=True)
    confirm_url = serializers.SerializerMethodField(help_text="Only with status `confirm`: where to POST the PIN.")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_confirm_url(self, scan: Scan) -> str | None:
        if scan.status != Scan.Status.CONFIRM:
            return None
        path = reverse("door-scan-confirm", args=[scan.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    challenge = serializers.SerializerMethodField(help_text="Only with status `challenge`: what to ask of the person.")

    @extend_schema_field(ChallengeSerializer(allow_null=True))
    def get_challenge(self, scan: Scan) -> dict | None:
        if scan.status != Scan.Status.CHALLENGE:
            return None
        from access import liveness

        challenge = scan.challenge
        request = self.context.get("request")
        path = reverse("door-scan-challenge", args=[scan.pk])
        return {
            "instruction": challenge.instruction,
            "message": liveness.instruction_message(
                instruction=challenge.instruction, language=scan.centre.door_language
            ),
            "nonce": getattr(scan, "issued_nonce", None),
            "expires_at": challenge.expires_at,
            "frames": liveness.BURST_FRAMES,
            "interval_ms": liveness.BURST_INTERVAL_MS,
            "answer_url": request.build_absolute_uri(path) if request else path,
        }

    @extend_schema_field(serializers.ChoiceField(choices=[r.value for r in Reason], allow_null=True))
    def get_reason(self, scan: Scan) -> str | None:
        return scan.reason or None

    def get_message(self, scan: Scan) -> str:
        return door_message(
            language=scan.centre.door_language,
            status=scan.status,
            reason=scan.reason,
            direction=scan.direction,
            first_name=self._first_name(scan),
        )

    @extend_schema_field(FirstNameSerializer(allow_null=True))
    def get_member(self, scan: Scan) -> dict | None:
        return {"first_name": self._first_name(scan)} if scan.status == Scan.Status.GRANTED and scan.member else None

    @staticmethod
    def _first_name(scan: Scan) -> str:
        return scan.member.first_name if scan.status == Scan.Status.GRANTED and scan.member else ""


class ScanAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["pending"])
    poll_url = serializers.CharField()


class DoorConfigurationSerializer(serializers.Serializer):
    door = serializers.CharField()
    centre = serializers.CharField()
    language = serializers.ChoiceField(choices=["da", "nb", "en"])
    languages = serializers.ListField(child=serializers.CharField())
    time_zone = serializers.CharField()
    opening_hours = serializers.DictField(help_text='{"mon": [["06:00", "22:00"]], ...}; empty: always open.')
    open_now = serializers.BooleanField()
    poll_interval_ms = serializers.IntegerField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
