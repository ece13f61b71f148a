"""The agent's loop: long-poll the server for signed commands, obey the valid ones, report back.

* ``GET {server}/api/v1/agent/commands/?wait=N`` with ``Authorization: Agent <token>``, over HTTPS
  with certificate verification (``ca_file`` for a server with a self-signed certificate).
* Each command is verified (:mod:`dooragent.commands`); only a verified one moves the relay.
* ``POST {server}/api/v1/agent/reports/`` ``{"events": [...]}``: ``relay`` after the relay moved,
  ``contact`` on every change of the door contact, ``heartbeat`` every ``heartbeat_seconds``.

Fail-secure: the agent has no code path that opens without a verified command. When the server is
unreachable, answers an error (a revoked agent gets 401/403) or sends nonsense, the agent waits
(1, 2, 4 ... 30 s) and polls again; the door stays locked. A busy server's 429 (or 503) with
``Retry-After: <seconds>`` is obeyed as it says (0.5..30 s), without the growing back-off.
Free exit and fire release are the lock's wiring (a fail-safe maglock on the fire panel's
release, a request-to-exit button wired to the lock), never the agent's.

Reports wait in a bounded queue **on disk** (:mod:`dooragent.queue`: the last 1,000, the newest
heartbeat only) until the server has them, and are retried with the same back-off; one queued
before a restart is sent after it. Each carries an id (``<stream>:<seq>``) the server applies once,
so a batch sent again after a lost answer or a restart is never counted twice.
"""

from __future__ import annotations

import collections
import json
import logging
import ssl
import threading
import time
import urllib.error
import urllib.request
from typing import Callable

from . import __version__
from .commands import NonceStore, Refused, Verifier
from .config import Config
from .drivers import Driver, DriverError, driver_class
from .queue import ReportQueue

log = logging.getLogger("dooragent")

REPORT_BATCH = 100
BACKOFF_MAX = 30.0
MIN_EMPTY_POLL = 0.5


def retry_after(exc: urllib.error.HTTPError) -> float | None:
    """The seconds of a Retry-After header (bounded to MIN_EMPTY_POLL..BACKOFF_MAX), or None when
    there is none or it is not a number of seconds (an HTTP date gets the ordinary back-off)."""
    value = exc.headers.get("Retry-After") if exc.headers is not None else None
    try:
        seconds = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if seconds != seconds:  # NaN
        return None
    return min(BACKOFF_MAX, max(MIN_EMPTY_POLL, seconds))


