"""The MQTT driver against a real mosquitto broker (Tasmota's topic layout)."""

from __future__ import annotations

import queue
import time

import paho.mqtt.client as mqtt
import pytest
from agent_helpers import agent_config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dooragent.client import Agent
from dooragent.drivers.mqtt import MqttDriver, tasmota_pulsetime


@pytest.fixture
def relay(mosquitto):
    """A subscriber standing in for the Tasmota device: records what reaches cmnd/frontdoor/#."""
    received: queue.Queue = queue.Queue()
    subscribed = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe("cmnd/frontdoor/#", qos=1)
    client.on_subscribe = lambda c, u, mid, rcs, p: subscribed.put(True)
    client.on_message = lambda c, u, m: received.put((m.topic, m.payload.decode()))
    client.connect("127.0.0.1", mosquitto)
    client.loop_start()
    subscribed.get(timeout=5)
    yield client, received
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def agent(tmp_path, mosquitto, server_public):
    settings = {"type": "mqtt", "host": "127.0.0.1", "port": mosquitto, "device": "frontdoor"}
    agent = Agent(agent_config(tmp_path, [server_public], driver=settings))
    agent.driver.start()
    assert agent.driver.wait_ready(5)
    yield agent
    agent.driver.stop()


def drain(q: queue.Queue, timeout: float) -> list:
    items = []
    try:
        while True:
            items.append(q.get(timeout=timeout))
    except queue.Empty:
        return items


def test_a_granted_command_pulses_the_tasmota_relay(agent, relay, make_command):
    _, received = relay
    assert agent.handle(make_command(time.time(), open_ms=3000, event=12))
    assert drain(received, 1) == [("cmnd/frontdoor/PulseTime", "30"), ("cmnd/frontdoor/POWER", "ON")]
    # Same open time again: PulseTime is not rewritten, only ON is sent.
    assert agent.handle(make_command(time.time(), open_ms=3000))
    assert drain(received, 1) == [("cmnd/frontdoor/POWER", "ON")]
    relays = [r for r in agent.reports.peek(10) if r["type"] == "relay"]
    assert [r["event"] for r in relays] == [12, 41]


@pytest.mark.parametrize("kind", ["forged", "expired", "other_door", "replayed"])
def test_a_refused_command_publishes_nothing(agent, relay, make_command, kind):
    _, received = relay
    now = time.time()
    if kind == "replayed":
        command = make_command(now)
        assert agent.handle(command)
        assert drain(received, 1)[-1] == ("cmnd/frontdoor/POWER", "ON")
    else:
        command = {
            "forged": make_command(now, key=Ed25519PrivateKey.generate()),
            "expired": make_command(now - 10),
            "other_door": make_command(now, door="8"),
        }[kind]
    assert not agent.handle(command)
    assert drain(received, 0.5) == []


def test_the_door_contact_reaches_the_agent(agent, relay):
    client, _ = relay
    for payload, state in (("ON", "open"), ("OFF", "closed"), ("off", None)):
        client.publish("cmnd/frontdoor_contact/POWER", payload, qos=1).wait_for_publish(2)
        if state:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and not [r for r in agent.reports.peek(10) if r.get("state") == state]:
                time.sleep(0.02)
    contacts = [r["state"] for r in agent.reports.peek(10) if r["type"] == "contact"]
    assert contacts == ["open", "closed"]  # the repeated OFF is no change


def test_a_broker_that_is_gone_means_no_open(tmp_path, server_public, make_command):
    from agent_helpers import free_port

    settings = {"type": "mqtt", "host": "127.0.0.1", "port": free_port(), "device": "frontdoor"}
    agent = Agent(agent_config(tmp_path, [server_public], driver=settings))
    agent.driver.start()
    try:
        assert not agent.driver.wait_ready(0.5)
        assert not agent.handle(make_command(time.time()))
        assert agent.opened == 0
    finally:
        agent.driver.stop()


@pytest.mark.parametrize("ms, value", [(200, 2), (3000, 30), (11100, 111), (11101, 112), (30000, 130)])
def test_tasmota_pulsetime(ms, value):
    assert tasmota_pulsetime(ms) == value


def test_mqtt_settings_are_checked():
    problems = MqttDriver.check({"port": 0, "pulse": "x", "ca_file": "a.pem"})
    assert len(problems) == 6, problems
