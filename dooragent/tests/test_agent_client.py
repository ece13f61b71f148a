"""The agent's loop against a tiny real HTTPS server on loopback (self-signed certificate, the
agent's ca_file) that serves signed commands and records reports; the relay is a real LibOSDP PD."""

from __future__ import annotations

import threading
import time

import osdp
import pytest
from agent_helpers import FakeServer, agent_config, free_port, self_signed
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dooragent.client import Agent
from dooragent.drivers.osdp import OsdpDriver


@pytest.fixture
def run_agent(tmp_path, osdp_pair, server_public):
    started = []

    def start(url, *, ca_file=True, poll_wait=1):
        channel, pd, scbk = osdp_pair
        settings = {"type": "osdp", "port": "/dev/null", "scbk": scbk.hex()}
        extra = {"poll_wait": poll_wait, "heartbeat_seconds": 60}
        if ca_file:
            extra["ca_file"] = str(tmp_path / "server.pem")
        config = agent_config(tmp_path, [server_public], driver=settings, server_url=url, **extra)
        agent = Agent(config, driver=OsdpDriver(settings, lambda s: None, channel=channel))
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        started.append((agent, thread))
        assert agent.driver.wait_ready(10)
        return agent, pd

    yield start
    for agent, thread in started:
        agent.stop()
        thread.join(30)
        assert not thread.is_alive()


@pytest.fixture
def server(tmp_path):
    server = FakeServer(tmp_path)
    yield server
    server.close()


def test_the_loop_opens_on_a_signed_command_and_reports(server, run_agent, make_command):
    agent, pd = run_agent(server.url)
    assert server.wait_report(lambda r: r["type"] == "heartbeat")[0]["driver"] == "osdp"
    command = make_command(time.time(), event=77, open_ms=1500)
    server.push(command)
    assert pd.get_command(timeout=5)["timer_count"] == 15
    (relay,) = server.wait_report(lambda r: r["type"] == "relay")
    assert relay["event"] == 77 and len(relay["nonce"]) == 32
    pd.submit_event({"event": osdp.Event.Status, "type": osdp.StatusReportType.Input, "report": bytes([1])})
    assert server.wait_report(lambda r: r["type"] == "contact")[0]["state"] == "open"
    # The same command delivered again (a replay by the network or a broken server) moves nothing.
    server.push(command)
    assert pd.get_command(timeout=1.5) is None
    assert agent.refused["replayed"] == 1


def test_bad_commands_from_the_server_move_nothing(server, run_agent, make_command):
    agent, pd = run_agent(server.url)
    now = time.time()
    for command in (
        make_command(now, key=Ed25519PrivateKey.generate()),
        make_command(now - 10),
        make_command(now, door="8"),
        {"payload": "x"},
    ):
        server.push(command)
    deadline = time.monotonic() + 5
    while sum(agent.refused.values()) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dict(agent.refused) == {"unknown_kid": 1, "expired": 1, "other_door": 1, "malformed": 1}
    assert pd.get_command(timeout=0.5) is None
    assert not server.wait_report(lambda r: r["type"] == "relay", timeout=0.2)


def test_the_server_certificate_is_verified(server, run_agent, make_command):
    agent, pd = run_agent(server.url, ca_file=False)  # the self-signed server is not trusted
    server.push(make_command(time.time()))
    assert pd.get_command(timeout=2) is None
    assert server.polls == 0 and server.reports == []


def test_a_revoked_agent_opens_nothing(server, run_agent, make_command):
    server.poll_status = 401
    agent, pd = run_agent(server.url)
    server.pending.append(make_command(time.time()))
    assert pd.get_command(timeout=2) is None
    assert server.polls >= 1 and agent.opened == 0


def test_unreachable_server_then_reports_are_retried(tmp_path, run_agent, make_command):
    port = free_port()
    self_signed(tmp_path)  # the certificate the server will have once it is up
    agent, pd = run_agent(f"https://127.0.0.1:{port}")
    pd.submit_event({"event": osdp.Event.Status, "type": osdp.StatusReportType.Input, "report": bytes([1])})
    time.sleep(1.5)  # nobody listens: polls and reports fail, the agent keeps waiting
    assert agent.opened == 0 and len(agent.reports) >= 2  # heartbeat + contact, kept for later
    server = FakeServer(tmp_path, port=port)
    try:
        server.report_status = 503
        time.sleep(1.0)
        assert server.reports == []
        server.report_status = 200
        contact = server.wait_report(lambda r: r["type"] == "contact", timeout=40)
        assert contact[0]["state"] == "open"
        assert server.wait_report(lambda r: r["type"] == "heartbeat")
        server.push(make_command(time.time()))
        assert pd.get_command(timeout=35)["command"] == osdp.Command.Output
    finally:
        server.close()


def test_a_busy_servers_429_is_obeyed_by_retry_after_not_the_growing_back_off(server, run_agent, make_command):
    """The server answers 429 Retry-After: 1 when its process holds too many polls. The agent polls
    again after that second each time (not 1, 2, 4, 8 s: a grant's command lives 5 s), never sooner."""
    server.poll_status = 429
    server.poll_headers = {"Retry-After": "1"}
    agent, pd = run_agent(server.url)
    deadline = time.monotonic() + 5
    while server.polls < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.polls >= 4, server.poll_times  # the back-off would have polled at 0, 1, 3, 7 s
    gaps = [b - a for a, b in zip(server.poll_times, server.poll_times[1:])]
    assert all(0.9 <= gap <= 1.6 for gap in gaps[:3]), gaps
    server.poll_status = 200
    server.push(make_command(time.time()))
    assert pd.get_command(timeout=4)["command"] == osdp.Command.Output
    assert server.wait_report(lambda r: r["type"] == "relay")


@pytest.mark.parametrize("body", [{"commands": "x"}, ["no"], {}])
def test_a_nonsense_answer_opens_nothing_and_does_not_spin(server, run_agent, make_command, body):
    server.poll_body = body
    agent, pd = run_agent(server.url)
    time.sleep(1.5)
    assert pd.get_command(timeout=0.1) is None and agent.opened == 0
    assert 1 <= server.polls <= 3  # backs off (1 s, 2 s ...) instead of hammering the server


def test_an_empty_answer_at_once_does_not_spin(server, run_agent):
    server.poll_body = {"commands": []}
    agent, pd = run_agent(server.url)
    time.sleep(1.6)
    assert 2 <= server.polls <= 5, server.polls
