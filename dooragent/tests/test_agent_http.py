"""The HTTP relay driver against a real HTTP server on loopback: one that speaks a Shelly Gen2
device's JSON-RPC (Switch.Set with toggle_after, Input.GetStatus), and a generic relay API."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from agent_helpers import agent_config
from dooragent.client import Agent
from dooragent.config import from_dict
from dooragent.drivers import DriverError
from dooragent.drivers.http import HttpDriver


class Relay:
    """A relay device on loopback: records every request; answers like a Shelly Gen2 at /rpc, and
    like a generic relay elsewhere. `delay` holds every answer that long (a device gone slow)."""

    def __init__(self):
        self.calls: list[dict] = []
        self.input_state = False
        self.delay = 0.0
        self.status = 200
        self.rpc_error = None
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, body: dict | str):
                time.sleep(outer.delay)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self, body):
                with outer.cond:
                    outer.calls.append(
                        {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    outer.cond.notify_all()

            def do_GET(self):
                self._record(None)
                if self.path == "/contact":
                    return self._answer({"open": outer.input_state})
                self._answer("OK")

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else None
                self._record(body)
                if self.path != "/rpc":
                    return self._answer({"ok": True})
                if outer.rpc_error:
                    return self._answer({"id": body["id"], "src": "shellyplus1-test", "error": outer.rpc_error})
                if body["method"] == "Switch.Set":
                    return self._answer({"id": body["id"], "src": "shellyplus1-test", "result": {"was_on": False}})
                if body["method"] == "Input.GetStatus":
                    state = {"id": body["params"]["id"], "state": outer.input_state}
                    return self._answer({"id": body["id"], "src": "shellyplus1-test", "result": state})
                self._answer({"id": body["id"], "error": {"code": -114, "message": "Method not found"}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def switch_calls(self) -> list[dict]:
        return [c["body"] for c in self.calls if c["body"] and c["body"].get("method") == "Switch.Set"]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def relay():
    device = Relay()
    yield device
    device.close()


@pytest.fixture
def shelly_agent(tmp_path, relay, server_public):
    settings = {"type": "http", "url": relay.url, "input_id": 0, "poll_ms": 100, "timeout": 0.5}
    agent = Agent(agent_config(tmp_path, [server_public], driver=settings))
    agent.driver.start()
    yield agent
    agent.driver.stop()


def test_a_granted_command_sets_the_shelly_switch_on_with_toggle_after(shelly_agent, relay, make_command):
    assert shelly_agent.handle(make_command(time.time(), open_ms=2500, event=17))
    (call,) = relay.switch_calls()
    assert call["method"] == "Switch.Set" and call["params"] == {"id": 0, "on": True, "toggle_after": 2.5}
    (report,) = [r for r in shelly_agent.reports.peek(10) if r["type"] == "relay"]
    assert report["event"] == 17


@pytest.mark.parametrize("kind", ["forged", "expired", "other_door", "replayed"])
def test_a_refused_command_sends_nothing_to_the_relay(shelly_agent, relay, make_command, kind):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    now = time.time()
    if kind == "replayed":
        command = make_command(now)
        assert shelly_agent.handle(command)
        relay.calls.clear()
    else:
        command = {
            "forged": make_command(now, key=Ed25519PrivateKey.generate()),
            "expired": make_command(now - 10),
            "other_door": make_command(now, door="8"),
        }[kind]
    assert not shelly_agent.handle(command)
    assert relay.switch_calls() == []


def test_the_door_contact_is_read_from_the_shelly_input(shelly_agent, relay):
    def reported(state):
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if [r for r in shelly_agent.reports.peek(10) if r.get("state") == state]:
                return True
            time.sleep(0.05)
        return False

    assert reported("closed")
    relay.input_state = True
    assert reported("open")
    contacts = [r["state"] for r in shelly_agent.reports.peek(10) if r["type"] == "contact"]
    assert contacts == ["closed", "open"]  # one report per change, not per poll


def test_a_slow_or_failing_relay_is_an_error_at_once_and_nothing_is_reported(shelly_agent, relay, make_command):
    relay.delay = 2.0
    started = time.monotonic()
    assert not shelly_agent.handle(make_command(time.time()))
    assert time.monotonic() - started < 1.5  # the 0.5 s time-out, not the device's 2 s
    relay.delay = 0.0
    relay.rpc_error = {"code": -103, "message": "Invalid argument"}
    assert not shelly_agent.handle(make_command(time.time()))
    relay.rpc_error = None
    relay.status = 500
    assert not shelly_agent.handle(make_command(time.time()))
    assert [r for r in shelly_agent.reports.peek(10) if r["type"] == "relay"] == []


def test_nobody_listening_is_an_error_not_an_opening():
    driver = HttpDriver({"type": "http", "url": "http://127.0.0.1:9", "timeout": 0.3}, lambda s: None)
    with pytest.raises(DriverError):
        driver.open(1000)


def test_a_generic_relay_gets_its_url_with_the_open_time_and_headers(tmp_path, relay):
    settings = {
        "type": "http",
        "kind": "generic",
        "open_url": relay.url + "/relay/0?turn=on&timer={seconds}",
        "open_method": "GET",
        "headers": {"Authorization": "Bearer relay-secret"},
        "contact_url": relay.url + "/contact",
        "poll_ms": 100,
    }
    seen = []
    driver = HttpDriver(settings, seen.append)
    driver.start()
    try:
        deadline = time.monotonic() + 3  # the first poll reads the contact as it is: closed
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        driver.open(3000)
        (call,) = [c for c in relay.calls if c["path"].startswith("/relay/")]
        assert call["path"] == "/relay/0?turn=on&timer=3" and call["headers"]["Authorization"] == "Bearer relay-secret"
        relay.input_state = True
        deadline = time.monotonic() + 3
        while "open" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen == ["closed", "open"]
    finally:
        driver.stop()
    # POST with a body template.
    post = HttpDriver(
        {"type": "http", "kind": "generic", "open_url": relay.url + "/pulse", "open_body": '{"ms": {ms}}'}, seen.append
    )
    post.open(1200)
    assert relay.calls[-1]["body"] == {"ms": 1200}


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({"url": "ftp://x"}, "driver.url"),
        ({"url": "http://x", "timeout": 30}, "driver.timeout"),
        ({"kind": "zigbee"}, "driver.kind"),
        ({"kind": "generic", "open_url": "http://relay/on"}, "{ms} or {seconds}"),
        ({"kind": "generic", "open_url": "http://relay/on", "pulse": "device", "open_method": "DELETE"}, "open_method"),
        ({"url": "http://x", "headers": {"A": 1}}, "driver.headers"),
    ],
)
def test_config_problems_are_one_sentence_each(tmp_path, server_public, settings, problem):
    config, problems = from_dict(
        {
            "server_url": "https://example.org",
            "token": "t",
            "door": "7",
            "public_keys": [server_public],
            "driver": {"type": "http", **settings},
        },
        base=tmp_path,
    )
    assert config is None and any(problem in p for p in problems), problems
