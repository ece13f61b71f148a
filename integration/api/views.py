"""The integration API at /api/v1/integration/ (docs/integration.md): members by the chain's own
id, in bulk, changed since a cursor; events since a cursor. Every answer concerns the key's own
chain only."""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from integration import feed, idempotency
from integration.api import schema
from integration.api.base import IntegrationAPIView
from integration.api.parsers import BadLine, LimitedJSONParser, NDJSONParser
from integration.models import FeedEvent, MemberChange, Scope
from integration.sync import MAX_ROWS, Outcome, normalised_external_id, upsert_member, upsert_members
from justface import audit
from members.models import Member, member_number_hash

MAX_PAGE = 1000
DEFAULT_PAGE = 500
MAX_CURSOR = 2**63 - 1

OUTCOME = OpenApiResponse(schema.RowOutcome, description="The row's outcome: created, updated or unchanged.")
ROW_ERROR = OpenApiResponse(schema.RowOutcome, description="The member was refused: `field` and `message` say why.")
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", int, description="`next_cursor` of the previous page; 0 (or none) from the start."),
    OpenApiParameter("limit", int, description=f"Rows per page, 1 to {MAX_PAGE} (default {DEFAULT_PAGE})."),
]


def _how(view) -> str:
    return f"integration key #{view.key.pk}"


def _outcome_answer(outcome: Outcome) -> tuple[dict, int]:
    body = outcome.as_dict()
    if outcome.outcome == "error":
        body["detail"] = f"{outcome.field}: {outcome.message}" if outcome.field else outcome.message
        return body, status.HTTP_400_BAD_REQUEST
    return body, status.HTTP_201_CREATED if outcome.outcome == "created" else status.HTTP_200_OK


class MemberView(IntegrationAPIView):
    """PUT (members:write) creates or updates; GET (members:read) reads the member as it is now."""

    parser_classes = [LimitedJSONParser]

    @property
    def required_scope(self) -> str:
        return Scope.MEMBERS_READ if self.request.method == "GET" else Scope.MEMBERS_WRITE

    @property
    def audit_name(self) -> str:
        return f"{self.request.method} members/{{external_id}}"

    @extend_schema(
        operation_id="integration_member_get",
        responses={
            200: OpenApiResponse(schema.IntegrationMember, description="The member."),
            403: schema.FORBIDDEN,
            404: OpenApiResponse(description="No member of the key's chain has that number."),
            429: schema.RATE,
        },
        description="One member of the chain by the chain's own id, as `GET members` shows it.",
    )
    def get(self, request, external_id: str):
        member = (
            Member.objects.filter(chain_id=self.key.chain_id, member_number_hash=member_number_hash(external_id))
            .select_related("home_centre")
            .first()
        )
        if member is None:
            return Response({"detail": "No member of this chain has that external_id."}, status=404)
        audit.record(action="member.view", actor=self.key, obj=member, reason="integration API")
        change = MemberChange.objects.filter(member=member).first() or MemberChange(
            member=member, changed_at=member.updated_at
        )
        change.member = member
        return Response(member_json(change))

    @extend_schema(
        operation_id="integration_member_put",
        request=schema.MemberFields,
        responses={200: OUTCOME, 201: OUTCOME, 400: ROW_ERROR, 403: schema.FORBIDDEN, 429: schema.RATE},
        description="Create or update one member by the chain's own id (the member number). Fields left out "
        "stay as they are; the same body twice answers `unchanged` and writes nothing.",
    )
    def put(self, request, external_id: str):
        if not isinstance(request.data, dict):
            raise ValidationError({"detail": "Send the member as a JSON object."})
        named = request.data.get("external_id", external_id)
        if not isinstance(named, str) or normalised_external_id(named) != normalised_external_id(external_id):
            raise ValidationError({"detail": "external_id: the body names another member than the path."})
        outcome = upsert_member(
            chain=self.key.chain, external_id=external_id, data=request.data, actor=self.key, how=_how(self)
        )
        body, code = _outcome_answer(outcome)
        return Response(body, status=code)


def _rows(data) -> list:
    rows = data.get("members") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ValidationError({"detail": 'Send a JSON list of members, {"members": [...]}, or NDJSON.'})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"detail": f"At most {MAX_ROWS} members in one request; split it."})
    if not rows:
        raise ValidationError({"detail": "The request holds no member."})
    return rows


def _canonical(rows: list) -> bytes:
    return json.dumps(
        [r.message if isinstance(r, BadLine) else r for r in rows], sort_keys=True, separators=(",", ":")
    ).encode()


def bulk_outcomes(*, view, rows: list) -> list[dict]:
    """Each row's outcome, in order; rows that are no member object are answered as errors."""
    answers: list[dict | None] = [None] * len(rows)
    good: list[tuple[int, tuple]] = []
    for n, row in enumerate(rows):
        if isinstance(row, BadLine):
            answers[n] = {"external_id": "", "outcome": "error", "field": None, "message": row.message}
        elif not isinstance(row, dict):
            answers[n] = {"external_id": "", "outcome": "error", "field": None, "message": "Not a JSON object."}
        else:
            good.append((n, (row.get("external_id"), {k: v for k, v in row.items() if k != "external_id"})))
    outcomes = upsert_members(chain=view.key.chain, rows=[r for _n, r in good], actor=view.key, how=_how(view))
    for (n, _row), outcome in zip(good, outcomes, strict=True):
        answers[n] = outcome.as_dict()
    return [{"row": n + 1, **answer} for n, answer in enumerate(answers)]


