"""The agent's report queue on disk: what the server has not heard of survives a restart, keeps
its ids (so the server applies it once), stays bounded, and a broken file stops the agent."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from agent_helpers import FakeServer, agent_config, free_port, self_signed
from dooragent.client import Agent
from dooragent.queue import ReportQueue
from test_agent_http import Relay


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


def start_agent(tmp_path, server_public, url, relay_url):
    """The agent with the HTTP relay driver on a real loopback relay: the queue, not the bus, is
    what this file is about (OSDP's restart is covered by the driver's own tests)."""
    settings = {"type": "http", "url": relay_url, "input_id": 0, "poll_ms": 100, "timeout": 0.5}
    config = agent_config(
        tmp_path,
        [server_public],
        driver=settings,
        server_url=url,
        poll_wait=1,
        heartbeat_seconds=60,
        ca_file=str(tmp_path / "server.pem"),
    )
    agent = Agent(config)
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    return agent, thread


def stop(agent, thread):
    agent.stop()
    thread.join(30)
    assert not thread.is_alive()


def test_a_relay_move_and_a_contact_change_unsent_at_a_restart_are_sent_after_it(tmp_path, server_public, make_command):
    """The server takes no report while the relay moves for a command the agent got and the door
    opens; the agent stops (its last try to send fails too). Started again on the same state
    folder, against the server back up, it sends both reports with the ids they had, once."""
    relay = Relay()
    try:
        self_signed(tmp_path)
        server = FakeServer(tmp_path)
        agent, thread = start_agent(tmp_path, server_public, server.url, relay.url)
        assert server.wait_report(lambda r: r["type"] == "heartbeat")
        deadline = time.monotonic() + 5  # the first contact report (closed) is sent with the heartbeat
        while not [r for r in server.reports if r["type"] == "contact"] and time.monotonic() < deadline:
            time.sleep(0.05)
        server.report_status = 503
        before = len(server.reports)
        server.push(make_command(time.time(), event=91))
        deadline = time.monotonic() + 5
        while not relay.switch_calls() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay.switch_calls()
        relay.input_state = True
        deadline = time.monotonic() + 5
        while len(agent.reports) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        queued = [r for r in agent.reports.peek(10) if r["type"] != "heartbeat"]
        assert [(r["type"], r.get("event"), r.get("state")) for r in queued] == [
            ("relay", 91, None),
            ("contact", None, "open"),
        ]
        stop(agent, thread)
        server.close()
        assert len(server.reports) == before  # nothing of them reached the server

        server = FakeServer(tmp_path, port=free_port())
        try:
            agent, thread = start_agent(tmp_path, server_public, server.url, relay.url)
            try:
                assert server.wait_report(lambda r: r["type"] == "contact" and r.get("state") == "open", timeout=10)
                assert server.wait_report(lambda r: r["type"] == "heartbeat")
                calls = len(relay.switch_calls())
            finally:
                stop(agent, thread)
        finally:
            server.close()
        sent = [r for r in server.reports if r["type"] != "heartbeat"]
        assert sent[: len(queued)] == queued  # the same reports, with the same ids, each once
        assert calls == 1  # the restarted agent moved nothing on its own
    finally:
        relay.close()


def test_the_queue_file_is_sqlite_in_the_state_folder(tmp_path, server_public):
    relay = Relay()
    self_signed(tmp_path)
    server = FakeServer(tmp_path)
    try:
        agent, thread = start_agent(tmp_path, server_public, server.url, relay.url)
        stop(agent, thread)
    finally:
        server.close()
        relay.close()
    with sqlite3.connect(tmp_path / "state" / "reports.sqlite3") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'stream'").fetchone()
