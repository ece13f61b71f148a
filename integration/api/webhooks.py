"""The chain's webhook endpoints through the integration API (scope `webhooks:manage`): list,
create (the `whsec_` signing secret answered once), change, new secret (once), delete, the recent
deliveries of one endpoint (status, attempts, latency; never a body) and replay. Every write goes
through webhooks.services, which checks URLs against server-side request forgery and audits by
the key; an endpoint or delivery of another chain is not found (404)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from integration.api import schema
from integration.api.base import IntegrationAPIView
from integration.models import Scope
from webhooks import events, services
from webhooks.models import WebhookDelivery, WebhookEndpoint

MAX_DELIVERIES = 200


class WebhookEndpointIn(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="HTTPS on a public address; redirects are not followed.")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(list(events.EVENT_TYPES)), help_text="The events feed's types."
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookEndpointChange(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    event_types = serializers.ListField(child=serializers.ChoiceField(list(events.EVENT_TYPES)), required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)


class WebhookEndpointOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField(help_text="`manual`, `failing` or empty.")
    failing_since = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret = serializers.CharField(help_text="The signing secret (`whsec_…`): shown this once.")


class WebhookDeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.CharField(help_text="The `webhook-id` header.")
    event_type = serializers.CharField()
    status = serializers.ChoiceField(WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    last_status = serializers.IntegerField(allow_null=True, help_text="The last answer's HTTP status.")
    latency_ms = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    replay_of = serializers.IntegerField(allow_null=True)


NOT_FOUND = OpenApiResponse(description="No such endpoint (or delivery) of the key's chain.")
BAD = OpenApiResponse(description="`detail` says what is wrong (an address refused, an unknown event type, …).")
ENDPOINT_LIST = inline_serializer("WebhookEndpointList", {"endpoints": WebhookEndpointOut(many=True)})
DELIVERY_LIST = inline_serializer("WebhookDeliveryList", {"deliveries": WebhookDeliveryOut(many=True)})
SECRET = inline_serializer("WebhookSecret", {"secret": serializers.CharField(help_text="Shown this once.")})


def endpoint_json(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since,
        "created_at": endpoint.created_at,
    }


def delivery_json(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.pk,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "latency_ms": delivery.latency_ms,
        "created_at": delivery.created_at,
        "finished_at": delivery.finished_at,
        "replay_of": delivery.replay_of_id,
    }


def _first_message(errors) -> str:
    """The first message of DRF's nested errors (a list item's are keyed by its index)."""
    while not isinstance(errors, str):
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors)


def _valid(serializer_class, data, *, partial: bool = False) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"detail": "Send a JSON object."})
    serializer = serializer_class(data=data, partial=partial)
    if not serializer.is_valid():
        field, errors = next(iter(serializer.errors.items()))
        raise ValidationError({"detail": f"{field}: {_first_message(errors)}", "field": field})
    return serializer.validated_data


class WebhooksAPIView(IntegrationAPIView):
    required_scope = Scope.WEBHOOKS_MANAGE

    def endpoint(self, endpoint_id: int) -> WebhookEndpoint:
        found = WebhookEndpoint.objects.filter(chain_id=self.key.chain_id, pk=endpoint_id).first()
        if found is None:
            raise Http404
        return found


class EndpointsView(WebhooksAPIView):
    audit_name = "webhooks"

    @extend_schema(
        operation_id="integration_webhooks_list",
        responses={200: ENDPOINT_LIST, 403: schema.FORBIDDEN, 429: schema.RATE},
        description="The chain's webhook endpoints (never their secrets).",
    )
    def get(self, request):
        rows = WebhookEndpoint.objects.filter(chain_id=self.key.chain_id).order_by("pk")
        return Response({"endpoints": [endpoint_json(e) for e in rows]})

    @extend_schema(
        operation_id="integration_webhooks_create",
        request=WebhookEndpointIn,
        responses={201: WebhookEndpointWithSecret, 400: BAD, 403: schema.FORBIDDEN, 429: schema.RATE},
        description="Subscribe a URL to event types. The answer holds the signing secret, shown this once.",
    )
    def post(self, request):
        data = _valid(WebhookEndpointIn, request.data)
        endpoint, secret = services.create_endpoint(
            chain=self.key.chain,
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description", ""),
            actor=self.key,
        )
        response = Response({**endpoint_json(endpoint), "secret": secret}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class EndpointView(WebhooksAPIView):
    audit_name = "webhook"

    @extend_schema(
        operation_id="integration_webhook",
        responses={200: WebhookEndpointOut, 403: schema.FORBIDDEN, 404: NOT_FOUND},
        description="One endpoint of the chain.",
    )
    def get(self, request, endpoint_id: int):
        return Response(endpoint_json(self.endpoint(endpoint_id)))

    @extend_schema(
        operation_id="integration_webhook_change",
        request=WebhookEndpointChange,
        responses={200: WebhookEndpointOut, 400: BAD, 403: schema.FORBIDDEN, 404: NOT_FOUND},
        description="Change the URL (checked like a new one's), the event types, the description, or enable "
        "or disable the endpoint (a disabled endpoint's waiting deliveries fail; replay them later).",
    )
    def patch(self, request, endpoint_id: int):
        endpoint = self.endpoint(endpoint_id)
        data = _valid(WebhookEndpointChange, request.data, partial=True)
        services.change_endpoint(
            endpoint=endpoint,
            actor=self.key,
            url=data.get("url"),
            event_types=data.get("event_types"),
            description=data.get("description"),
        )
        if "enabled" in data:
            services.set_enabled(endpoint=endpoint, enabled=data["enabled"], actor=self.key)
        return Response(endpoint_json(endpoint))

    @extend_schema(
        operation_id="integration_webhook_delete",
        responses={204: None, 403: schema.FORBIDDEN, 404: NOT_FOUND},
        description="Delete the endpoint and its delivery log.",
    )
    def delete(self, request, endpoint_id: int):
        services.delete_endpoint(endpoint=self.endpoint(endpoint_id), actor=self.key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecretView(WebhooksAPIView):
    audit_name = "webhook secret"

    @extend_schema(
        operation_id="integration_webhook_rotate_secret",
        request=None,
        responses={200: SECRET, 403: schema.FORBIDDEN, 404: NOT_FOUND},
        description="A new signing secret, shown this once; the old one stops signing at once.",
    )
    def post(self, request, endpoint_id: int):
        secret = services.rotate_secret(endpoint=self.endpoint(endpoint_id), actor=self.key)
        response = Response({"secret": secret})
        response["Cache-Control"] = "no-store"
        return response


class DeliveriesView(WebhooksAPIView):
    audit_name = "webhook deliveries"

    @extend_schema(
        operation_id="integration_webhook_deliveries",
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_DELIVERIES} (default 50).")],
        responses={200: DELIVERY_LIST, 400: BAD, 403: schema.FORBIDDEN, 404: NOT_FOUND},
        description="The endpoint's most recent deliveries, newest first: status, attempts, latency; never a body.",
    )
    def get(self, request, endpoint_id: int):
        endpoint = self.endpoint(endpoint_id)
        raw = request.query_params.get("limit", "50")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_DELIVERIES:
            raise ValidationError({"detail": f"limit must be a whole number from 1 to {MAX_DELIVERIES}."})
        rows = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")[: int(raw)]
        return Response({"deliveries": [delivery_json(d) for d in rows]})


class ReplayView(WebhooksAPIView):
    audit_name = "webhook replay"

    @extend_schema(
        operation_id="integration_webhook_replay",
        request=None,
        responses={202: WebhookDeliveryOut, 400: BAD, 403: schema.FORBIDDEN, 404: NOT_FOUND},
        description="Send a delivery's event again (same `webhook-id` and body) as a new delivery. Refused (400) "
        "when the body was erased by the retention rule or the endpoint is disabled.",
    )
    def post(self, request, endpoint_id: int, delivery_id: int):
        delivery = WebhookDelivery.objects.filter(endpoint=self.endpoint(endpoint_id), pk=delivery_id).first()
        if delivery is None:
            raise Http404
        again = services.replay(delivery=delivery, actor=self.key)
        return Response(delivery_json(again), status=status.HTTP_202_ACCEPTED)