class BulkView(IntegrationAPIView):
    required_scope = Scope.MEMBERS_WRITE
    audit_name = "POST members/bulk"
    parser_classes = [LimitedJSONParser, NDJSONParser]

    @extend_schema(
        operation_id="integration_members_bulk",
        request={"application/json": schema.BulkMember(many=True), "application/x-ndjson": OpenApiTypes.STR},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Makes the request safe to retry: the same key and body answer the first answer again.",
            )
        ],
        responses={
            200: OpenApiResponse(schema.BulkAnswer, description="Every row's outcome, and the counts."),
            403: schema.FORBIDDEN,
            409: OpenApiResponse(description="A request with this Idempotency-Key is still under way."),
            413: OpenApiResponse(description="The body is larger than JUSTFACE_INTEGRATION_MAX_BODY_MB."),
            422: OpenApiResponse(description="This Idempotency-Key was used with other members."),
            429: schema.RATE,
        },
        description=f"Up to {MAX_ROWS} members, each with its `external_id`; every row is answered "
        "(created, updated, unchanged, or error with field and message). A bad row never stops the others.",
    )
    def post(self, request):
        rows = _rows(request.data)
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return Response(self._carry_out(rows))
        claim = idempotency.claim(chain=self.key.chain, key=key, request_hash=idempotency.body_hash(_canonical(rows)))
        if claim.replay is not None:
            response = Response(claim.replay.response, status=claim.replay.status)
            response["Idempotent-Replayed"] = "true"
            return response
        if claim.row is None:
            return Response({"detail": claim.problem}, status=claim.status)
        try:
            answer = self._carry_out(rows)
        except BaseException:
            idempotency.release(claim.row)
            raise
        idempotency.store(claim.row, status=200, response=answer)
        return Response(answer)

    def _carry_out(self, rows: list) -> dict:
        results = bulk_outcomes(view=self, rows=rows)
        counts = {name: 0 for name in ("created", "updated", "unchanged", "error")}
        for result in results:
            counts[result["outcome"]] += 1
        return {"counts": counts, "results": results}


def _page_arguments(request) -> tuple[int, int]:
    try:
        after = int(request.query_params.get("cursor") or 0)
        limit = int(request.query_params.get("limit") or DEFAULT_PAGE)
    except ValueError:
        raise ValidationError({"detail": "cursor and limit must be whole numbers."}) from None
    if not 0 <= after <= MAX_CURSOR or not 1 <= limit <= MAX_PAGE:
        raise ValidationError({"detail": f"cursor must be 0 or more, limit 1 to {MAX_PAGE}."})
    return after, limit


def member_json(change: MemberChange) -> dict:
    m = change.member
    return {
        "cursor": change.seq,
        "external_id": m.member_number,
        "member_id": m.pk,
        "first_name": m.first_name,
        "last_name": m.last_name,
        "birth_date": m.birth_date.isoformat() if m.birth_date else None,
        "gender": m.gender,
        "email": m.email,
        "phone": m.phone,
        "address": m.address,
        "guardian_name": m.guardian_name,
        "guardian_email": m.guardian_email,
        "home_centre": m.home_centre.slug,
        "membership_type": m.membership_type,
        "start_date": m.start_date.isoformat() if m.start_date else None,
        "end_date": m.end_date.isoformat() if m.end_date else None,
        "status": m.status,
        "ended_at": m.ended_at.isoformat() if m.ended_at else None,
        "changed_at": change.changed_at.isoformat(),
    }


class MembersFeedView(IntegrationAPIView):
    required_scope = Scope.MEMBERS_READ
    audit_name = "GET members"

    @extend_schema(
        operation_id="integration_members_changed",
        parameters=PAGE_PARAMETERS,
        responses={200: OpenApiResponse(schema.MemberPage), 403: schema.FORBIDDEN, 429: schema.RATE},
        description="The chain's members changed since the cursor, oldest change first, as they are now. "
        "Complete and without duplicates however the members change meanwhile: a member changed again "
        "comes again, later.",
    )
    def get(self, request):
        after, limit = _page_arguments(request)
        chain_id = self.key.chain_id
        rows, cursor, more = feed.page(chain_id=chain_id, stream=feed.MEMBERS, after=after, limit=limit)
        if rows:
            audit.record(
                action="member.list",
                actor=self.key,
                object_type="members.member",
                chain_id=chain_id,
                reason=f"integration feed; {len(rows)} member(s)",
            )
        return Response({"members": [member_json(r) for r in rows], "next_cursor": cursor, "has_more": more})


def event_json(event: FeedEvent) -> dict:
    return {"cursor": event.seq, "type": event.kind, **feed.event_data(occurred_at=event.occurred_at, data=event.data)}


class EventsView(IntegrationAPIView):
    required_scope = Scope.EVENTS_READ
    audit_name = "GET events"

    @extend_schema(
        operation_id="integration_events",
        parameters=PAGE_PARAMETERS,
        responses={200: OpenApiResponse(schema.EventPage), 403: schema.FORBIDDEN, 429: schema.RATE},
        description="Access events (check-ins, check-outs, refusals with their reason code, door alarms), "
        "consent given or withdrawn, and erasures, since the cursor: ids, member numbers and codes, never a "
        "template, a photo or a score.",
    )
    def get(self, request):
        after, limit = _page_arguments(request)
        rows, cursor, more = feed.page(chain_id=self.key.chain_id, stream=feed.EVENTS, after=after, limit=limit)
        return Response({"events": [event_json(e) for e in rows], "next_cursor": cursor, "has_more": more})
