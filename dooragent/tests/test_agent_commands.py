"""Verification of signed open commands (docs/door-agent.md): real Ed25519, a real nonce file."""

from __future__ import annotations

import json

import pytest
from agent_helpers import DOOR, NOW, payload
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dooragent.commands import (
    NonceStore,
    Refused,
    Verifier,
    b64url_decode,
    b64url_encode,
    parse_public_key,
    public_key_text,
    sign_command,
)


@pytest.fixture
def clock():
    class Clock:
        now = NOW

        def __call__(self):
            return self.now

    return Clock()


@pytest.fixture
def verifier(tmp_path, server_public, clock):
    def make(keys=None):
        store = NonceStore(tmp_path / "nonces.json", clock=clock)
        return Verifier(public_keys=keys or [server_public], door=DOOR, nonces=store, clock=clock)

    return make


def refused(verifier, command) -> str:
    with pytest.raises(Refused) as info:
        verifier.verify(command)
    return info.value.reason


def test_a_valid_command_is_obeyed(verifier, make_command):
    command = make_command(event=99, open_ms=4000)
    cmd = verifier().verify(command)
    assert (cmd.door, cmd.event, cmd.open_ms) == (DOOR, 99, 4000)
    assert cmd.nonce == json.loads(b64url_decode(command["payload"]))["nonce"]


def test_forged_signature_is_refused(verifier, make_command, server_public):
    # Signed by someone else's key but naming the server's kid.
    forged = make_command(key=Ed25519PrivateKey.generate())
    forged["kid"] = parse_public_key(server_public)[0]
    assert refused(verifier(), forged) == "bad_signature"


def test_a_changed_payload_is_refused(verifier, make_command):
    command = make_command()
    data = json.loads(b64url_decode(command["payload"]))
    data["open_ms"] = 30000
    command["payload"] = b64url_encode(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    assert refused(verifier(), command) == "bad_signature"


def test_unknown_kid_is_refused(verifier, make_command):
    assert refused(verifier(), make_command(key=Ed25519PrivateKey.generate())) == "unknown_kid"


def test_signature_is_checked_before_the_payload_is_read(verifier, make_command, server_public):
    # Garbage that is not JSON at all, under the right kid: refused for its signature, never parsed.
    command = make_command()
    command["payload"] = b64url_encode(b"\xff not json")
    assert refused(verifier(), command) == "bad_signature"


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"door": "8"}, "other_door"),
        ({"door": 7}, "other_door"),
        ({"v": 2}, "bad_version"),
        ({"v": True}, "bad_version"),
        ({"type": "unlock"}, "bad_type"),
        ({"open_ms": 199}, "bad_open_ms"),
        ({"open_ms": 30001}, "bad_open_ms"),
        ({"open_ms": 3000.5}, "bad_open_ms"),
        ({"nonce": "abc"}, "bad_payload"),
        ({"event": "41"}, "bad_payload"),
        ({"not_after": None}, "bad_payload"),
    ],
)
def test_bad_fields_are_refused(verifier, make_command, overrides, reason):
    assert refused(verifier(), make_command(**overrides)) == reason


def test_a_signed_non_object_is_refused(verifier, server_key):
    body = b"[1,2]"
    command = sign_command(server_key, {})
    command["payload"] = b64url_encode(body)
    command["signature"] = b64url_encode(server_key.sign(body))
    assert refused(verifier(), command) == "bad_payload"


@pytest.mark.parametrize("command", [None, [], "x", {"payload": 1, "kid": "a", "signature": "b"}, {}])
def test_malformed_deliveries_are_refused(verifier, command):
    assert refused(verifier(), command) == "malformed"


def test_bad_base64_is_refused(verifier, make_command):
    command = make_command()
    command["signature"] = "***"
    assert refused(verifier(), command) == "malformed"


def test_expiry_with_the_documented_skew_tolerance(verifier, make_command, clock):
    v = verifier()
    command = make_command(NOW)  # not_after = NOW + 5
    clock.now = NOW + 5 + 2.5  # past not_after + 2 s tolerance
    assert refused(v, command) == "expired"
    clock.now = NOW + 5 + 1.9  # within tolerance: still valid
    assert v.verify(make_command(NOW)).open_ms == 3000


def test_a_command_from_the_future_is_refused(verifier, make_command):
    assert refused(verifier(), make_command(NOW + 2.5)) == "not_yet_valid"
    assert verifier().verify(make_command(NOW + 1.5)).open_ms == 3000


def test_a_replay_is_refused(verifier, make_command):
    v = verifier()
    command = make_command()
    v.verify(command)
    assert refused(v, command) == "replayed"


def test_a_restart_replays_nothing(verifier, make_command):
    command = make_command()
    verifier().verify(command)
    # A new agent process: a new Verifier and NonceStore reading the same file.
    assert refused(verifier(), command) == "replayed"


def test_expired_nonces_leave_the_store(tmp_path, clock):
    store = NonceStore(tmp_path / "n.json", clock=clock)
    assert store.add("a" * 32, NOW + 5)
    clock.now = NOW + 5 + 2.1
    assert store.add("b" * 32, NOW + 12)
    assert json.loads((tmp_path / "n.json").read_text()) == {"b" * 32: NOW + 12}


def test_an_unreadable_nonce_store_stops_the_agent(tmp_path):
    (tmp_path / "n.json").write_text("{not json")
    with pytest.raises(RuntimeError, match="unreadable"):
        NonceStore(tmp_path / "n.json")


def test_key_rotation_accepts_both_keys(verifier, make_command, server_public):
    new_key = Ed25519PrivateKey.generate()
    v = verifier([server_public, public_key_text(new_key)])
    assert v.verify(make_command()).open_ms == 3000
    assert v.verify(sign_command(new_key, payload())).open_ms == 3000
    # Once the old key is retired, its commands are refused.
    assert refused(verifier([public_key_text(new_key)]), make_command()) == "unknown_kid"


@pytest.mark.parametrize(
    "text",
    ["", "rsa:0000000000000000:AAAA", "ed25519:0000000000000000:AAAA", "ed25519:0000000000000000:!!!"],
)
def test_bad_public_keys_are_named(text):
    with pytest.raises(ValueError):
        parse_public_key(text)


def test_a_public_key_with_the_wrong_kid_is_refused(server_public):
    _, kid, b64 = server_public.split(":")
    with pytest.raises(ValueError, match="kid does not match"):
        parse_public_key(f"ed25519:{'0' * 16}:{b64}")
