"""The server's Ed25519 key that signs door open commands (docs/door.md).

Only the server holds the private key: a door agent obeys a command only if it carries this key's
signature, so a stolen tablet token, a spoofed network or a copied database row opens nothing.
The key comes from JUSTFACE_DOOR_SIGNING_KEY (base64 of the raw 32-byte private key) or else from
DATA_DIR/keys/door-signing.key, created (mode 0600) on first use. Rotation: README "Door agents"."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ENV_NAME = "JUSTFACE_DOOR_SIGNING_KEY"
KEY_FILE = "door-signing.key"
_RAW = serialization.Encoding.Raw


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)

    @property
    def kid(self) -> str:
        return key_id(self.public_raw)

    @property
    def public_text(self) -> str:
        """`ed25519:<kid>:<base64 raw>`: what an agent is paired with (docs/door-agent.md)."""
        return f"ed25519:{self.kid}:{base64.b64encode(self.public_raw).decode()}"

    def sign(self, payload: dict) -> dict:
        """The command as delivered: base64url payload bytes, kid, base64url signature."""
        data = canonical(payload)
        return {"payload": b64url(data), "kid": self.kid, "signature": b64url(self.private.sign(data))}


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def public_key_from_text(text: str) -> tuple[str, Ed25519PublicKey]:
    """(kid, key) from `ed25519:<kid>:<base64>`; ValueError when it is not one or the kid lies."""
    scheme, _, rest = text.strip().partition(":")
    kid, _, encoded = rest.partition(":")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the public key is not base64") from None
    if scheme != "ed25519" or len(raw) != 32 or key_id(raw) != kid:
        raise ValueError("not an ed25519:<kid>:<base64 32 bytes> public key")
    return kid, Ed25519PublicKey.from_public_bytes(raw)


def _from_env(value: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{ENV_NAME} must be the base64 of a raw 32-byte Ed25519 private key.")
    return Ed25519PrivateKey.from_private_bytes(raw)


def _from_file(path: Path) -> Ed25519PrivateKey:
    """Read the key file, or create it (0600, never overwriting one a parallel process wrote)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        raw = Ed25519PrivateKey.generate().private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race: use its key
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(raw).decode() + "\n")
    return _from_env_file(path)


def _from_env_file(path: Path) -> Ed25519PrivateKey:
    try:
        return _from_env(path.read_text())
    except ImproperlyConfigured:
        raise ImproperlyConfigured(f"{path} is not a base64 raw 32-byte Ed25519 private key.") from None


_lock = threading.Lock()
_cache: dict[str, SigningKey] = {}


def signing_key() -> SigningKey:
    """The server's key (cached per source, so a test's settings override takes effect)."""
    value = getattr(settings, ENV_NAME, "")
    path = Path(settings.DATA_DIR) / "keys" / KEY_FILE
    source = f"env:{value}" if value else f"file:{path}"
    with _lock:
        if source not in _cache:
            _cache[source] = SigningKey(_from_env(value) if value else _from_file(path))
        return _cache[source]
