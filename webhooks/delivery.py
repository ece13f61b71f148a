"""The worker's side of webhooks (django-q2): claim due deliveries, send them, record the outcome,
retry with back-off for about a day, disable an endpoint that keeps failing, purge old bodies.

`pump` runs as a task queued after a commit that logged deliveries when no pump is running
(webhooks.services.kick), and every minute from the schedule (retries come due there). One pump
sends at a time (take_the_beat), so the pace set for the machine holds; yet claims do not rely
on that: each claims its deliveries with a compare-and-set (pending and due -> sending, with a
claim token and a lease), so no two send one delivery; a pump that dies leaves its claims to
lapse after LEASE, and the delivery is sent again (receivers deduplicate by webhook-id, as the
scheme says)."""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation

from justface import audit
from justface.mail import send_on_commit
from justface.tenancy import Role
from members.models import StaffRole
from webhooks import sending
from webhooks.models import PumpBeat, WebhookDelivery, WebhookEndpoint
from webhooks.services import beat_fresh, give_up_pending, kick

logger = logging.getLogger(__name__)

# After the first attempt: the waits before each further one (Standard Webhooks' and Svix's
# schedule), 8 attempts over about 27 hours.
BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=2)  # longer than a batch can take: BATCH / SEND_THREADS * TOTAL_SECONDS
BATCH = 64
SEND_THREADS = 16
LINGER_SECONDS = 2.0  # how long a pump waits for more before it ends
# Between claims of a trickle (a batch not full) and while idle: the next claim takes more at
# once, so a door's steady events cost a few statements a second, not a few per event.
GATHER_SECONDS = 0.2
PUMP_SECONDS = 240  # below the task time-out (Q_CLUSTER timeout 300)
BEAT_EVERY = 5.0  # while busy (far inside services.BEAT_FRESH): not a write per batch
Status = WebhookDelivery.Status

_executor: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        # The worker process already runs below the door (justface.worker_priority); its threads too.
        _executor = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="webhook-send")
    return _executor


def claim(*, limit: int = BATCH) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries of enabled endpoints, oldest first: pending -> sending
    with this claim's token and lease, in one UPDATE whose WHERE is the compare-and-set (still
    pending and due); rows another pump holds are skipped, not waited for (PostgreSQL). Each
    delivery comes back with its endpoint, read once per endpoint (its secret decrypted once)."""
    now = timezone.now()
    table = connection.ops.quote_name(WebhookDelivery._meta.db_table)
    endpoints_table = connection.ops.quote_name(WebhookEndpoint._meta.db_table)
    skip_locked = " FOR UPDATE OF d SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    at, lease = (connection.ops.adapt_datetimefield_value(t) for t in (now, now + LEASE))
    fields = ("id", "endpoint_id", "event_id", "event_type", "body", "member_id", "status", "attempts", "claim")
    # One statement instead of a SELECT of ids, an UPDATE and a SELECT back: the claim's share
    # of the database's CPU, which runs at the door's priority, is what the door feels.
    claimed = WebhookDelivery.objects.raw(
        f"UPDATE {table} SET status = %s, claim = %s, next_at = %s "
        f"WHERE id IN (SELECT d.id FROM {table} d JOIN {endpoints_table} e ON e.id = d.endpoint_id "
        f"WHERE d.status = %s AND d.next_at <= %s AND e.enabled ORDER BY d.next_at, d.id LIMIT %s{skip_locked}) "
        f"AND status = %s AND next_at <= %s "
        f"RETURNING {', '.join(fields)}",
        [Status.SENDING, uuid.uuid4().hex, lease, Status.PENDING, at, limit, Status.PENDING, at],
    )
    batch = list(claimed)
    if not batch:
        return []
    endpoints = WebhookEndpoint.objects.in_bulk({d.endpoint_id for d in batch})
    for delivery in batch:
        delivery.endpoint = endpoints[delivery.endpoint_id]
    return sorted(batch, key=lambda d: d.pk)


def recover_lapsed() -> int:
    """Claims whose pump died (lease over) go back to pending, due now."""
    now = timezone.now()
    return WebhookDelivery.objects.filter(status=Status.SENDING, next_at__lt=now).update(
        status=Status.PENDING, claim="", next_at=now
    )


def _send(delivery: WebhookDelivery) -> sending.Outcome:
    try:
        return sending.post(
            url=delivery.endpoint.url,
            secret=delivery.endpoint.secret,
            msg_id=delivery.event_id,
            body=delivery.body.encode(),
        )
    except Exception:  # a bug here must not stop the batch: the attempt fails and is retried
        logger.exception("webhooks: attempt of delivery %s failed unexpectedly", delivery.pk)
        return sending.Outcome(ok=False, error="internal error")


def send_batch(deliveries: list[WebhookDelivery]) -> tuple[int, int]:
    outcomes = list(_threads().map(_send, deliveries))
    sent = [(d, o) for d, o in zip(deliveries, outcomes, strict=True) if o.ok]
    failed = [(d, o) for d, o in zip(deliveries, outcomes, strict=True) if not o.ok]
    with transaction.atomic():  # one commit for the batch, not one per delivery
        record_delivered(sent)
        for delivery, outcome in failed:
            record_failed(delivery=delivery, outcome=outcome)
    return len(sent), len(failed)


def record_delivered(sent: list[tuple[WebhookDelivery, sending.Outcome]]) -> None:
    """The successes of a batch in one statement (where each claim still holds), and their
    endpoints' failure counts cleared."""
    if not sent:
        return
    now = timezone.now()
    table = connection.ops.quote_name(WebhookDelivery._meta.db_table)
    rows = ", ".join(
        ["(CAST(%s AS integer), CAST(%s AS varchar(32)), CAST(%s AS integer), CAST(%s AS integer), %s)"] * len(sent)
    )
    values = [
        part
        for delivery, outcome in sent
        for part in (delivery.pk, delivery.claim, outcome.status, outcome.latency_ms, outcome.excerpt[:200])
    ]
    # One UPDATE ... FROM (VALUES ...) (PostgreSQL, and SQLite from 3.33): the ORM's Case/When per
    # row cost more CPU than the sending itself.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, finished_at = %s, next_at = NULL, claim = '', "
            f"attempts = {table}.attempts + 1, last_error = '', last_status = v.column3, "
            f"latency_ms = v.column4, response_excerpt = v.column5 FROM (VALUES {rows}) AS v "
            f"WHERE {table}.id = v.column1 AND {table}.claim = v.column2 AND {table}.status = %s "
            f"RETURNING {table}.endpoint_id",
            [Status.DELIVERED, connection.ops.adapt_datetimefield_value(now), *values, Status.SENDING],
        )
        endpoints = {row[0] for row in cursor.fetchall()}
    WebhookEndpoint.objects.filter(pk__in=endpoints).exclude(failing_since=None, failed_in_a_row=0).update(
        failing_since=None, failed_in_a_row=0
    )


