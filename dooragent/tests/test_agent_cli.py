"""``python -m dooragent --config FILE`` as a process: a real mosquitto, a real HTTPS stand-in for the
server, a signed command -> the relay topic gets ON; SIGTERM ends it cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from agent_helpers import DOOR, TOKEN, FakeServer

SRC = Path(__file__).resolve().parents[1] / "src"


def test_the_agent_process_obeys_a_signed_command_and_stops_on_sigterm(
    tmp_path, mosquitto, server_public, make_command
):
    server = FakeServer(tmp_path)
    received: queue.Queue = queue.Queue()
    ready: queue.Queue = queue.Queue()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe("cmnd/lobby/POWER", qos=1)
    sub.on_subscribe = lambda *a: ready.put(True)
    sub.on_message = lambda c, u, m: received.put(m.payload.decode())
    sub.connect("127.0.0.1", mosquitto)
    sub.loop_start()
    ready.get(timeout=5)
    config = tmp_path / "agent.toml"
    config.write_text(
        f'''server_url = "{server.url}"
token = "{TOKEN}"
door = "{DOOR}"
public_keys = ["{server_public}"]
ca_file = "{server.cert}"
state_dir = "{tmp_path / "state"}"
poll_wait = 1
[driver]
type = "mqtt"
host = "127.0.0.1"
port = {mosquitto}
device = "lobby"
'''
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dooragent", "--config", str(config)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.wait_report(lambda r: r["type"] == "heartbeat", timeout=20)[0]["driver"] == "mqtt"
        server.push(make_command(time.time(), event=3))
        assert received.get(timeout=10) == "ON"
        assert server.wait_report(lambda r: r["type"] == "relay")[0]["event"] == 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert "relay moved for event 3" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        sub.disconnect()
        sub.loop_stop()
        server.close()
