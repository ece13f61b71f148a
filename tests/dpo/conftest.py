"""Access events for the desk's tests: a few in each chain, one member per chain."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from access import stats
from access.models import AccessEvent, Door, Visit
from tests.conftest import make_member

CPH = ZoneInfo("Europe/Copenhagen")


def event(
    centre,
    *,
    at: datetime,
    member=None,
    door=None,
    decision="granted",
    reason="ok",
    method="face",
    direction="in",
    count=True,
) -> AccessEvent:
    """An access event at a chosen time, counted in the hourly statistics like the door does."""
    e = AccessEvent.objects.create(
        centre=centre,
        door=door,
        member=member,
        method=method,
        direction=direction,
        decision=decision,
        reason=reason,
        score=0.8 if method == "face" else None,
    )
    AccessEvent.objects.filter(pk=e.pk).update(at=at)
    e.at = at
    if member is not None and decision == "granted" and direction == "in":
        Visit.objects.create(member=member, centre=centre, checked_in_at=at, ends_at=at.replace(hour=23))
    if count:
        stats.count_event(e)
    return e


@pytest.fixture
def desk(world):
    """Chain A: member ann (A1) with 3 events, member bo (A2) with 1; chain B: 2 events."""
    w = world
    w.door_a1 = Door.objects.create(centre=w.centre_a1, name="Main")
    w.ann = make_member(w.chain_a, w.centre_a1, member_number="A-100", first_name="Ann", last_name="Secretname")
    w.bo = make_member(w.chain_a, w.centre_a2, member_number="A-200")
    w.bjorn = make_member(w.chain_b, w.centre_b1, member_number="B-300", first_name="Bjorn")
    event(w.centre_a1, member=w.ann, door=w.door_a1, at=datetime(2026, 3, 2, 7, 5, tzinfo=CPH))
    event(w.centre_a1, member=w.ann, door=w.door_a1, at=datetime(2026, 3, 2, 8, 40, tzinfo=CPH), direction="out")
    event(
        w.centre_a1,
        member=None,
        door=w.door_a1,
        at=datetime(2026, 3, 3, 7, 10, tzinfo=CPH),
        decision="denied",
        reason="not_recognised",
    )
    event(w.centre_a2, member=w.bo, at=datetime(2026, 3, 2, 7, 30, tzinfo=CPH), method="pin")
    event(w.centre_b1, member=w.bjorn, at=datetime(2026, 3, 2, 7, 0, tzinfo=CPH))
    event(w.centre_b1, member=w.bjorn, at=datetime(2026, 3, 2, 9, 0, tzinfo=CPH), direction="out")
    return w
