"""Door agents end to end: a live Justface server, an agent paired through the real
service, the real `dooragent.client` loop polling the server over HTTP, and a real lock side:
a mosquitto broker with a subscriber standing in for the Tasmota relay, or a LibOSDP
PeripheralDevice with the secure channel on. A granted PIN entry moves the relay and the access
event gets `door_opened_at`; a denied one (wrong PIN) never moves anything.

Each test first shows a denial moving nothing for a few seconds while the agent is polling, then
a grant moving the relay through the same agent (so the silence is not a dead agent)."""

from __future__ import annotations

import queue
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from access import door_signing, services
from access.models import AccessEvent
from members.services import set_pin
from tests.access.conftest import pair_tablet
from tests.conftest import make_member

AGENT = Path(__file__).resolve().parents[2] / "dooragent"
for folder in (AGENT / "tests", AGENT / "src"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import osdp  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from agent_helpers import agent_config, running_mosquitto, running_peripheral  # noqa: E402
from dooragent.client import Agent  # noqa: E402
from dooragent.drivers.osdp import OsdpDriver  # noqa: E402

QUIET_SECONDS = 3.0  # how long a denial must move nothing


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.JUSTFACE_DOOR_SIGNING_KEY = ""
    return settings.DATA_DIR


@pytest.fixture
def door(world):
    """A tablet at a door of an always-open centre, a member with a PIN, and a paired agent."""
    centre = world.centre_a1
    centre.opening_hours = {}
    centre.save()
    tablet = pair_tablet(centre)
    member = make_member(world.chain_a, centre, first_name="Pia")
    set_pin(member=member, pin="2580", actor=None)
    row, token = services.issue_door_agent(door=tablet.device.door, actor=None)
    return tablet, member, row, token


def pin(live_server, tablet, member, code: str) -> str:
    answer = requests.post(
        f"{live_server.url}/api/v1/door/pin/",
        json={"member_number": member.member_number, "pin": code},
        headers={"Authorization": f"Device {tablet.token}"},
        timeout=20,
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["status"]


def run_agent(
    tmp_path, live_server, door_row, token, *, driver_settings, driver=None
) -> tuple[Agent, threading.Thread]:
    config = agent_config(
        tmp_path,
        [door_signing.signing_key().public_text],
        driver=driver_settings,
        server_url=live_server.url,
        token=token,
        door=str(door_row.door_id),
        poll_wait=2,  # a short hold, so the test's agent stops within ~2 s
    )
    agent = Agent(config, driver=driver)
    thread = threading.Thread(target=agent.run, name="dooragent", daemon=True)
    thread.start()
    return agent, thread


def stop_agent(agent: Agent, thread: threading.Thread) -> None:
    agent.stop()
    thread.join(10)
    assert not thread.is_alive()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def door_opened(event: AccessEvent) -> bool:
    event.refresh_from_db()
    return event.door_opened_at is not None


@pytest.mark.django_db(transaction=True)
def test_mqtt_a_granted_pin_moves_the_relay_and_a_denied_one_never_does(live_server, door, tmp_path):
    tablet, member, row, token = door
    with running_mosquitto(tmp_path) as port:
        # The relay's side: everything published for the device (PulseTime and POWER).
        seen: queue.Queue = queue.Queue()
        relay = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        subscribed = threading.Event()
        relay.on_connect = lambda c, u, f, rc, p: c.subscribe("cmnd/#", qos=1)
        relay.on_subscribe = lambda *a: subscribed.set()
        relay.on_message = lambda c, u, m: seen.put((m.topic, m.payload.decode()))
        relay.connect("127.0.0.1", port)
        relay.loop_start()
        assert subscribed.wait(5)
        settings = {"type": "mqtt", "host": "127.0.0.1", "port": port, "device": "frontdoor"}
        agent, thread = run_agent(tmp_path, live_server, row, token, driver_settings=settings)
        try:
            assert agent.driver.wait_ready(10), "the agent did not reach the broker"

            assert pin(live_server, tablet, member, "0000") == "denied"
            with pytest.raises(queue.Empty):
                message = seen.get(timeout=QUIET_SECONDS)
                pytest.fail(f"a denied entry published {message}")
            assert not AccessEvent.objects.get().door_opened_at

            assert pin(live_server, tablet, member, "2580") == "granted"
            messages = []
            deadline = time.monotonic() + 5
            while ("cmnd/frontdoor/POWER", "ON") not in messages and time.monotonic() < deadline:
                try:
                    messages.append(seen.get(timeout=0.1))
                except queue.Empty:
                    pass
            assert ("cmnd/frontdoor/POWER", "ON") in messages, messages
            grant = AccessEvent.objects.filter(decision=AccessEvent.Decision.GRANTED).get()
            assert wait_for(lambda: door_opened(grant)), "the relay report never reached the access event"
            assert agent.opened == 1 and not agent.refused
        finally:
            stop_agent(agent, thread)
            relay.loop_stop()
            relay.disconnect()


@pytest.mark.django_db(transaction=True)
def test_osdp_a_granted_pin_sends_the_output_command_and_a_denied_one_never_does(live_server, door, tmp_path):
    tablet, member, row, token = door
    with running_peripheral() as (channel, pd, scbk):
        settings = {"type": "osdp", "port": "/dev/null", "scbk": scbk.hex(), "address": 1}
        driver = OsdpDriver(settings, lambda state: None, channel=channel)
        agent, thread = run_agent(tmp_path, live_server, row, token, driver_settings=settings, driver=driver)
        try:
            assert driver.wait_ready(10), "no secure channel with the PD"
            assert pd.is_sc_active()

            assert pin(live_server, tablet, member, "0000") == "denied"
            assert pd.get_command(timeout=QUIET_SECONDS) is None
            assert not AccessEvent.objects.get().door_opened_at

            assert pin(live_server, tablet, member, "2580") == "granted"
            command = pd.get_command(timeout=5)
            assert command is not None and command["command"] == osdp.Command.Output, command
            assert command["output_no"] == 0 and command["control_code"] == 5 and command["timer_count"] >= 2
            grant = AccessEvent.objects.filter(decision=AccessEvent.Decision.GRANTED).get()
            assert wait_for(lambda: door_opened(grant)), "the relay report never reached the access event"
            assert agent.opened == 1 and not agent.refused
        finally:
            stop_agent(agent, thread)


@pytest.mark.django_db(transaction=True)
def test_an_agent_turned_away_with_429_still_opens_for_the_next_grant(live_server, door, tmp_path):
    """Every held poll of the server's process is taken: the agent's polls get 429 Retry-After: 1.
    It keeps polling every second (not 1, 2, 4, 8 s), so a grant 8 s later still reaches the door
    within its command's 5 s life."""
    from access.api import agent as agent_api

    tablet, member, row, token = door
    taken = 0
    while agent_api._held.acquire(blocking=False):
        taken += 1
    try:
        with running_peripheral() as (channel, pd, scbk):
            settings = {"type": "osdp", "port": "/dev/null", "scbk": scbk.hex(), "address": 1}
            driver = OsdpDriver(settings, lambda state: None, channel=channel)
            agent, thread = run_agent(tmp_path, live_server, row, token, driver_settings=settings, driver=driver)
            try:
                assert driver.wait_ready(10), "no secure channel with the PD"
                time.sleep(8)  # 429s all along; the old back-off would next poll at 15 s
                assert pin(live_server, tablet, member, "2580") == "granted"
                command = pd.get_command(timeout=3)
                assert command is not None and command["command"] == osdp.Command.Output, command
                assert wait_for(lambda: agent.opened == 1, 2)
            finally:
                stop_agent(agent, thread)
    finally:
        for _ in range(taken):
            agent_api._held.release()
    assert taken
