"""One signed POST to an endpoint (Standard Webhooks), without server-side request forgery.

The host is resolved and every address checked (webhooks.ssrf) at each attempt, and the
connection goes to a checked address, never to the name again (urllib3 with the address as the
pool's host; the URL's host name is the Host header, the TLS server name and the name the
certificate must carry). Redirects are never followed (a 3xx is a failed attempt); connecting may
take CONNECT_SECONDS and the whole attempt TOTAL_SECONDS (a watchdog shuts the socket of an
attempt past its deadline, so a server that trickles its answer byte by byte cannot hold a
worker); at most READ_CAP bytes of the answer are read, and staff see its status and the first
EXCERPT characters only."""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import re
import secrets
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError

from webhooks import ssrf

SECRET_PREFIX = "whsec_"
CONNECT_SECONDS = 3.0
TOTAL_SECONDS = 10.0
READ_CAP = 4096
EXCERPT = 200
USER_AGENT = "Justface-Webhooks/1"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the secret's base64-decoded bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str = ""
    latency_ms: int | None = None
    excerpt: str = ""


# --- the deadline watchdog ---------------------------------------------------------------------


class _Watchdog:
    """Shuts down the socket of an attempt that is still running at its deadline (one thread for
    all attempts of the process)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, socket.socket] = {}
        self._ids = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, deadline: float) -> int:
        with self._cv:
            token = next(self._ids)
            self._live[token] = sock
            heapq.heappush(self._heap, (deadline, token))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhook-watchdog", daemon=True)
                self._thread.start()
            self._cv.notify()
            return token

    def release(self, tokens: list[int]) -> None:
        with self._cv:
            for token in tokens:
                self._live.pop(token, None)

    def _run(self) -> None:
        with self._cv:
            while True:
                if not self._heap:
                    self._cv.wait()
                    continue
                deadline, token = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
                    continue
                heapq.heappop(self._heap)
                sock = self._live.pop(token, None)
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass


_watchdog = _Watchdog()
_attempt = threading.local()  # this thread's attempt: its deadline and the sockets watched for it


class _Watched:
    """A connection whose socket is watched for the current attempt's deadline, whether it is new
    (connect) or reused from the pool (request)."""

    def connect(self):
        super().connect()
        _watch(self.sock)

    def request(self, *args, **kwargs):
        if self.sock is not None:
            _watch(self.sock)
        return super().request(*args, **kwargs)


def _watch(sock) -> None:
    deadline = getattr(_attempt, "deadline", None)
    if sock is not None and deadline is not None:
        _attempt.tokens.append(_watchdog.watch(sock, deadline))


class _WatchedHTTP(_Watched, HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


# --- connection pools, one per checked address ------------------------------------------------

_POOLS: OrderedDict[tuple, urllib3.HTTPConnectionPool] = OrderedDict()
_POOLS_LOCK = threading.Lock()
MAX_POOLS = 64
CONNECTIONS_PER_POOL = 16  # one per sending thread (webhooks.delivery.SEND_THREADS)


def _pool(target: ssrf.Target, address: str) -> urllib3.HTTPConnectionPool:
    """Keep-alive connections to one checked address for one host name. Keyed by the address: a
    pool is only ever used after a fresh resolution gave (and the check passed) that address."""
    key = (target.scheme, address, target.port, target.host)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is not None:
            _POOLS.move_to_end(key)
            return pool
        common = {"port": target.port, "maxsize": CONNECTIONS_PER_POOL, "block": False, "retries": False}
        if target.scheme == "https":
            pool = _HTTPSPool(
                address, server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED", **common
            )
        else:
            pool = _HTTPPool(address, **common)
        _POOLS[key] = pool
        while len(_POOLS) > MAX_POOLS:
            _POOLS.popitem(last=False)[1].close()
        return pool


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")


def excerpt_of(data: bytes) -> str:
    return _CONTROL.sub(" ", data[: EXCERPT * 4].decode("utf-8", "replace"))[:EXCERPT]


def post(*, url: str, secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> Outcome:
    """One attempt. Never raises for what the far side does: a refusal, a failure to connect, a
    time-out or a non-2xx answer is an Outcome with ok False."""
    started = time.monotonic()
    try:
        target = ssrf.resolve(url)
    except ssrf.Refused as refused:
        return Outcome(ok=False, error=str(refused)[:200])
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }
    _attempt.deadline, _attempt.tokens = started + TOTAL_SECONDS, []
    error = ""
    try:
        for address in target.addresses:  # every one was checked; the first that answers
            remaining = started + TOTAL_SECONDS - time.monotonic()
            if remaining <= 0:
                error = "timed out"
                break
            timeout = urllib3.Timeout(connect=min(CONNECT_SECONDS, remaining), read=remaining)
            try:
                response = _pool(target, address).urlopen(
                    "POST",
                    target.path,
                    body=body,
                    headers=headers,
                    redirect=False,
                    retries=False,
                    timeout=timeout,
                    preload_content=False,
                    decode_content=False,
                    assert_same_host=False,
                )
            except urllib3.exceptions.NewConnectionError:
                error = "could not connect"
                continue
            except urllib3.exceptions.ConnectTimeoutError:
                error = "connect timed out"
                continue
            except (HTTPError, OSError) as failed:
                error = _error_words(failed, started)
                break
            try:
                data = response.read(READ_CAP)
            except (HTTPError, OSError) as failed:
                response.close()
                response.release_conn()
                return Outcome(
                    ok=False, status=response.status, error=_error_words(failed, started), latency_ms=_ms(started)
                )
            if len(data) == READ_CAP:
                response.close()  # more than we read: not worth keeping the connection for
            response.release_conn()
            return Outcome(
                ok=200 <= response.status < 300,
                status=response.status,
                error="" if response.status < 300 else ("redirect not followed" if response.status < 400 else ""),
                latency_ms=_ms(started),
                excerpt=excerpt_of(data),
            )
    finally:
        _watchdog.release(_attempt.tokens)
        _attempt.deadline, _attempt.tokens = None, []
    return Outcome(ok=False, error=error or "could not connect", latency_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _error_words(failed: Exception, started: float) -> str:
    if isinstance(failed, urllib3.exceptions.TimeoutError) or time.monotonic() - started >= TOTAL_SECONDS:
        return "timed out"
    if isinstance(failed, urllib3.exceptions.SSLError):
        return "TLS error"
    return "connection failed"
