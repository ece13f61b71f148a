"""Shared fixtures of the door agent's tests: a test signing key, a real LibOSDP peripheral device
on a socket pair (secure channel on), a real mosquitto broker on a free loopback port."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The agent is its own package (pip install ./dooragent); the tests also run from a plain checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import osdp  # noqa: E402
from agent_helpers import NOW, SocketChannel, free_port, payload  # noqa: E402
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
    yield SocketChannel(cp_sock), pd, scbk
    pd.stop()
    cp_sock.close()
    pd_sock.close()


@pytest.fixture
def mosquitto(tmp_path):
    """A real mosquitto broker in the foreground on a free loopback port; yields the port."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if binary is None:
        pytest.fail("mosquitto is not installed (make test installs Debian's mosquitto)")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"mosquitto exited: {proc.stderr.read().decode()[:300]}")
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("mosquitto did not listen within 10 s")
    yield port
    proc.terminate()
    proc.wait(5)
