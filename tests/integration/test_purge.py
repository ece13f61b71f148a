"""The integration app's daily purge (schedule integration.purge): events past
JUSTFACE_INTEGRATION_EVENT_DAYS and expired bulk answers go; nothing younger."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from access.models import AccessEvent
from integration.idempotency import claim, store
from integration.jobs import purge
from integration.models import FeedEvent, IdempotentRequest
from justface.models import AuditEntry


def test_old_events_and_expired_answers_are_purged_daily(clock, world, settings):
    settings.JUSTFACE_INTEGRATION_EVENT_DAYS = 30
    old = AccessEvent.objects.create(centre=world.centre_a1, method="pin", decision="denied", reason="wrong_pin")
    kept_answer = claim(chain=world.chain_a, key="batch-1", request_hash="h1").row
    store(kept_answer, status=200, response={"counts": {}})
    clock.shift(timedelta(days=20))
    young = AccessEvent.objects.create(centre=world.centre_a1, method="pin", decision="denied", reason="wrong_pin")
    first = purge(at=timezone.now())
    assert (first["events_deleted"], first["answers_deleted"]) == (0, 1)  # the answer's 24 hours are over
    assert IdempotentRequest.objects.count() == 0
    clock.shift(timedelta(days=11))
    report = purge(at=timezone.now())
    assert report["events_deleted"] == 1
    assert list(FeedEvent.objects.values_list("data__access_event_id", flat=True)) == [young.pk]
    assert old.pk not in FeedEvent.objects.values_list("data__access_event_id", flat=True)
    assert AuditEntry.objects.filter(action="integration.purge").exists()
    assert Schedule.objects.filter(name="integration.purge", func="integration.jobs.purge").exists()