def record_failed(*, delivery: WebhookDelivery, outcome: sending.Outcome) -> None:
    """Write a failed attempt (only if this claim still holds the delivery): due again after its
    back-off, or failed for good once out of attempts, which counts against the endpoint; an
    endpoint failing too long is disabled."""
    now = timezone.now()
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "last_status": outcome.status,
        "last_error": outcome.error[:200],
        "latency_ms": outcome.latency_ms,
        "response_excerpt": outcome.excerpt[:200],
        "claim": "",
    }
    if attempts < ATTEMPTS:
        fields |= {"status": Status.PENDING, "next_at": now + BACKOFF[attempts - 1]}
    else:
        fields |= {"status": Status.FAILED, "finished_at": now, "next_at": None}
    endpoint_pk = delivery.endpoint_id
    with transaction.atomic():
        mine = WebhookDelivery.objects.filter(pk=delivery.pk, claim=delivery.claim, status=Status.SENDING)
        if not mine.update(**fields):
            return  # cancelled meanwhile (erasure, endpoint disabled): nothing to add
        WebhookEndpoint.objects.filter(pk=endpoint_pk, failing_since=None).update(failing_since=now)
        if fields["status"] == Status.FAILED:
            WebhookEndpoint.objects.filter(pk=endpoint_pk).update(failed_in_a_row=F("failed_in_a_row") + 1)
        _disable_if_failing(endpoint_pk, now)


def _disable_if_failing(endpoint_pk: int, now: datetime) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_pk)
    if not endpoint.enabled or endpoint.failing_since is None:
        return
    too_long = now - endpoint.failing_since >= timedelta(hours=settings.JUSTFACE_WEBHOOK_DISABLE_AFTER_HOURS)
    too_many = endpoint.failed_in_a_row >= settings.JUSTFACE_WEBHOOK_DISABLE_AFTER_FAILED
    if not (too_long or too_many):
        return
    endpoint.enabled, endpoint.disabled_at = False, now
    endpoint.disabled_reason = WebhookEndpoint.DisabledReason.FAILING
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason"])
    give_up_pending(endpoint=endpoint, now=now)
    audit.record(
        action="webhook.auto_disable", obj=endpoint, reason=f"failing since {endpoint.failing_since:%Y-%m-%d %H:%M}"
    )
    _tell_managers(endpoint)


