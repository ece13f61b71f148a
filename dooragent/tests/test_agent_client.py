"""The agent's loop against a tiny real HTTPS server on loopback (self-signed certificate, the
agent's ca_file) that serves signed commands and records reports; the relay is a real LibOSDP PD."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import osdp
import pytest
from agent_helpers import agent_config, free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from dooragent.client import Agent
from dooragent.drivers.osdp import OsdpDriver

TOKEN = "agent-token"


def self_signed(tmp_path):
    """A certificate for 127.0.0.1 (made once per test directory, so a restarted server keeps it)."""
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    if key_file.exists():
        return cert_file, key_file
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class FakeServer:
    """The server's two agent endpoints, as DOOR_PROTOCOL describes them (a real HTTPS server)."""

    def __init__(self, tmp_path, port=0):
        self.pending: list[dict] = []
        self.reports: list[dict] = []
        self.polls = 0
        self.poll_status = 200
        self.report_status = 200
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path != "/api/v1/agent/commands/" or self.headers.get("Authorization") != f"Agent {TOKEN}":
                    return self._answer(401, {"detail": "no"})
                outer.polls += 1
                if outer.poll_status != 200:
                    return self._answer(outer.poll_status, {"detail": "refused"})
                wait = float(parse_qs(url.query).get("wait", ["20"])[0])
                with outer.cond:
                    outer.cond.wait_for(lambda: outer.pending, timeout=wait)
                    commands, outer.pending[:] = list(outer.pending), []
                self._answer(200, {"commands": commands})

            def do_POST(self):
                if self.path != "/api/v1/agent/reports/" or self.headers.get("Authorization") != f"Agent {TOKEN}":
                    return self._answer(401, {"detail": "no"})
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.report_status != 200:
                    return self._answer(outer.report_status, {"detail": "later"})
                with outer.cond:
                    outer.reports.extend(body["events"])
                    outer.cond.notify_all()
                self._answer(200, {"accepted": len(body["events"])})

        self.cert, key = self_signed(tmp_path)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def push(self, command):
        with self.cond:
            self.pending.append(command)
            self.cond.notify_all()

    def wait_report(self, predicate, timeout=5.0):
        with self.cond:
            self.cond.wait_for(lambda: [r for r in self.reports if predicate(r)], timeout=timeout)
            return [r for r in self.reports if predicate(r)]

    def close(self):
        with self.cond:
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()


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
