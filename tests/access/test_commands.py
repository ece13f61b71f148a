"""create_door_token prints a working token once; door_simulate prints the decision."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
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
    photo = sorted((faces_dir() / "Colin_Powell").iterdir())[1]
    with pytest.raises(CommandError, match="Cannot read"):  # every frame is read before anything is decided
        run("door_simulate", f"--token={tablet_a.token}", "--image", str(photo), "--answer", str(tmp_path / "no.jpg"))
    assert not AccessEvent.objects.exists()


def test_door_simulate_ends_a_challenged_scan_with_a_final_decision(world, tablet_a, tmp_path):
    """A scan the centre answers with a liveness challenge crashed the command
    (a datetime json.dumps could not write) and stayed undecided. Now it prints the API's own
    rendering of the final decision: the challenge answered with --answer frames, or, without
    them, closed at once as unanswered."""
    from PIL import Image

    from access.models import Scan
    from justface.face.liveness import still_burst
    from members.models import Centre
    from tests.access.test_liveness_door import LIVE_PRINT_SUBJECT, enrolled_live, jpeg, pad_image

    world.centre_a1.liveness = Centre.Liveness.CHALLENGE_ALWAYS
    world.centre_a1.save()
    enrolled_live(world, LIVE_PRINT_SUBJECT, photo=0)
    photo = tmp_path / "member.jpg"
    photo.write_bytes(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3))

    out, err = StringIO(), StringIO()
    call_command("door_simulate", f"--token={tablet_a.token}", "--image", str(photo), stdout=out, stderr=err)
    decision = json.loads(out.getvalue())
    assert (decision["status"], decision["reason"], decision["member"]) == ("denied", "liveness_failed", None)
    assert "liveness challenge (turn " in err.getvalue() and "--answer" in err.getvalue()
    event = AccessEvent.objects.get()
    assert event.liveness_layer == "challenge" and event.liveness_detail["challenge"] == {"why": "unanswered"}

    # Answered with a burst of frames (here one still picture, which cannot turn): decided on them.
    still = Image.open(photo)
    frames = []
    for n, frame in enumerate(still_burst(still, np.random.default_rng(5))):
        frames.append(tmp_path / f"burst{n}.jpg")
        frames[-1].write_bytes(jpeg(frame))
    out, err = StringIO(), StringIO()
    call_command(
        "door_simulate",
        f"--token={tablet_a.token}",
        "--image",
        str(photo),
        "--answer",
        *map(str, frames),
        stdout=out,
        stderr=err,
    )
    decision = json.loads(out.getvalue())
    assert (decision["status"], decision["reason"]) == ("denied", "liveness_failed")
    assert "answering with the frames" in err.getvalue()
    assert AccessEvent.objects.count() == 2 and not Scan.objects.filter(status="challenge").exists()
    latest = AccessEvent.objects.order_by("-at", "-pk").first()
    assert latest.liveness_detail["challenge"]["why"] in ("no_turn", "flat")


def test_door_simulate_confirms_a_grey_zone_face_with_the_pin(world, tablet_a, tmp_path):
    from members.services import set_pin
    from tests.access.conftest import enrolled
    from tests.access.test_grey_zone import GREY_PERSON, GREY_PHOTO
    from tests.conftest import face_photo

    john = enrolled(world.chain_a, world.centre_a1, GREY_PERSON, first_name="John")
    set_pin(member=john, pin="4711", actor=None)
    photo = tmp_path / "john.jpg"
    photo.write_bytes(face_photo(GREY_PERSON, GREY_PHOTO))
    decision = json.loads(run("door_simulate", f"--token={tablet_a.token}", "--image", str(photo), "--pin", "4711"))
    assert (decision["status"], decision["method"], decision["member"]) == (
        "granted",
        "face_pin",
        {"first_name": "John"},
    )


def test_door_simulate_decides_every_real_face_under_the_default_policy(world, tablet_a, colin, tmp_path):
    """The probe's case: real faces at a centre on the default policy (challenge when in doubt):
    each run prints one final decision, and no scan is left waiting for a challenge."""
    from access.models import Scan
    from members.models import Centre

    world.centre_a1.liveness = Centre.Liveness.CHALLENGE_IN_DOUBT
    world.centre_a1.save()
    statuses = []
    for person, n in [("Colin_Powell", n) for n in range(2, 8)] + [("Tony_Blair", 1), ("John_Shimkus", 2)]:
        photo = tmp_path / f"{person}{n}.jpg"
        photo.write_bytes(sorted((faces_dir() / person).iterdir())[n - 1].read_bytes())
        statuses.append(json.loads(run("door_simulate", f"--token={tablet_a.token}", "--image", str(photo)))["status"])
    assert set(statuses) <= {"granted", "denied"}, statuses
    assert Scan.objects.filter(status__in=["pending", "challenge", "confirm"]).count() == 0
    assert AccessEvent.objects.count() == len(statuses)
