"""What an agent reports reaches the server once: reports carry ids (`<stream>:<seq>`, the agent's
queue on disk numbers them) and a report sent again is skipped; a relay move and a contact change
the agent could not send before it stopped are sent by the restarted agent (a live server, the
real agent, a real mosquitto)."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest
import requests
from django.test import Client

from access import door_signing, services
from access.models import AccessEvent, DoorEvent
from members.services import set_pin
from tests.access.test_door_end_to_end import AGENT, door, key_dir, pin, stop_agent, wait_for  # noqa: F401
from tests.conftest import make_member

assert AGENT.is_dir()
from agent_helpers import agent_config, running_mosquitto  # noqa: E402
from dooragent.client import Agent  # noqa: E402

STREAM = "0123456789abcdef"


def post(token: str, *events) -> tuple[int, dict]:
    response = Client().post(
        "/api/v1/agent/reports/",
        json.dumps({"events": list(events)}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Agent {token}",
    )
    return response.status_code, response.json()


@pytest.fixture
def paired(world, tablet_a):
    member = make_member(world.chain_a, world.centre_a1, first_name="Pia")
    set_pin(member=member, pin="2580", actor=None)
    row, token = services.issue_door_agent(door=tablet_a.device.door, actor=None)
    return row, token, member


def test_a_report_sent_again_is_applied_once(tablet_a, paired):
    row, token, member = paired
    assert tablet_a.pin(member.member_number, "2580").json()["status"] == "granted"
    now = time.time()
    batch = [
        {"id": f"{STREAM}:1", "type": "contact", "state": "open", "at": now},
        {"id": f"{STREAM}:2", "type": "contact", "state": "closed", "at": now + 2},
    ]
    assert post(token, *batch) == (200, {"accepted": 2})
    assert list(DoorEvent.objects.values_list("kind", flat=True)) == ["opened"]
    # The agent did not get the answer and sends the same batch again, with one more report.
    again = [*batch, {"id": f"{STREAM}:3", "type": "contact", "state": "open", "at": now + 30}]
    assert post(token, *again) == (200, {"accepted": 1})
    kinds = sorted(DoorEvent.objects.values_list("kind", flat=True))
    assert kinds == ["forced_open", "opened"]  # no second `opened`, no tailgating hint from the resend
    row.refresh_from_db()
    assert (row.report_stream, row.report_seq) == (STREAM, 3)
    # A new queue file (a reinstalled agent) is a new stream: its reports count from 1 again.
    other = "fedcba9876543210"
    assert post(token, {"id": f"{other}:1", "type": "contact", "state": "closed", "at": now + 31}) == (
        200,
        {"accepted": 1},
    )
    assert DoorEvent.objects.get(kind="forced_open").closed_at is not None


def test_a_report_id_must_be_a_stream_and_a_sequence_number(tablet_a, paired):
    row, token, member = paired
    for bad in ("1", f"{STREAM}:0", f"{STREAM}:-1", "XYZ:1", 7, f"{STREAM}:1:2"):
        status, body = post(token, {"id": bad, "type": "contact", "state": "open", "at": time.time()})
        assert status == 400 and "id" in body["detail"], bad
    assert not DoorEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_reports_unsent_when_the_agent_stopped_are_sent_by_the_restarted_agent_once(live_server, door, tmp_path):
    tablet, member, row, token = door
    with running_mosquitto(tmp_path) as port:
        config = agent_config(
            tmp_path,
            [door_signing.signing_key().public_text],
            driver={"type": "mqtt", "host": "127.0.0.1", "port": port, "device": "frontdoor"},
            server_url=live_server.url,
            token=token,
            door=str(row.door_id),
            poll_wait=2,
        )
        # The first run: it polls and obeys, but dies before its sender sends anything.
        first = Agent(config)
        first.driver.start()
        assert first.driver.wait_ready(10)
        assert pin(live_server, tablet, member, "2580") == "granted"
        assert first.poll_once(wait=2) == 1
        door_side = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        door_side.connect("127.0.0.1", port)
        door_side.loop_start()
        door_side.publish("cmnd/frontdoor_contact/POWER", "ON", qos=1).wait_for_publish(5)
        assert wait_for(lambda: len(first.reports) == 2)
        queued = first.reports.peek(10)
        first.driver.stop()
        first.reports.close()
        grant = AccessEvent.objects.get(decision="granted")
        assert grant.door_opened_at is None and not DoorEvent.objects.exists()

        # Started again on the same state folder: both reports reach the server.
        second = Agent(config)
        thread = threading.Thread(target=second.run, daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: DoorEvent.objects.filter(kind="opened").exists(), 10)
            grant.refresh_from_db()
            assert grant.door_opened_at is not None
            assert wait_for(lambda: second.reports.peek(10) == [], 5)
        finally:
            stop_agent(second, thread)
            door_side.loop_stop()
            door_side.disconnect()
        # Had the answer been lost, the same reports would come again: nothing changes.
        opened_at = grant.door_opened_at
        resent = requests.post(
            f"{live_server.url}/api/v1/agent/reports/",
            json={"events": queued},
            headers={"Authorization": f"Agent {token}"},
            timeout=10,
        )
        assert resent.status_code == 200 and resent.json() == {"accepted": 0}
        grant.refresh_from_db()
        assert grant.door_opened_at == opened_at
        assert list(DoorEvent.objects.values_list("kind", "access_event")) == [("opened", grant.pk)]
