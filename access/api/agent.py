"""The door agent's REST API (/api/v1/agent/, docs/door-agent.md): a long poll for signed
open commands and the agent's reports. Only `Authorization: Agent <token>`: a tablet's device
token gets 401 here, and the tablet API never hands out a command."""

from __future__ import annotations

import math
import re
import threading

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from access import door_agents
from access.api.serializers import ErrorSerializer
from access.authentication import AgentAuthentication
from justface.rest import JSONParser

MAX_EVENTS = 100
MAX_BODY = 64 * 1024
_NONCE = re.compile(r"^[0-9a-f]{32}$")
_SHORT_TEXT = re.compile(r"^[\x20-\x7e]{0,64}$")
# A report's id: the agent's queue stream (16 hex) and its sequence number there.
_REPORT_ID = re.compile(r"^([0-9a-f]{16}):([1-9][0-9]{0,17})$")
# Held long polls per process (each holds one gunicorn thread while it waits): the rest of the
# threads stay free for the tablets. README "Door agents" says how many doors a node holds.
_held = threading.BoundedSemaphore(max(1, getattr(settings, "JUSTFACE_DOOR_AGENT_HELD_PER_PROCESS", 2)))


class Busy(APIException):
    # 429, not 503: the server is well, this process's held polls are all taken (a 5xx would be
    # logged as a server error for an expected, self-healing condition).
    status_code = 429
    wait = 1  # DRF's handler sends it as Retry-After
    default_detail = "Every held poll of this server process is taken; poll again after Retry-After seconds."


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input; `detail` says what."),
    401: OpenApiResponse(ErrorSerializer, description="Missing, unknown or revoked agent credential."),
}


class SignedCommandSerializer(serializers.Serializer):
    payload = serializers.CharField(help_text="base64url of the canonical JSON payload (docs/door-agent.md).")
    kid = serializers.CharField(help_text="Key id: the first 16 hex characters of SHA-256 of the public key.")
    signature = serializers.CharField(help_text="base64url of the Ed25519 signature of the payload bytes.")


class DoorCommandsSerializer(serializers.Serializer):
    commands = SignedCommandSerializer(many=True)


class AgentView(APIView):
    authentication_classes = [AgentAuthentication]
    permission_classes = [IsAuthenticated]


class CommandsView(AgentView):
    @extend_schema(
        operation_id="agent_commands",
        summary="Wait for signed open commands for the agent's door (long poll)",
        parameters=[
            OpenApiParameter(
                "wait",
                {"type": "number", "minimum": 0, "maximum": door_agents.MAX_WAIT, "default": door_agents.DEFAULT_WAIT},
                required=False,
                description=f"Hold the request up to this many seconds (0 to {door_agents.MAX_WAIT}) until a "
                "command for the agent's door is pending; each command is handed out once.",
            )
        ],
        responses={
            200: DoorCommandsSerializer,
            429: OpenApiResponse(
                ErrorSerializer, description="Every held poll of this process is taken: poll again after Retry-After."
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        raw = request.query_params.get("wait", str(door_agents.DEFAULT_WAIT))
        try:
            wait = float(raw)
        except ValueError:
            raise ValidationError({"detail": f"wait must be a number of seconds, 0..{door_agents.MAX_WAIT}."}) from None
        if not math.isfinite(wait) or not 0 <= wait <= door_agents.MAX_WAIT:
            raise ValidationError({"detail": f"wait must be a number of seconds, 0..{door_agents.MAX_WAIT}."})
        agent = request.auth
        if wait and _held.acquire(blocking=False):
            try:
                commands = door_agents.wait_for_commands(agent=agent, wait=wait)
            finally:
                _held.release()
        else:
            commands = door_agents.wait_for_commands(agent=agent, wait=0)
            if wait and not commands:
                raise Busy()
        return Response({"commands": [c.as_delivered() for c in commands]})


class ReportsView(AgentView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="agent_reports",
        summary="Report relay moves, door contact changes and heartbeats",
        request=inline_serializer(
            "AgentReports",
            {
                "events": serializers.ListField(
                    child=serializers.DictField(),
                    help_text='Each one of {"type": "relay", "nonce", "event", "at"}, {"type": "contact", "state": '
                    '"open"|"closed", "at"}, {"type": "heartbeat", "at", "version", "driver"}; `at` in unix seconds; '
                    'each may carry `id` ("<stream>:<seq>", the agent\'s queue numbering): a report whose id was '
                    "applied already is skipped.",
                    max_length=MAX_EVENTS,
                )
            },
        ),
        responses={200: inline_serializer("AgentReportsAccepted", {"accepted": serializers.IntegerField()}), **ERRORS},
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY:
            raise ValidationError({"detail": f"The body must be JSON of at most {MAX_BODY} bytes."})
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise ValidationError({"detail": 'Send a JSON object {"events": [...]}.'})
        if len(data["events"]) > MAX_EVENTS:
            raise ValidationError({"detail": f"At most {MAX_EVENTS} events per report."})
        events = [_event(i, e) for i, e in enumerate(data["events"])]
        return Response({"accepted": door_agents.record_reports(agent=request.auth, events=events)})


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _event(index: int, event) -> dict:
    def bad(what: str) -> ValidationError:
        return ValidationError({"detail": f"events[{index}]: {what}"})

    if not isinstance(event, dict):
        raise bad("must be a JSON object.")
    kind = event.get("type")
    at = event.get("at")
    if not _number(at) or not 0 < at < 1e11:
        raise bad("`at` must be unix seconds (a number).")
    out = _with_id(event, bad)
    if kind == "relay":
        nonce, access_event = event.get("nonce"), event.get("event")
        if not isinstance(nonce, str) or not _NONCE.match(nonce):
            raise bad("`nonce` must be the command's 32 hex characters.")
        if not isinstance(access_event, int) or isinstance(access_event, bool) or not 0 < access_event < 2**63:
            raise bad("`event` must be the command's access event id (an integer).")
        return out | {"type": kind, "nonce": nonce, "event": access_event, "at": float(at)}
    if kind == "contact":
        if event.get("state") not in ("open", "closed"):
            raise bad('`state` must be "open" or "closed".')
        return out | {"type": kind, "state": event["state"], "at": float(at)}
    if kind == "heartbeat":
        out |= {"type": kind, "at": float(at)}
        for field in ("version", "driver"):
            value = event.get(field, "")
            if not isinstance(value, str) or not _SHORT_TEXT.match(value):
                raise bad(f"`{field}` must be up to 64 printable ASCII characters.")
            out[field] = value
        return out
    raise bad('`type` must be "relay", "contact" or "heartbeat".')


def _with_id(event: dict, bad) -> dict:
    """{"stream", "seq"} of the report's optional `id` ("<16 hex>:<sequence number>"): a report
    sent again (its answer was lost, the agent restarted) is then applied once."""
    if "id" not in event:
        return {}
    match = _REPORT_ID.match(event["id"]) if isinstance(event["id"], str) else None
    if match is None:
        raise bad("`id` must be <16 hex characters>:<a sequence number from 1>.")
    return {"stream": match[1], "seq": int(match[2])}
