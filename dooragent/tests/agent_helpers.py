"""Helpers shared by the door agent's tests (imported as a plain module: dooragent/tests is on sys.path)."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import osdp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TOKEN = "agent-token"

DOOR = "7"
NOW = 1_800_000_000.0  # a fixed agent clock for verification tests


class SocketChannel(osdp.Channel):
    """One end of a non-blocking socketpair as an OSDP channel (stands in for the RS-485 wire)."""

    def __init__(self, sock: socket.socket):
        super().__init__()
        self.sock = sock

    def read(self, max_bytes: int) -> bytes:
        try:
            return self.sock.recv(max_bytes)
        except BlockingIOError:
            return b""

    def write(self, buf: bytes) -> int:
        try:
            return self.sock.send(buf)
        except BlockingIOError:
            return 0

    def flush(self) -> None:
        pass


@contextlib.contextmanager
def running_mosquitto(folder):
    """A real mosquitto broker in the foreground on a free loopback port; yields the port.
    Raises RuntimeError when it is not installed or does not listen within 10 s."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if binary is None:
        raise RuntimeError("mosquitto is not installed (make test installs Debian's mosquitto)")
    port = free_port()
    conf = folder / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {proc.stderr.read().decode()[:300]}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("mosquitto did not listen within 10 s") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running_peripheral():
    """(cp_channel, pd, scbk): a started LibOSDP PeripheralDevice with output control and contact
    monitoring, secure channel enforced, on one end of a socket pair; the agent's driver gets
    cp_channel (the other end)."""
    scbk = secrets.token_bytes(16)
    cp_sock, pd_sock = socket.socketpair()
    cp_sock.setblocking(False)
    pd_sock.setblocking(False)
    pd = osdp.PeripheralDevice(
        osdp.PDInfo(1, SocketChannel(pd_sock), scbk=scbk, flags=[osdp.LibFlag.EnforceSecure]),
        osdp.PDCapabilities([(osdp.Capability.OutputControl, 1, 1), (osdp.Capability.ContactStatusMonitoring, 1, 1)]),
        log_level=osdp.LogLevel.Warning,
    )
    pd.start()
    try:
        yield SocketChannel(cp_sock), pd, scbk
    finally:
        pd.stop()
        cp_sock.close()
        pd_sock.close()


def payload(now: float = NOW, **overrides) -> dict:
    data = {
        "v": 1,
        "type": "open",
        "door": DOOR,
        "event": 41,
        "open_ms": 3000,
        "issued_at": now,
        "not_after": now + 5,
        "nonce": secrets.token_hex(16),
    }
    data.update(overrides)
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def agent_config(tmp_path, public_keys, *, driver, server_url="https://127.0.0.1:1", **extra):
    """A validated agent Config (through the same checks as the config file)."""
    from dooragent.config import from_dict

    data = {
        "server_url": server_url,
        "token": TOKEN,
        "door": DOOR,
        "public_keys": public_keys,
        "state_dir": str(tmp_path / "state"),
        "driver": driver,
        **extra,
    }
    config, problems = from_dict(data, base=tmp_path)
    assert problems == [], problems
    return config


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
    """The server's two agent endpoints, as docs/door-agent.md describes them (a real HTTPS server)."""

    def __init__(self, tmp_path, port=0):
        self.pending: list[dict] = []
        self.reports: list[dict] = []
        self.polls = 0
        self.poll_times: list[float] = []  # time.monotonic() of each poll
        self.poll_status = 200
        self.poll_headers: dict[str, str] = {}  # sent with a non-200 poll answer (e.g. Retry-After)
        self.report_status = 200
        self.poll_body = None  # answer this at once instead of the held poll
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path != "/api/v1/agent/commands/" or self.headers.get("Authorization") != f"Agent {TOKEN}":
                    return self._answer(401, {"detail": "no"})
                outer.polls += 1
                outer.poll_times.append(time.monotonic())
                if outer.poll_status != 200:
                    return self._answer(outer.poll_status, {"detail": "refused"}, outer.poll_headers)
                if outer.poll_body is not None:
                    return self._answer(200, outer.poll_body)
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
