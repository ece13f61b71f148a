"""Webhook writes: endpoints (made, enabled, disabled), events emitted into the delivery log, and
replays. The admin, the command, the integration API and the events (integration.signals) come here; the
worker's side is webhooks.delivery."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from justface import audit
from members.models import Chain
from webhooks import events, sending, ssrf
from webhooks.models import PumpBeat, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

PUMP = "webhooks.delivery.pump"
# A pump that said it is running this recently still is (its beat goes at every batch; a batch to
# slow endpoints may take a minute); one that died longer ago is replaced by the next kick.
BEAT_FRESH = timedelta(minutes=2)


def beat_fresh(now: datetime) -> Q:
    """The beat of a pump that is running (the one test of it: kick, and a pump that starts)."""
    return Q(beat_at__gte=now - BEAT_FRESH)


def checked_url(url: str) -> str:
    """The URL if a webhook may be sent there now (webhooks.ssrf), else ValidationError."""
    try:
        ssrf.resolve(url)
    except ssrf.Refused as refused:
        raise ValidationError(str(refused), code="url") from None
    return url.strip()


def checked_event_types(types: list[str]) -> list[str]:
    unknown = [t for t in types if t not in events.EVENT_TYPES]
    if unknown or not types:
        raise ValidationError(
            _("Choose event types from: %(types)s.") % {"types": ", ".join(events.EVENT_TYPES)}, code="event_types"
        )
    return [t for t in events.EVENT_TYPES if t in types]


def create_endpoint(
    *, chain: Chain, url: str, event_types: list[str], description: str = "", actor
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (`whsec_…`), which the caller shows once."""
    endpoint = WebhookEndpoint(
        chain=chain,
        url=checked_url(url),
        event_types=checked_event_types(event_types),
        description=description[:200],
        secret=sending.new_secret(),
    )
    endpoint.full_clean()
    with transaction.atomic():
        endpoint.save()
        audit.record(action="webhook.create", actor=actor, obj=endpoint, reason="")
    return endpoint, endpoint.secret


def change_endpoint(
    *,
    endpoint: WebhookEndpoint,
    actor,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
) -> list[str]:
    """Change what is given (the URL checked like a new one's); returns the fields changed."""
    changed = []
    if url is not None and url.strip() != endpoint.url:
        endpoint.url, changed = checked_url(url), [*changed, "url"]
    if event_types is not None:
        types = checked_event_types(event_types)
        if types != endpoint.event_types:
            endpoint.event_types, changed = types, [*changed, "event_types"]
    if description is not None and description[:200] != endpoint.description:
        endpoint.description, changed = description[:200], [*changed, "description"]
    if changed:
        endpoint.full_clean()
        with transaction.atomic():
            endpoint.save(update_fields=changed)
            audit.record(action="webhook.change", actor=actor, obj=endpoint, reason=", ".join(changed))
    return changed


def delete_endpoint(*, endpoint: WebhookEndpoint, actor) -> None:
    """The endpoint and its delivery log go; nothing more is sent to it."""
    with transaction.atomic():
        audit.record(action="webhook.delete", actor=actor, obj=endpoint)
        endpoint.delete()


def rotate_secret(*, endpoint: WebhookEndpoint, actor) -> str:
    """A new signing secret for the endpoint (shown once); the old one stops signing at once."""
    endpoint.secret = sending.new_secret()
    with transaction.atomic():
        endpoint.save(update_fields=["secret"])
        audit.record(action="webhook.rotate_secret", actor=actor, obj=endpoint)
    return endpoint.secret


def set_enabled(*, endpoint: WebhookEndpoint, enabled: bool, actor, reason: str = "") -> bool:
    """Enable (the failure counts start again) or disable an endpoint; False if it already was."""
    if endpoint.enabled == enabled:
        return False
    now = timezone.now()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            enabled=enabled,
            disabled_reason="" if enabled else (reason or WebhookEndpoint.DisabledReason.MANUAL),
            disabled_at=None if enabled else now,
            failing_since=None,
            failed_in_a_row=0,
        )
        if not enabled:
            give_up_pending(endpoint=endpoint, now=now)
        audit.record(action="webhook.enable" if enabled else "webhook.disable", actor=actor, obj=endpoint)
    endpoint.refresh_from_db()
    return True


