"""The server's door-signing key and the commands that hand out keys: create_door_agent prints the
agent's credential and the server's public key; a key from the environment wins over the file; a
new pair for rotation (docs/door-agent.md)."""

from __future__ import annotations

import base64
import io
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.test import Client

from access import door_signing
from access.models import DeviceToken, DoorAgent


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.JUSTFACE_DOOR_SIGNING_KEY = ""
    return settings.DATA_DIR


def test_create_door_agent_prints_the_credential_and_the_public_key(world, key_dir):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_door_agent", "--centre", "a1", "--door", "Side door", stdout=out, stderr=err)
    token, public, *rest = out.getvalue().splitlines()
    assert rest == [] and "Shown once" in err.getvalue()
    assert public == door_signing.signing_key().public_text and public.startswith("ed25519:")
    agent = DoorAgent.objects.get()
    assert agent.door.name == "Side door" and token not in agent.token_hash
    assert Client().get("/api/v1/agent/commands/", {"wait": 0}, HTTP_AUTHORIZATION=f"Agent {token}").status_code == 200
    key_file = key_dir / "keys" / "door-signing.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert not DeviceToken.objects.exists()


def test_the_key_from_the_environment_wins_and_a_bad_one_is_refused(world, settings):
    from django.core.management.base import CommandError

    raw = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives import serialization

    secret = raw.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    settings.JUSTFACE_DOOR_SIGNING_KEY = base64.b64encode(secret).decode()
    public = raw.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert door_signing.signing_key().public_text.endswith(base64.b64encode(public).decode())
    settings.JUSTFACE_DOOR_SIGNING_KEY = "not-a-key"
    with pytest.raises(CommandError, match="signing key"):
        call_command("create_door_agent", "--centre", "a1", "--door", "Side door", stdout=io.StringIO())
    assert not DoorAgent.objects.exists()


def test_door_public_key_prints_the_key_in_use_and_makes_a_new_pair_for_rotation(db, settings):
    out = io.StringIO()
    call_command("door_public_key", stdout=out)
    assert out.getvalue().strip() == door_signing.signing_key().public_text
    out = io.StringIO()
    call_command("door_public_key", "--new", stdout=out, stderr=io.StringIO())
    private, public = out.getvalue().splitlines()
    settings.JUSTFACE_DOOR_SIGNING_KEY = private
    assert door_signing.signing_key().public_text == public != door_signing.public_key_from_text(public)[0]