def _tell_managers(endpoint: WebhookEndpoint) -> None:
    managers = StaffRole.objects.filter(chain_id=endpoint.chain_id, role=Role.MANAGER, user__is_active=True)
    chain = endpoint.chain
    for role in managers.select_related("user"):
        if role.user.email:
            send_on_commit(
                to=role.user.email,
                template="webhooks/email/endpoint_disabled",
                context={"endpoint": endpoint, "chain": chain, "hours": settings.JUSTFACE_WEBHOOK_DISABLE_AFTER_HOURS},
                language=role.user.language or chain.default_language,
            )


def beat(*, running: bool = True) -> None:
    """Say that a pump is running (or, running=False, that none need be assumed to be)."""
    at = timezone.now() if running else None
    if not PumpBeat.objects.filter(pk=1).update(beat_at=at):
        PumpBeat.objects.update_or_create(pk=1, defaults={"beat_at": at})


def take_the_beat() -> bool:
    """Become the running pump unless another one's beat is fresh (a compare-and-set on the beat),
    so that one pump sends at a time and JUSTFACE_WEBHOOK_RATE holds for the machine, not per
    pump. A pump that died leaves its beat to go stale within BEAT_FRESH."""
    now = timezone.now()
    if PumpBeat.objects.filter(~beat_fresh(now), pk=1).update(beat_at=now):
        return True
    return PumpBeat.objects.get_or_create(pk=1, defaults={"beat_at": now})[1]  # the first pump ever


def pump(*, linger: float = LINGER_SECONDS) -> dict:
    """Send what is due, batch after batch, at most JUSTFACE_WEBHOOK_RATE a second; then wait up
    to `linger` seconds for more before ending. Returns counts (no personal data: they land in
    task results).

    It runs only if no other pump is running (take_the_beat: the minute's schedule and a kick
    may start one each), keeps its beat fresh while it runs, and a commit's kick then queues no
    second pump. On its way out it clears the beat first and looks once more: a kick that saw
    the beat came after its deliveries committed, so this last look sees them."""
    if not take_the_beat():
        return {"delivered": 0, "failed_attempts": 0, "recovered": 0, "another_pump_running": True}
    started = time.monotonic()
    recovered = recover_lapsed()
    delivered = failed = 0
    idle_since = beaten = time.monotonic()
    with translation.override(None):
        while time.monotonic() - started < PUMP_SECONDS:
            claimed_from = time.monotonic()
            batch = claim()
            if not batch and time.monotonic() - idle_since >= linger:
                beat(running=False)
                batch = claim()
                if not batch:
                    break
                if not take_the_beat():  # another pump began meanwhile: it sends the rest
                    ok, bad = _send_paced(batch, claimed_from)
                    delivered, failed = delivered + ok, failed + bad
                    break
                beaten = time.monotonic()
            if batch:
                if time.monotonic() - beaten >= BEAT_EVERY:
                    beat()
                    beaten = time.monotonic()
                ok, bad = _send_paced(batch, claimed_from)
                delivered, failed = delivered + ok, failed + bad
                idle_since = time.monotonic()
                if len(batch) < BATCH and linger:
                    time.sleep(GATHER_SECONDS)
                continue
            time.sleep(GATHER_SECONDS)
        else:
            beat(running=False)  # out of time (below the task time-out): the next pump goes on
            kick()
    return {"delivered": delivered, "failed_attempts": failed, "recovered": recovered}


def _send_paced(batch: list[WebhookDelivery], claimed_from: float) -> tuple[int, int]:
    """send_batch, then at most JUSTFACE_WEBHOOK_RATE deliveries a second: a batch done sooner
    waits out the rest of its share, counted from its claim (whose time is the batch's too)."""
    sent = send_batch(batch)
    rate = settings.JUSTFACE_WEBHOOK_RATE
    if rate > 0:
        time.sleep(max(0.0, claimed_from + len(batch) / rate - time.monotonic()))
    return sent


def purge_bodies(*, at: datetime | None = None) -> dict:
    """The retention rule of the delivery log: bodies (and the member id) go after
    JUSTFACE_WEBHOOK_BODY_DAYS, the rows after JUSTFACE_WEBHOOK_LOG_DAYS."""
    at = at or timezone.now()
    before = at - timedelta(days=settings.JUSTFACE_WEBHOOK_BODY_DAYS)
    old = WebhookDelivery.objects.filter(created_at__lt=before).exclude(status=Status.SENDING)
    cancelled = old.filter(status=Status.PENDING).update(status=Status.CANCELLED, finished_at=at, next_at=None)
    erased = old.exclude(body="", member_id=None).update(body="", member_id=None, body_erased_at=at)
    rows = WebhookDelivery.objects.filter(
        created_at__lt=at - timedelta(days=settings.JUSTFACE_WEBHOOK_LOG_DAYS),
        status__in=[Status.DELIVERED, Status.FAILED, Status.CANCELLED],
    ).delete()[0]
    return {"bodies_erased": erased, "cancelled": cancelled, "rows_deleted": rows}
