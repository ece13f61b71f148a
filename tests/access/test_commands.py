"""create_door_token prints a working token once; door_simulate prints the decision."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from access.models import AccessEvent, DeviceToken, Door
from tests.conftest import faces_dir


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_create_door_token_then_simulate_a_scan(tablet_a, colin, world):
    token = run("create_door_token", "--centre", "a1", "--chain", "alpha", "--door", "Garage door")
    door = Door.objects.get(name="Garage door")
    assert DeviceToken.objects.filter(door=door).count() == 1 and token not in str(DeviceToken.objects.values())
    photo = sorted((faces_dir() / "Colin_Powell").iterdir())[1]
    decision = json.loads(run("door_simulate", f"--token={token}", "--image", str(photo)))
    assert (decision["status"], decision["reason"], decision["member"]) == ("granted", "ok", {"first_name": "Colin"})
    assert AccessEvent.objects.get().door == door
    # A second token for the same door reuses the door.
    run("create_door_token", "--centre", "a1", "--chain", "alpha", "--door", "Garage door")
    assert Door.objects.filter(name="Garage door").count() == 1 and door.tokens.count() == 2


@pytest.mark.parametrize(
    "args, words",
    [
        (["--centre", "nowhere", "--door", "X"], "No centre"),
        (["--centre", "a1", "--chain", "beta", "--door", "X"], "No centre"),
        (["--centre", "a1", "--door", " "], "--door"),
    ],
)
def test_create_door_token_refuses_bad_input(world, args, words):
    with pytest.raises(CommandError, match=words):
        run("create_door_token", *args)
    assert not Door.objects.exists()


def test_create_door_token_asks_which_chain_when_the_slug_is_ambiguous(world):
    world.centre_b1.slug = "a1"
    world.centre_b1.save()
    with pytest.raises(CommandError, match="--chain"):
        run("create_door_token", "--centre", "a1", "--door", "X")


def test_door_simulate_refuses_bad_tokens_and_files(tablet_a, tmp_path):
    with pytest.raises(CommandError, match="Unknown or revoked"):
        run("door_simulate", "--token", "nope", "--image", str(tmp_path / "x.jpg"))
    with pytest.raises(CommandError, match="Cannot read"):
        run("door_simulate", f"--token={tablet_a.token}", "--image", str(tmp_path / "missing.jpg"))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CommandError, match="JPEG, PNG or WebP"):
        run("door_simulate", f"--token={tablet_a.token}", "--image", str(text))
    assert not AccessEvent.objects.exists()