def give_up_pending(*, endpoint: WebhookEndpoint, now: datetime) -> int:
    """A disabled endpoint gets nothing more: what waited for it fails (staff may replay it)."""
    return WebhookDelivery.objects.filter(
        endpoint=endpoint, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING]
    ).update(status=WebhookDelivery.Status.FAILED, finished_at=now, next_at=None, last_error="endpoint disabled")


def body_of(*, event_type: str, data: dict, at: datetime) -> str:
    """The JSON sent (and signed): {"type", "timestamp", "data"}, as Standard Webhooks suggests."""
    stamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": stamp, "data": data}, separators=(",", ":"), sort_keys=True)


def emit(*, chain_id: int, event_type: str, data: dict, member_id: int | None = None) -> int:
    """Log the event for every enabled endpoint of the chain subscribed to its type, in the
    caller's transaction, and queue the sending once that transaction commits. Never waits for
    a delivery (a door decision calls this). `data` holds ids and external ids only. Returns the
    number of deliveries made."""
    if event_type not in events.EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    endpoints = [
        pk
        for pk, types in WebhookEndpoint.objects.filter(chain_id=chain_id, enabled=True).values_list(
            "pk", "event_types"
        )
        if event_type in types
    ]
    if not endpoints:
        return 0
    now = timezone.now()
    event_id = f"msg_{uuid.uuid4().hex}"
    body = body_of(event_type=event_type, data=data, at=now)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=pk,
            event_id=event_id,
            event_type=event_type,
            body=body,
            member_id=member_id,
            next_at=now,
            created_at=now,
        )
        for pk in endpoints
    )
    kick_on_commit()
    return len(endpoints)


def kick_on_commit() -> None:
    """One kick when the caller's transaction commits, however many events it logs in one block
    (a door's batch, a purge): a kick already waiting at this block's level covers them all."""
    connection = transaction.get_connection()
    here = set(connection.savepoint_ids)
    # run_on_commit holds (savepoint ids at registration, callback, robust)
    if not any(entry[1] is kick and entry[0] == here for entry in connection.run_on_commit):
        transaction.on_commit(kick)


def kick() -> None:
    """Queue a pump task (django-q2) unless one is running (its beat is fresh: it will see these
    deliveries). Never raises: if the queue cannot be reached, the minute's scheduled pump sends."""
    try:
        from django_q.conf import Conf
        from django_q.tasks import async_task

        if Conf.SYNC:  # tests: the task runs here and now, so it must not linger
            async_task(PUMP, linger=0, save=False)
        elif not PumpBeat.objects.filter(beat_fresh(timezone.now()), pk=1).exists():
            async_task(PUMP, save=False)
    except Exception:
        logger.exception("webhooks: could not queue the sending; the scheduled pump will send")


def replay(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same webhook-id (receivers
    deduplicate by it) and body. Refused if the body was erased or the endpoint is disabled."""
    endpoint = delivery.endpoint
    if not delivery.body:
        raise ValidationError(_("The body of this delivery was erased; it cannot be sent again."), code="erased")
    if not endpoint.enabled:
        raise ValidationError(_("Enable the endpoint first."), code="disabled")
    now = timezone.now()
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            body=delivery.body,
            member_id=delivery.member_id,
            next_at=now,
            created_at=now,
            replay_of=delivery,
        )
        audit.record(
            action="webhook_delivery.replay",
            actor=actor,
            obj=again,
            chain_id=endpoint.chain_id,
            reason=f"replay of delivery {delivery.pk}",
        )
        kick_on_commit()
    return again


def retention_days() -> int:
    return settings.JUSTFACE_WEBHOOK_BODY_DAYS
