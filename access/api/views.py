"""The door tablet's REST API, version 1 (/api/v1/door/). Thin: checks input, calls services."""

from __future__ import annotations

import re
import time
import uuid

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from access import liveness, services
from access.api.serializers import (
    ChallengeAnswerSerializer,
    ConfirmRequestSerializer,
    DecisionSerializer,
    DoorConfigurationSerializer,
    ErrorSerializer,
    HeartbeatSerializer,
    PinRequestSerializer,
    ScanAcceptedSerializer,
    ScanRequestSerializer,
)
from access.authentication import DeviceAuthentication
from access.frames import MAX_BYTES, FrameRejected, read_frames
from access.models import Scan
from access.selectors import door_configuration
from justface.rest import JSONParser

MAX_WAIT_SECONDS = 10
# A burst: up to two more frames of the same visit, fused with the first into one decision.
BURST_FIELDS = ("image2", "image3")
# Multipart framing and the small fields around the image.
_MULTIPART_OVERHEAD = 64 * 1024
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Up to 128 visible ASCII characters, unique per request. A retried request with the same key "
    "returns the same scan and creates nothing new.",
)


def _error(detail: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=detail)


ERRORS = {
    400: _error("Bad input; `detail` says what."),
    401: _error("Missing, unknown or revoked device token."),
}


class Rejected(APIException):
    def __init__(self, status_code: int, detail: str):
        self.status_code = status_code
        super().__init__(detail)


def _first_error(errors) -> str:
    while isinstance(errors, dict | list):
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationError({"detail": _first_error(serializer.errors), "errors": serializer.errors})
    return serializer.validated_data


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if key and not _IDEMPOTENCY_KEY.match(key):
        raise ValidationError({"detail": "Idempotency-Key must be 1 to 128 visible ASCII characters."})
    return key


def _decision(scan: Scan, request) -> Response:
    if scan.is_decided:
        return Response(DecisionSerializer(scan, context={"request": request}).data, status=status.HTTP_200_OK)
    poll_url = request.build_absolute_uri(reverse("door-scan-detail", args=[scan.pk]))
    return Response({"id": str(scan.pk), "status": scan.status, "poll_url": poll_url}, status=status.HTTP_202_ACCEPTED)


def _declared_supports(request) -> frozenset[str] | None:
    """What a scan request declares it supports (repeated `supports` fields or one comma-separated
    list; unknown values ignored); None when it does not say, and the last heartbeat counts."""
    if "supports" not in request.data:
        return None
    values = request.data.getlist("supports")
    if len(values) > 16 or any(len(v) > 200 for v in values):
        raise ValidationError({"detail": "supports: at most 16 short feature names."})
    return frozenset(f.strip() for v in values for f in v.split(",")) & services.ALL_FEATURES


def _own_scan(request, scan_id: str) -> Scan | None:
    """A device sees only its own scans; anything else does not exist for it."""
    try:
        scan_uuid = uuid.UUID(scan_id)
    except ValueError:
        return None
    return Scan.objects.select_related("centre__chain", "member").filter(pk=scan_uuid, device=request.auth).first()


class DeviceView(APIView):
    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsAuthenticated]


