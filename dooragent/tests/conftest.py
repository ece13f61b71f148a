"""Shared fixtures of the door agent's tests: a test signing key, a real LibOSDP peripheral device
on a socket pair (secure channel on), a real mosquitto broker on a free loopback port."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The agent is its own package (pip install ./dooragent); the tests also run from a plain checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from agent_helpers import NOW, payload, running_mosquitto, running_peripheral  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from dooragent.commands import public_key_text, sign_command  # noqa: E402


@pytest.fixture(scope="session")
def server_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def server_public(server_key):
    return public_key_text(server_key)


@pytest.fixture
def make_command(server_key):
    def make(now: float = NOW, *, key=None, **overrides) -> dict:
        return sign_command(key or server_key, payload(now, **overrides))

    return make


@pytest.fixture
def osdp_pair():
    """(cp_channel, pd, scbk): a started LibOSDP PeripheralDevice with output control and contact
    monitoring, secure channel enforced; the agent's driver gets cp_channel."""
    with running_peripheral() as pair:
        yield pair


@pytest.fixture
def mosquitto(tmp_path):
    """A real mosquitto broker in the foreground on a free loopback port; yields the port."""
    try:
        with running_mosquitto(tmp_path) as port:
            yield port
    except RuntimeError as exc:
        pytest.fail(str(exc))
