"""Verification of the server's signed open commands (the protocol of docs/door-agent.md).

A command as delivered::

    {"payload": "<base64url canonical JSON>", "kid": "<kid>", "signature": "<base64url Ed25519>"}

The signature is checked over the payload *bytes* before anything in them is parsed. Then the
payload must be ``{"v": 1, "type": "open", "door": <this door>, "event": int, "open_ms": 200..30000,
"issued_at": s, "not_after": s, "nonce": 32 hex}``.

Clock skew: the agent's clock is expected to be NTP-synced (systemd-timesyncd on a Raspberry Pi).
A command is refused when ``now > not_after + skew`` or ``issued_at > now + skew``; the default
tolerance is 2 s, so with the server's 5 s validity an agent clock more than 2 s behind the
server's refuses every command (``not_yet_valid``) and one more than 7 s ahead refuses every
command (``expired``): fail-secure, the door stays shut and each refusal is logged with its reason.

Replay: every accepted nonce is written (fsync'd, atomically replaced file) to the nonce store
*before* the relay moves, and kept until its not_after + skew has passed, so neither a second
delivery nor a restart of the agent opens twice for one command.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

OPEN_MS_MIN = 200
OPEN_MS_MAX = 30000
DEFAULT_SKEW = 2.0
_NONCE = re.compile(r"\A[0-9a-f]{32}\Z")


class Refused(Exception):
    """A command the agent will not obey; ``reason`` is a short code, ``detail`` a sentence."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class OpenCommand:
    door: str
    event: int
    open_ms: int
    issued_at: float
    not_after: float
    nonce: str


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_id(raw_public: bytes) -> str:
    """The protocol's kid: the first 16 hex chars of SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(raw_public).hexdigest()[:16]


def parse_public_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """``ed25519:<kid>:<base64 raw 32 bytes>`` -> (kid, key); ValueError with a sentence if wrong."""
    parts = text.strip().split(":") if isinstance(text, str) else []
    if len(parts) != 3 or parts[0] != "ed25519":
        raise ValueError("a public key looks like ed25519:<kid>:<base64 of 32 bytes>")
    _, kid, b64 = parts
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"public key {kid!r}: the key part is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"public key {kid!r}: {len(raw)} bytes, an Ed25519 public key has 32")
    if key_id(raw) != kid:
        raise ValueError(f"public key {kid!r}: the kid does not match the key (expected {key_id(raw)})")
    return kid, Ed25519PublicKey.from_public_bytes(raw)


class NonceStore:
    """Nonces already obeyed, on disk (JSON ``{nonce: not_after}``), surviving a restart."""

    def __init__(self, path: Path | str, *, skew: float = DEFAULT_SKEW, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.skew = skew
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                # An unreadable store could hide a replay: refuse to start rather than forget.
                raise RuntimeError(f"nonce store {self.path} is unreadable ({exc}); fix or remove it") from exc
            self._seen = {str(k): float(v) for k, v in data.items()}

    def __contains__(self, nonce: str) -> bool:
        with self._lock:
            return nonce in self._seen

    def add(self, nonce: str, not_after: float) -> bool:
        """Record ``nonce``; False if it was already there (a replay). Written to disk before returning."""
        with self._lock:
            now = self.clock()
            self._seen = {n: t for n, t in self._seen.items() if t + self.skew >= now}
            if nonce in self._seen:
                return False
            self._seen[nonce] = not_after
            self._write()
            return True

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self._seen, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


class Verifier:
    def __init__(
        self,
        *,
        public_keys: list[str],
        door: str,
        nonces: NonceStore,
        skew: float = DEFAULT_SKEW,
        clock: Callable[[], float] = time.time,
    ):
        self.keys = dict(parse_public_key(text) for text in public_keys)
        if not self.keys:
            raise ValueError("at least one server public key is needed")
        self.door = str(door)
        self.nonces = nonces
        self.skew = skew
        self.clock = clock

    def verify(self, command: object) -> OpenCommand:
        """The command to obey, or :class:`Refused`. A returned command's nonce is already recorded."""
        if not isinstance(command, dict):
            raise Refused("malformed", "a command is a JSON object")
        payload_b64, kid, sig_b64 = command.get("payload"), command.get("kid"), command.get("signature")
        if not all(isinstance(x, str) for x in (payload_b64, kid, sig_b64)):
            raise Refused("malformed", "payload, kid and signature must be strings")
        key = self.keys.get(kid)
        if key is None:
            raise Refused("unknown_kid", f"no public key with kid {kid[:32]!r}")
        try:
            payload = b64url_decode(payload_b64)
            signature = b64url_decode(sig_b64)
        except (ValueError, binascii.Error):
            raise Refused("malformed", "payload or signature is not base64url") from None
        try:
            key.verify(signature, payload)
        except InvalidSignature:
            raise Refused("bad_signature", "the signature does not verify") from None
        # Only signed bytes from here on.
        try:
            data = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Refused("bad_payload", "the signed payload is not JSON") from None
        if not isinstance(data, dict):
            raise Refused("bad_payload", "the signed payload is not an object")
        if data.get("v") != 1 or isinstance(data.get("v"), bool):
            raise Refused("bad_version", f"version {data.get('v')!r}, expected 1")
        if data.get("type") != "open":
            raise Refused("bad_type", f"type {data.get('type')!r}, expected 'open'")
        if data.get("door") != self.door:
            raise Refused("other_door", f"for door {data.get('door')!r}, this agent is door {self.door!r}")
        event, open_ms = data.get("event"), data.get("open_ms")
        issued_at, not_after, nonce = data.get("issued_at"), data.get("not_after"), data.get("nonce")
        if not isinstance(event, int) or isinstance(event, bool):
            raise Refused("bad_payload", "event must be an integer")
        for name, value in (("issued_at", issued_at), ("not_after", not_after)):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise Refused("bad_payload", f"{name} must be a number")
        if not isinstance(nonce, str) or not _NONCE.match(nonce):
            raise Refused("bad_payload", "nonce must be 32 lowercase hex characters")
        if not isinstance(open_ms, int) or isinstance(open_ms, bool) or not OPEN_MS_MIN <= open_ms <= OPEN_MS_MAX:
            raise Refused("bad_open_ms", f"open_ms {open_ms!r} outside {OPEN_MS_MIN}..{OPEN_MS_MAX}")
        now = self.clock()
        if now > not_after + self.skew:
            raise Refused("expired", f"not_after passed {now - not_after:.1f} s ago")
        if issued_at > now + self.skew:
            raise Refused("not_yet_valid", f"issued {issued_at - now:.1f} s in the future (clock skew?)")
        if not self.nonces.add(nonce, float(not_after)):
            raise Refused("replayed", f"nonce {nonce} was already obeyed")
        return OpenCommand(
            door=self.door,
            event=event,
            open_ms=open_ms,
            issued_at=float(issued_at),
            not_after=float(not_after),
            nonce=nonce,
        )


def sign_command(private_key, payload: dict) -> dict:
    """Make a signed command the way the server does (for tests and benches; the agent never signs)."""
    raw_pub = private_key.public_key().public_bytes_raw()
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return {"payload": b64url_encode(body), "kid": key_id(raw_pub), "signature": b64url_encode(private_key.sign(body))}


def public_key_text(private_key) -> str:
    raw = private_key.public_key().public_bytes_raw()
    return f"ed25519:{key_id(raw)}:{base64.b64encode(raw).decode('ascii')}"
