"""The agent's report queue on disk: what the server has not heard of survives a restart, keeps
its ids (so the server applies it once), stays bounded, and a broken file stops the agent."""

from __future__ import annotations

import sqlite3
import threading
import time

import osdp
import pytest
from agent_helpers import FakeServer, agent_config, free_port, running_peripheral, self_signed
from dooragent.client import Agent
from dooragent.drivers.osdp import OsdpDriver
from dooragent.queue import ReportQueue


def test_reports_survive_a_reopen_with_their_ids(tmp_path):
    path = tmp_path / "reports.sqlite3"
    queue = ReportQueue(path)
    queue.put({"type": "relay", "nonce": "a" * 32, "event": 5, "at": 1.0})
    queue.put({"type": "contact", "state": "open", "at": 2.0})
    before = queue.peek(10)
    queue.close()
    again = ReportQueue(path)
    assert again.peek(10) == before
    assert [r["type"] for r in before] == ["relay", "contact"]
    stream = again.stream
    assert [r["id"] for r in before] == [f"{stream}:1", f"{stream}:2"]
    again.remove(before[:1])
    again.put({"type": "contact", "state": "closed", "at": 3.0})
    # Sequence numbers are never reused, even after a delete: the server's "at or below" holds.
    assert [r["id"] for r in again.peek(10)] == [f"{stream}:2", f"{stream}:3"]
    again.close()
    assert ReportQueue(tmp_path / "other.sqlite3").stream != stream  # a new file is a new stream


def test_only_the_newest_heartbeat_is_kept_and_the_queue_is_bounded(tmp_path):
    queue = ReportQueue(tmp_path / "reports.sqlite3", maxlen=3)
    for n in range(5):
        queue.put({"type": "heartbeat", "at": float(n)})
    assert [r["at"] for r in queue.peek(10)] == [4.0]
    for n in range(4):
        queue.put({"type": "contact", "state": "open" if n % 2 == 0 else "closed", "at": 10.0 + n})
    kept = queue.peek(10)
    assert len(kept) == 3 and queue.dropped == 2
    assert [r["at"] for r in kept] == [11.0, 12.0, 13.0]  # the oldest went first
    queue.close()


def test_a_broken_queue_file_stops_the_agent_instead_of_losing_it(tmp_path):
    path = tmp_path / "reports.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(RuntimeError, match="report queue"):
        ReportQueue(path)


def start_agent(tmp_path, server_public, url, channel, scbk):
    settings = {"type": "osdp", "port": "/dev/null", "scbk": scbk.hex()}
    config = agent_config(
        tmp_path,
        [server_public],
        driver=settings,
        server_url=url,
        poll_wait=1,
        heartbeat_seconds=60,
        ca_file=str(tmp_path / "server.pem"),
    )
    agent = Agent(config, driver=OsdpDriver(settings, lambda s: None, channel=channel))
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    assert agent.driver.wait_ready(10)
    return agent, thread


def stop(agent, thread):
    agent.stop()
    thread.join(30)
    assert not thread.is_alive()


def test_a_relay_move_and_a_contact_change_unsent_at_a_restart_are_sent_after_it(
    tmp_path, osdp_pair, server_public, make_command
):
    """The server takes no report while the relay moves for a command the agent got and the door
    opens; the agent stops (its last try to send fails too). Started again on the same state
    folder, against the server back up, it sends both reports with the ids they had, once."""
    channel, pd, scbk = osdp_pair
    self_signed(tmp_path)
    server = FakeServer(tmp_path)
    agent, thread = start_agent(tmp_path, server_public, server.url, channel, scbk)
    assert server.wait_report(lambda r: r["type"] == "heartbeat")
    server.report_status = 503
    server.push(make_command(time.time(), event=91))
    assert pd.get_command(timeout=5)["command"] == osdp.Command.Output
    pd.submit_event({"event": osdp.Event.Status, "type": osdp.StatusReportType.Input, "report": bytes([1])})
    deadline = time.monotonic() + 5
    while len(agent.reports) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    queued = agent.reports.peek(10)
    assert [(r["type"], r.get("event"), r.get("state")) for r in queued] == [
        ("relay", 91, None),
        ("contact", None, "open"),
    ]
    stop(agent, thread)
    server.close()
    assert [r["type"] for r in server.reports] == ["heartbeat"]

    server = FakeServer(tmp_path, port=free_port())
    # The restarted agent opens the bus afresh (a new peripheral on a new socket pair: the one
    # above still holds the stopped agent's secure-channel session); what carries over is the
    # state folder, which is what this test is about.
    with running_peripheral() as (channel, _, scbk):
        restarted(tmp_path, server, server_public, channel, scbk)
    sent = [r for r in server.reports if r["type"] != "heartbeat"]
    assert sent == queued  # the same reports, with the same ids, each once


def restarted(tmp_path, server, server_public, channel, scbk) -> None:
    try:
        agent, thread = start_agent(tmp_path, server_public, server.url, channel, scbk)
        try:
            assert server.wait_report(lambda r: r["type"] == "contact", timeout=10)
            assert server.wait_report(lambda r: r["type"] == "heartbeat")
            assert agent.reports.peek(10) == []
            assert agent.opened == 0  # the restarted agent moved nothing on its own
        finally:
            stop(agent, thread)
    finally:
        server.close()


def test_the_queue_file_is_sqlite_in_the_state_folder(tmp_path, osdp_pair, server_public):
    channel, pd, scbk = osdp_pair
    self_signed(tmp_path)
    server = FakeServer(tmp_path)
    try:
        agent, thread = start_agent(tmp_path, server_public, server.url, channel, scbk)
        stop(agent, thread)
    finally:
        server.close()
    with sqlite3.connect(tmp_path / "state" / "reports.sqlite3") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'stream'").fetchone()
