"""The OSDP driver against a real LibOSDP PeripheralDevice, secure channel enforced, over a socket pair."""

from __future__ import annotations

import os
import time
import tty

import osdp
import pytest
from agent_helpers import agent_config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dooragent.client import Agent
from dooragent.drivers.osdp import OsdpDriver, timer_count


@pytest.fixture
def agent(tmp_path, osdp_pair, server_public):
    channel, pd, scbk = osdp_pair
    settings = {"type": "osdp", "port": "/dev/null", "scbk": scbk.hex(), "address": 1}
    driver = OsdpDriver(settings, lambda state: None, channel=channel)
    agent = Agent(agent_config(tmp_path, [server_public], driver=settings), driver=driver)
    driver.start()
    assert driver.wait_ready(10), "no secure channel with the PD"
    assert pd.is_sc_active()
    yield agent, pd
    driver.stop()


def test_a_granted_command_pulses_the_relay(agent, make_command):
    agent, pd = agent
    assert agent.handle(make_command(time.time(), open_ms=3000, event=5))
    command = pd.get_command(timeout=2)
    assert command == {"command": osdp.Command.Output, "output_no": 0, "control_code": 5, "timer_count": 30}
    (report,) = [r for r in agent.reports.peek(10) if r["type"] == "relay"]
    assert report["event"] == 5


@pytest.mark.parametrize("kind", ["forged", "expired", "other_door", "replayed"])
def test_a_refused_command_moves_nothing(agent, make_command, kind):
    agent, pd = agent
    now = time.time()
    if kind == "replayed":
        command = make_command(now)
        assert agent.handle(command)
        assert pd.get_command(timeout=2)["command"] == osdp.Command.Output
    else:
        command = {
            "forged": make_command(now, key=Ed25519PrivateKey.generate()),
            "expired": make_command(now - 10),
            "other_door": make_command(now, door="8"),
        }[kind]
    assert not agent.handle(command)
    assert pd.get_command(timeout=1) is None
    assert agent.refused


def test_a_contact_change_on_the_pd_reaches_the_agent(agent):
    agent, pd = agent
    for bit, state in ((1, "open"), (0, "closed")):
        pd.submit_event({"event": osdp.Event.Status, "type": osdp.StatusReportType.Input, "report": bytes([bit])})
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not [r for r in agent.reports.peek(10) if r.get("state") == state]:
            time.sleep(0.02)
        assert [r for r in agent.reports.peek(10) if r.get("state") == state], state


def test_without_the_right_key_there_is_no_channel_and_no_open(tmp_path, osdp_pair, server_public, make_command):
    channel, pd, scbk = osdp_pair
    settings = {"type": "osdp", "port": "/dev/null", "scbk": "00" * 16, "address": 1}
    driver = OsdpDriver(settings, lambda state: None, channel=channel)
    agent = Agent(agent_config(tmp_path, [server_public], driver=settings), driver=driver)
    driver.start()
    try:
        assert not driver.wait_ready(2)
        assert not agent.handle(make_command(time.time()))  # verified, but the driver refuses
        assert pd.get_command(timeout=0.5) is None
    finally:
        driver.stop()


@pytest.mark.parametrize("ms, count", [(200, 2), (3000, 30), (3050, 31), (30000, 300)])
def test_timer_count_rounds_up(ms, count):
    assert timer_count(ms) == count


def test_a_pd_that_refuses_the_output_gives_no_relay_report(agent, make_command):
    agent, pd = agent
    pd.set_command_handler(lambda command: (-1, None))  # the PD answers NAK
    assert not agent.handle(make_command(time.time()))
    assert pd.get_command(timeout=1)["command"] == osdp.Command.Output  # it did arrive...
    assert [r for r in agent.reports.peek(10) if r["type"] == "relay"] == []  # ...but is not reported


class FdChannel(osdp.Channel):
    """The PD's end of a pty pair (the other end is what the agent opens as its serial port)."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd

    def read(self, max_bytes: int) -> bytes:
        try:
            return os.read(self.fd, max_bytes)
        except (BlockingIOError, OSError):
            return b""

    def write(self, buf: bytes) -> int:
        try:
            return os.write(self.fd, buf)
        except BlockingIOError:
            return 0

    def flush(self) -> None:
        pass


def test_the_serial_port_driver_over_a_pty(tmp_path, server_public, make_command):
    """The driver as configured in production (``port = "/dev/..."``, termios raw 9600 baud), on a pty."""
    master, slave = os.openpty()
    os.set_blocking(master, False)
    tty.setraw(master)
    scbk = os.urandom(16)
    pd = osdp.PeripheralDevice(
        osdp.PDInfo(1, FdChannel(master), scbk=scbk, flags=[osdp.LibFlag.EnforceSecure]),
        osdp.PDCapabilities([(osdp.Capability.OutputControl, 1, 1)]),
        log_level=osdp.LogLevel.Warning,
    )
    settings = {"type": "osdp", "port": os.ttyname(slave), "baud": 9600, "scbk": scbk.hex()}
    agent = Agent(agent_config(tmp_path, [server_public], driver=settings))
    pd.start()
    agent.driver.start()
    try:
        assert agent.driver.wait_ready(15), "no secure channel over the pty"
        assert agent.handle(make_command(time.time(), open_ms=800))
        assert pd.get_command(timeout=3)["timer_count"] == 8
    finally:
        agent.driver.stop()
        pd.stop()
        os.close(slave)
        os.close(master)
