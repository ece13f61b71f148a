"""A real HTTP receiver on loopback that checks every delivery with the Standard Webhooks
reference library (`standardwebhooks`, an implementation independent of ours), and the door's
fixtures for events from real decisions."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from members.services import set_pin
from tests.access.conftest import private_root, tablet_a  # noqa: F401
from tests.conftest import make_member
from webhooks import services


@dataclass
class Received:
    headers: dict
    body: bytes
    verified: bool
    payload: dict | None


@dataclass
class Receiver:
    """Answers each POST with the next of `answers` (status, extra headers, seconds to wait
    first, optionally the body); the last one repeats. Keeps every request with whether its signature verified."""

    server: ThreadingHTTPServer
    secret: str = ""
    answers: list = field(default_factory=lambda: [(200, {}, 0)])
    received: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} of {count} deliveries arrived")


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(receiver.secret).verify(body, headers)
                verified = True
            except (WebhookVerificationError, ValueError):
                payload, verified = None, False
            with receiver.lock:
                receiver.received.append(Received(headers, body, verified, payload))
                index = min(len(receiver.received), len(receiver.answers)) - 1
                status, extra, wait, *body = receiver.answers[index]
            if wait:
                time.sleep(wait)
            answer = body[0] if body else json.dumps({"ok": status < 300, "status": status}).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            try:
                self.wfile.write(answer)
            except OSError:
                pass  # the sender read what it wanted and hung up (a long answer)

        def log_message(self, *args):
            pass

    return Handler


def start_receiver(host: str = "127.0.0.1") -> Receiver:
    receiver = Receiver(server=None)  # type: ignore[arg-type]
    receiver.server = ThreadingHTTPServer((host, 0), _handler(receiver))
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


@pytest.fixture
def loopback_allowed(settings):
    settings.JUSTFACE_WEBHOOK_ALLOW_NETS = ["127.0.0.0/8"]


@pytest.fixture
def receiver(loopback_allowed):
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def subscribe(chain, receiver: Receiver, *types: str, path: str = "/hooks"):
    endpoint, secret = services.create_endpoint(
        chain=chain, url=receiver.url(path), event_types=list(types), actor=None
    )
    receiver.secret = secret
    return endpoint


@pytest.fixture
def pin_member(world, tablet_a):  # noqa: F811
    """A member of chain A with PIN 4711 (no face: the PIN pad decides without the face engine)."""
    member = make_member(world.chain_a, world.centre_a1)
    set_pin(member=member, pin="4711", actor=None)
    return member
