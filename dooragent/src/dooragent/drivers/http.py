"""HTTP relay driver: a network relay on the door's own network that takes an HTTP request.

Two kinds (``kind``):

* ``shelly`` (default): Shelly Gen2+ devices (Plus/Pro 1, 2PM ...) through their JSON-RPC at
  ``<url>/rpc``: ``Switch.Set {"id": switch_id, "on": true, "toggle_after": seconds}``; the device
  itself turns the relay off again after ``toggle_after`` (so a crashed agent cannot leave the door
  unlocked). The door contact, if wired to one of the device's inputs (``input_id``), is read with
  ``Input.GetStatus`` every ``poll_ms``. Shelly's own authentication (SHA-256 digest) is not
  supported: keep the device on the door's own network or VLAN with its web UI password set and
  its RPC reachable only from the agent (docs/door-agent.md, threat model).
* ``generic``: any relay with an HTTP API: ``open_url`` (and ``open_body``) with ``{ms}`` or
  ``{seconds}`` filled in, sent with ``open_method`` and ``headers`` (e.g. a bearer token); any 2xx
  answer counts as done. The door contact, if any: ``contact_url`` answers JSON whose
  ``contact_field`` is true (or ``contact_open``) when the door is open. The pulse must end in the
  device: the URL or body carries ``{ms}``/``{seconds}``, or ``pulse = "device"`` says the device
  turns itself off (an auto-off configured on it).

Every request has a short time-out (``timeout``, 1 s by default, 0.2..5): a relay that does not
answer in time is offline, ``open`` raises DriverError, nothing is reported as moved. ``https://``
URLs are verified (``ca_file`` for a device with its own certificate).
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from . import ContactCallback, Driver, DriverError

log = logging.getLogger("dooragent")

KINDS = ("shelly", "generic")
PLACEHOLDERS = ("{ms}", "{seconds}")


def _fill(template: str, ms: int) -> str:
    return template.replace("{ms}", str(ms)).replace("{seconds}", f"{ms / 1000:g}")


def _url_problem(key: str, url) -> str | None:
    if not isinstance(url, str) or not url:
        return f"driver.{key}: missing (e.g. http://192.168.1.50)"
    parts = urlsplit(url.replace("{ms}", "0").replace("{seconds}", "0"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"driver.{key}: {url!r} is not an http:// or https:// URL"
    return None


class HttpDriver(Driver):
    name = "http"

    @classmethod
    def check(cls, settings: dict) -> list[str]:
        problems = []
        kind = settings.get("kind", "shelly")
        if kind not in KINDS:
            return [f"driver.kind: must be one of {', '.join(KINDS)}"]
        timeout = settings.get("timeout", 1.0)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0.2 <= timeout <= 5:
            problems.append(f"driver.timeout: {timeout!r} is not a number of seconds 0.2..5")
        poll_ms = settings.get("poll_ms", 500)
        if not isinstance(poll_ms, int) or isinstance(poll_ms, bool) or not 100 <= poll_ms <= 10000:
            problems.append(f"driver.poll_ms: {poll_ms!r} is not a number of milliseconds 100..10000")
        if settings.get("contact_active", "open") not in ("open", "closed"):
            problems.append('driver.contact_active: must be "open" or "closed"')
        headers = settings.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            problems.append("driver.headers: a table of header names and text values")
        if kind == "shelly":
            problems += [p for p in [_url_problem("url", settings.get("url"))] if p]
            for key in ("switch_id", "input_id"):
                value = settings.get(key, 0)
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    problems.append(f"driver.{key}: must be a number 0 or more")
        else:
            problems += [p for p in [_url_problem("open_url", settings.get("open_url"))] if p]
            if "contact_url" in settings:
                problems += [p for p in [_url_problem("contact_url", settings.get("contact_url"))] if p]
            if settings.get("open_method", "POST") not in ("GET", "POST", "PUT"):
                problems.append('driver.open_method: must be "GET", "POST" or "PUT"')
            if settings.get("pulse", "request") not in ("request", "device"):
                problems.append('driver.pulse: must be "request" or "device"')
            text = str(settings.get("open_url", "")) + str(settings.get("open_body", ""))
            if settings.get("pulse", "request") == "request" and not any(p in text for p in PLACEHOLDERS):
                problems.append(
                    "driver.open_url: put {ms} or {seconds} in the URL or open_body so the device ends the "
                    'pulse, or set pulse = "device" if the relay turns itself off'
                )
        if settings.get("ca_file") and not isinstance(settings.get("ca_file"), str):
            problems.append("driver.ca_file: a file name")
        return problems

    def __init__(self, settings: dict, on_contact: ContactCallback):
        super().__init__(settings, on_contact)
        self.kind = settings.get("kind", "shelly")
        self.timeout = float(settings.get("timeout", 1.0))
        self.poll_seconds = settings.get("poll_ms", 500) / 1000
        self.headers = dict(settings.get("headers", {}))
        self.active_means_open = settings.get("contact_active", "open") == "open"
        self.ssl = ssl.create_default_context(cafile=settings.get("ca_file") or None)
        self.contact: str | None = None
        self._rpc_id = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        if self.kind == "shelly":
            self.rpc_url = settings["url"].rstrip("/") + "/rpc"
            self.switch_id = settings.get("switch_id", 0)
            self.input_id = settings.get("input_id")  # None: no contact wired to the device
        else:
            self.open_url = settings["open_url"]
            self.open_method = settings.get("open_method", "POST")
            self.open_body = settings.get("open_body")
            self.contact_url = settings.get("contact_url")
            self.contact_field = settings.get("contact_field", "open")
            self.contact_open = settings.get("contact_open", True)

    # -- the lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        if self._reads_contact():
            self._poller = threading.Thread(target=self._poll_contact, name="dooragent-http-contact", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(self.timeout + self.poll_seconds + 1)

    def _reads_contact(self) -> bool:
        return self.input_id is not None if self.kind == "shelly" else bool(self.contact_url)

    # -- the relay ----------------------------------------------------------------------------
    def open(self, ms: int) -> None:
        if self.kind == "shelly":
            # toggle_after in seconds; at least the asked time (Shelly takes fractions).
            result = self._rpc("Switch.Set", {"id": self.switch_id, "on": True, "toggle_after": ms / 1000})
            if not isinstance(result, dict):
                raise DriverError("the Shelly answered Switch.Set without a result")
            return
        body = None if self.open_body is None else _fill(str(self.open_body), ms).encode("utf-8")
        self._send(self.open_method, _fill(self.open_url, ms), body)

    def _rpc(self, method: str, params: dict):
        with self._lock:
            self._rpc_id += 1
            call = {"id": self._rpc_id, "method": method, "params": params}
        answer = self._send("POST", self.rpc_url, json.dumps(call).encode("utf-8"))
        if not isinstance(answer, dict):
            raise DriverError(f"the Shelly's answer to {method} is not a JSON object")
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            raise DriverError(f"the Shelly refused {method}: {error.get('code')} {str(error.get('message'))[:100]}")
        return answer.get("result")

    def _send(self, method: str, url: str, body: bytes | None):
        headers = {"Accept": "application/json", **self.headers}
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        context = self.ssl if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
                data = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            raise DriverError(f"the relay answered HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:  # refused, unreachable, timed out, TLS
            raise DriverError(f"the relay did not answer within {self.timeout:g} s ({exc})") from None
        if not data.strip():
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None  # a generic relay may answer plain text: the 2xx is what counts

    # -- the contact --------------------------------------------------------------------------
    def read_contact(self) -> str | None:
        """The door's state now ("open"/"closed"), None when the answer says nothing."""
        if self.kind == "shelly":
            result = self._rpc("Input.GetStatus", {"id": self.input_id})
            active = result.get("state") if isinstance(result, dict) else None
            if not isinstance(active, bool):
                return None
            return "open" if active == self.active_means_open else "closed"
        answer = self._send("GET", self.contact_url, None)
        if not isinstance(answer, dict) or self.contact_field not in answer:
            return None
        is_open = answer[self.contact_field] == self.contact_open
        return "open" if is_open == self.active_means_open else "closed"

    def _poll_contact(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                state = self.read_contact()
                if failing:
                    log.info("the relay's contact input answers again")
                failing = False
            except DriverError as exc:
                if not failing:
                    log.warning("cannot read the door contact: %s", exc)
                failing, state = True, None
            if state and state != self.contact:
                self.contact = state
                self.on_contact(state)
            self._stop.wait(self.poll_seconds)