class Agent:
    def __init__(self, config: Config, *, driver: Driver | None = None, clock: Callable[[], float] = time.time):
        self.config = config
        self.clock = clock
        self.ssl = ssl.create_default_context(cafile=config.ca_file)
        self.nonces = NonceStore(config.state_dir / "nonces.json", skew=config.skew_seconds, clock=clock)
        self.verifier = Verifier(
            public_keys=config.public_keys,
            door=config.door,
            nonces=self.nonces,
            skew=config.skew_seconds,
            clock=clock,
        )
        self.reports = ReportQueue(config.state_dir / "reports.sqlite3")
        if driver is None:
            driver = driver_class(config.driver["type"])(config.driver, self.contact_changed)
        else:
            driver.on_contact = self.contact_changed
        self.driver = driver
        self._stop = threading.Event()
        self._sender: threading.Thread | None = None
        self.opened = 0
        self.refused: collections.Counter = collections.Counter()

    # -- events -----------------------------------------------------------------------------
    def contact_changed(self, state: str) -> None:
        log.info("door contact %s", state)
        self.reports.put({"type": "contact", "state": state, "at": self.clock()})

    def handle(self, command: object) -> bool:
        """Verify one delivered command and, only if it is valid, move the relay. True if it moved."""
        try:
            cmd = self.verifier.verify(command)
        except Refused as exc:
            self.refused[exc.reason] += 1
            log.warning("command refused: %s", exc)
            return False
        try:
            self.driver.open(cmd.open_ms)
        except DriverError as exc:
            log.error("relay did not move for event %s: %s", cmd.event, exc)
            return False
        self.opened += 1
        log.info("relay moved for event %s (%d ms)", cmd.event, cmd.open_ms)
        self.reports.put({"type": "relay", "nonce": cmd.nonce, "event": cmd.event, "at": self.clock()})
        return True

    # -- HTTP -------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict | None, timeout: float) -> dict:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(
            self.config.server_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Agent {self.config.token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": f"justface-dooragent/{__version__}",
            },
        )
        with urllib.request.urlopen(request, timeout=timeout, context=self.ssl) as response:
            return json.loads(response.read().decode("utf-8") or "{}")

    def poll_once(self, wait: int | None = None) -> int:
        """One long poll; returns how many commands moved the relay. Raises on transport errors."""
        wait = self.config.poll_wait if wait is None else wait
        answer = self._request("GET", f"/api/v1/agent/commands/?wait={wait}", None, timeout=wait + 10)
        commands = answer.get("commands") if isinstance(answer, dict) else None
        if not isinstance(commands, list):
            raise ValueError("the server's answer has no commands list")
        return sum(self.handle(command) for command in commands)

    def send_reports(self) -> bool:
        """Send queued reports (one batch). True when the queue was sent or empty."""
        batch = self.reports.peek(REPORT_BATCH)
        if not batch:
            return True
        try:
            self._request("POST", "/api/v1/agent/reports/", {"events": batch}, timeout=10)
        except urllib.error.HTTPError as exc:
            if exc.code == 400:
                # Bad input does not get better by sending it again.
                log.error("server refused %d reports: %s", len(batch), exc.read()[:200])
                self.reports.remove(batch)
                return True
            log.warning("reports not sent (HTTP %s); will retry", exc.code)
            return False
        except (OSError, ValueError) as exc:
            log.warning("reports not sent (%s); will retry", exc)
            return False
        self.reports.remove(batch)
        return True

    # -- loops ------------------------------------------------------------------------------
    def _sender_loop(self) -> None:
        next_heartbeat = 0.0
        backoff = 1.0
        dropped = 0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_heartbeat:
                self.reports.put(
                    {"type": "heartbeat", "at": self.clock(), "version": __version__, "driver": self.driver.name}
                )
                next_heartbeat = now + self.config.heartbeat_seconds
            if self.reports.dropped != dropped:
                log.warning("report queue full: %d reports dropped so far", self.reports.dropped)
                dropped = self.reports.dropped
            if len(self.reports):
                if self.send_reports():
                    backoff = 1.0
                    continue
                self._stop.wait(backoff)
                backoff = min(BACKOFF_MAX, backoff * 2)
            else:
                self.reports.wait(max(0.0, next_heartbeat - time.monotonic()))

    def start(self) -> None:
        self.driver.start()
        self._sender = threading.Thread(target=self._sender_loop, name="dooragent-reports", daemon=True)
        self._sender.start()

    def run(self) -> None:
        """Poll until :meth:`stop`; never opens on its own."""
        self.start()
        backoff = 1.0
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    moved = self.poll_once()
                    backoff = 1.0
                    if not moved and time.monotonic() - started < MIN_EMPTY_POLL:
                        # A server that answers an empty held poll at once (misconfigured proxy)
                        # must not make the agent spin.
                        self._stop.wait(MIN_EMPTY_POLL)
                except urllib.error.HTTPError as exc:
                    delay = retry_after(exc) if exc.code in (429, 503) else None
                    if delay is not None:
                        # The server is well but busy (every held poll of its process is taken):
                        # poll again when it says, not after an ever longer back-off that would let
                        # a grant's command expire (5 s) unseen.
                        log.info("server busy (HTTP %s); polling again in %.1f s", exc.code, delay)
                        backoff = 1.0
                        self._stop.wait(delay)
                        continue
                    log.error("server answered HTTP %s to the poll (revoked agent?); door stays locked", exc.code)
                except (OSError, ValueError) as exc:
                    log.warning("server unreachable (%s); door stays locked", exc)
                else:
                    continue
                self._stop.wait(backoff)
                backoff = min(BACKOFF_MAX, backoff * 2)
        finally:
            self.shutdown()

    def stop(self) -> None:
        self._stop.set()
        self.reports.wake()

    def shutdown(self) -> None:
        self.stop()
        if self._sender:
            self._sender.join(5)
        self.send_reports()
        self.driver.stop()
        self.reports.close()
