"""Helpers shared by the door agent's tests (imported as a plain module: dooragent/tests is on sys.path)."""

from __future__ import annotations

import secrets
import socket

import osdp

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
        "token": "agent-token",
        "door": DOOR,
        "public_keys": public_keys,
        "state_dir": str(tmp_path / "state"),
        "driver": driver,
        **extra,
    }
    config, problems = from_dict(data, base=tmp_path)
    assert problems == [], problems
    return config
