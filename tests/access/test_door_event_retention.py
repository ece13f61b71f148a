"""Door events in the processing register and the retention job: those tied to a member's entry
are personal data (check-ins) until the member's erasure; every door event goes after
JUSTFACE_DOOR_EVENT_DAYS."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from access.models import AccessEvent, DoorEvent
from justface import personal_data
from retention.jobs import purge_due
from retention.services import erase_member
from tests.conftest import make_member


def test_door_events_tied_to_a_member_are_in_the_register_the_others_are_door_records():
    (rule,) = [r for r in personal_data.rules() if r.model == "access.DoorEvent"]
    assert rule.activity == "checkins" and "JUSTFACE_DOOR_EVENT_DAYS" in rule.period
    assert "opened, tailgating hint" in rule.table
    why = personal_data.not_personal()["access.DoorEvent"]
    assert "forced or held open" in why and "not tied to a member" in why
    categories = [str(c) for c in personal_data.activity("checkins").data_categories]
    assert any("tailgating hint" in c for c in categories)


def test_the_retention_job_deletes_door_events_after_their_period(world, tablet_a, settings):
    settings.JUSTFACE_DOOR_EVENT_DAYS = 30
    door, now = tablet_a.device.door, timezone.now()
    old = DoorEvent.objects.create(door=door, kind="forced_open", at=now - timedelta(days=31))
    recent = DoorEvent.objects.create(door=door, kind="held_open", at=now - timedelta(days=29))
    assert purge_due(at=now)["door_events_deleted"] == 1
    assert not DoorEvent.objects.filter(pk=old.pk).exists() and DoorEvent.objects.filter(pk=recent.pk).exists()


def test_the_members_erasure_unties_their_door_events(world, tablet_a):
    member = make_member(world.chain_a, world.centre_a1, first_name="Pia")
    door = tablet_a.device.door
    grant = AccessEvent.objects.create(
        centre=door.centre, door=door, member=member, method="pin", decision="granted", reason="ok"
    )
    opened = DoorEvent.objects.create(door=door, kind="opened", access_event=grant)
    erase_member(member=member, actor=None, reason="test")
    opened.refresh_from_db()
    assert opened.access_event_id == grant.pk  # still the door fact...
    assert AccessEvent.objects.get(pk=grant.pk).member_id is None  # ...naming no one
