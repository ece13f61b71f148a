"""The integration app's daily purge (django-q schedule `integration.purge`): events older than
JUSTFACE_INTEGRATION_EVENT_DAYS and expired bulk answers go."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from integration import conf
from integration.models import FeedEvent, IdempotentRequest
from justface import audit


def purge(*, at: datetime | None = None) -> dict:
    at = at or timezone.now()
    events = FeedEvent.objects.filter(occurred_at__lt=at - timedelta(days=conf.event_days())).delete()[0]
    answers = IdempotentRequest.objects.filter(expires_at__lt=at).delete()[0]
    if events or answers:
        audit.record(action="integration.purge", reason=f"{events} event(s), {answers} kept answer(s)")
    return {"events_deleted": events, "answers_deleted": answers}