class ScanListView(DeviceView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="door_scan_create",
        summary="Send a camera frame to be decided",
        request={"multipart/form-data": ScanRequestSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: OpenApiResponse(
                DecisionSerializer,
                description="Decided (the usual answer: decisions are made inline), "
                "or status `challenge`: show `challenge.message`, take `challenge.frames` frames "
                "`challenge.interval_ms` apart and POST them to `challenge.answer_url`; or status `confirm`: "
                "ask the PIN alone and POST it to `confirm_url`. Only a tablet that declared `challenge` or "
                "`confirm` (`supports`, here or in its heartbeat) gets them; any other gets a final `denied` "
                "with reason `use_pin` instead.",
            ),
            202: OpenApiResponse(ScanAcceptedSerializer, description="Still being decided: poll `poll_url`."),
            **ERRORS,
            413: _error(
                "Larger than 5 MB (all frames together), more pixels than JUSTFACE_IMAGE_MAX_PIXELS (default "
                "4096×4096; `detail` says the limit), or all frames together more than "
                "JUSTFACE_IMAGE_MAX_REQUEST_PIXELS."
            ),
            415: _error("Not multipart, or not a JPEG, PNG or WebP image (TIFF, BMP, GIF and the like are refused)."),
            503: _error("The face engine stayed busy for 10 s: send the frame again."),
        },
    )
    def post(self, request):
        key = _idempotency_key(request)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BYTES + _MULTIPART_OVERHEAD:
            raise Rejected(413, f"The image is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        upload = request.FILES.get("image")
        if upload is None:
            raise ValidationError({"detail": "Send the camera frame as the multipart file field 'image'."})
        extra = [request.FILES[name] for name in BURST_FIELDS if name in request.FILES]
        fields = {"image": upload, "direction": request.data.get("direction", "in")}
        if request.data.get("faces", "") != "":
            fields["faces"] = request.data.get("faces")
        valid = _valid(ScanRequestSerializer, fields)
        direction = valid["direction"]
        try:
            frames = read_frames([(f.read(MAX_BYTES + 1), f.content_type or "") for f in (upload, *extra)])
        except FrameRejected as exc:
            raise Rejected(exc.status, exc.detail) from None
        scan, created = services.open_scan(
            device=request.auth,
            method="face",
            direction=direction,
            idempotency_key=key,
            supports=_declared_supports(request),
            faces=valid.get("faces"),
        )
        if created:
            scan = services.decide_face_scan(scan=scan, frame=frames[0], burst=frames[1:])
        return _decision(scan, request)


class ScanDetailView(DeviceView):
    @extend_schema(
        operation_id="door_scan_poll",
        summary="The decision of a scan (long-poll)",
        parameters=[
            OpenApiParameter(
                "wait",
                {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS, "default": 0},
                description=f"Seconds (0 to {MAX_WAIT_SECONDS}) to wait for the decision before answering `pending`.",
                required=False,
            )
        ],
        responses={200: DecisionSerializer, 404: _error("No such scan for this device."), **ERRORS},
    )
    def get(self, request, scan_id: str):
        try:
            wait = float(request.query_params.get("wait", 0))
        except ValueError:
            wait = -1
        if not 0 <= wait <= MAX_WAIT_SECONDS:
            raise ValidationError({"detail": f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS}."})
        scan = _own_scan(request, scan_id)
        if scan is None:
            return Response({"detail": "No such scan for this device."}, status=status.HTTP_404_NOT_FOUND)
        deadline = time.monotonic() + wait
        while not (scan := services.expire_scan_if_stale(scan)).is_decided and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
            scan.refresh_from_db(fields=["status", "reason", "member", "decided_at", "method"])
        return Response(DecisionSerializer(scan, context={"request": request}).data)


class ScanConfirmView(DeviceView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="door_scan_confirm",
        summary="Confirm a grey-zone face with the proposed member's PIN",
        description="Only for a scan whose status is `confirm`, from the device that sent it, within 60 s. One PIN "
        "per scan; it counts against the PIN lockouts of that member number and of the device. Answers "
        "the final decision (method `face_pin`); a scan no longer waiting answers its decision unchanged.",
        request=ConfirmRequestSerializer,
        responses={200: DecisionSerializer, 404: _error("No such scan for this device."), **ERRORS},
    )
    def post(self, request, scan_id: str):
        data = _valid(ConfirmRequestSerializer, request.data)
        scan = _own_scan(request, scan_id)
        if scan is None:
            return Response({"detail": "No such scan for this device."}, status=status.HTTP_404_NOT_FOUND)
        scan = services.confirm_scan(device=request.auth, scan=scan, pin=data["pin"])
        return _decision(scan, request)


class ScanChallengeView(DeviceView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="door_scan_challenge_answer",
        summary="Answer a scan's liveness challenge with a burst of frames",
        description="Only for a scan whose decision came back with status `challenge`. The burst must show the person "
        "turning their head the asked way, the same face throughout, each frame passing the passive "
        "check. Then the scan is decided like any face scan (on the burst's first frame). The challenge "
        "is bound to the tablet it was issued to, expires after 20 s (the scan is then denied "
        "`liveness_failed`) and takes one answer.",
        request={"multipart/form-data": ChallengeAnswerSerializer},
        responses={
            200: DecisionSerializer,
            **ERRORS,
            403: _error("Wrong nonce."),
            404: _error("No such scan for this device (another tablet's challenge is not found either)."),
            409: _error("The challenge was already answered, or the scan has none."),
            413: _error(
                "The burst is larger than 8 MB, a frame has too many pixels, or all frames together more than "
                "JUSTFACE_IMAGE_MAX_REQUEST_PIXELS (default 4096×4096; `detail` says the limit)."
            ),
            415: _error("Not multipart, or a frame that is not a JPEG, PNG or WebP image."),
            503: _error("The face engine stayed busy for 10 s: send the burst again."),
        },
    )
    def post(self, request, scan_id: str):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > liveness.BURST_MAX_BYTES + _MULTIPART_OVERHEAD:
            raise Rejected(413, f"The burst is larger than {liveness.BURST_MAX_BYTES // (1024 * 1024)} MB.")
        scan = _own_scan(request, scan_id)
        if scan is None:
            return Response({"detail": "No such scan for this device."}, status=status.HTTP_404_NOT_FOUND)
        uploads = request.FILES.getlist("frames")
        data = _valid(ChallengeAnswerSerializer, {"nonce": request.data.get("nonce", ""), "frames": uploads})
        try:
            frames = read_frames([(f.read(MAX_BYTES + 1), f.content_type or "") for f in data["frames"]])
        except FrameRejected as exc:
            raise Rejected(exc.status, exc.detail) from None
        try:
            scan = services.answer_challenge(scan=scan, nonce=data["nonce"], frames=frames)
        except liveness.ChallengeRefused as exc:
            return Response({"detail": exc.detail}, status=exc.status)
        return _decision(scan, request)


class PinView(DeviceView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="door_pin",
        summary="Decide a PIN entry (the alternative to face scan)",
        description="5 wrong PINs for a member number, or 20 on a device, lock it for 15 minutes; a tablet past the "
        "chain's daily cap of wrong PINs is locked until staff unlock it or the next day. A locked device answers "
        "`pin_locked`; a locked member number answers exactly like an unknown one or a wrong PIN (`wrong_pin`), "
        "so the pad never tells which numbers exist or are locked.",
        request=PinRequestSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: DecisionSerializer, **ERRORS, 415: _error("Not JSON or a form.")},
    )
    def post(self, request):
        key = _idempotency_key(request)
        data = _valid(PinRequestSerializer, request.data)
        scan = services.decide_pin(
            device=request.auth,
            member_number=data["member_number"],
            pin=data["pin"],
            direction=data["direction"],
            idempotency_key=key,
        )
        return _decision(scan, request)


class HeartbeatView(DeviceView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="door_heartbeat",
        summary="Report the tablet's status; get the door's configuration",
        request=HeartbeatSerializer,
        responses={200: DoorConfigurationSerializer, **ERRORS},
    )
    def post(self, request):
        status_report = _valid(HeartbeatSerializer, request.data)
        services.record_heartbeat(device=request.auth, status=status_report)
        return Response(door_configuration(request.auth))
