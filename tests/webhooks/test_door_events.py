"""Door alarms and check-outs become webhook events from the door's own code paths: the agent
sweep's `agent_offline` and `held_open`, a contact opening without a grant (`forced_open`), each a
`door.alarm` with its kind in `data.alarm` (as the events feed has it), and a PIN check-out."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from access import door_agents, services
from access.models import DoorEvent
from tests.webhooks.conftest import pin_member, receiver, subscribe  # noqa: F401
from webhooks import delivery


def test_door_alarms_are_delivered(world, tablet_a, receiver):
    subscribe(world.chain_a, receiver, "door.alarm")
    door = tablet_a.device.door
    agent, _token = services.issue_door_agent(door=door, actor=None)
    start = timezone.now()
    door_agents.record_reports(agent=agent, events=[{"type": "contact", "state": "open", "at": start.timestamp()}])
    door_agents.sweep(at=start + timedelta(seconds=door.held_open_limit + 1))
    door_agents.sweep(at=start + timedelta(days=1))  # the agent said nothing since
    delivery.pump(linger=0)
    got = receiver.wait_for(3)
    assert all(r.verified for r in got)
    assert {r.payload["type"] for r in got} == {"door.alarm"}
    assert sorted(r.payload["data"]["alarm"] for r in got) == ["agent_offline", "forced_open", "held_open"]
    forced = next(r.payload["data"] for r in got if r.payload["data"]["alarm"] == "forced_open")
    event = DoorEvent.objects.get(kind=DoorEvent.Kind.FORCED_OPEN)
    assert forced == {
        "alarm": "forced_open",
        "occurred_at": event.at.isoformat(),
        "centre": "a1",
        "door_event_id": event.pk,
        "door_id": door.pk,
    }


def test_a_check_out_is_delivered(world, tablet_a, pin_member, receiver):
    subscribe(world.chain_a, receiver, "access.check_out")
    tablet_a.pin(pin_member.member_number, "4711")  # in: not subscribed
    tablet_a.pin(pin_member.member_number, "4711", direction="out")
    delivery.pump(linger=0)
    got = receiver.wait_for(1)
    assert len(got) == 1 and got[0].payload["type"] == "access.check_out"
    assert got[0].payload["data"]["direction"] == "out" and got[0].payload["data"]["member_id"] == pin_member.pk
