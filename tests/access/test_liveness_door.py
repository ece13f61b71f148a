"""Liveness at the door and at enrollment, through the door API and the enrollment
service: printed and replayed attacks refused, a live member admitted, the head-turn challenge
(nonce, expiry, single use, bound to the tablet), a burst of one still picture refused, and a
centre with liveness off unchanged.

Live and attack images come from ../shared/pad/dev (JUSTFACE_PAD_DATA), read at test time and
never copied into the repository."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageOps

from access import liveness as door_liveness
from access import services
from access.models import AccessEvent, Challenge, Door, Scan
from consent.enrollment import enroll_face
from justface.face.liveness import (
    DEFAULT_REFERENCE,
    FLOOR_REFERENCE,
    Cues,
    photo_burst,
    reference_quantile,
    still_burst,
)
from members.models import Centre
from tests.access.conftest import consent_to_face_scan, pair_tablet
from tests.conftest import REPO, face_photo, make_member

# Subjects of pad/dev with both live frames (and print or replay attacks of the same person).
LIVE_PRINT_SUBJECT = "nuaa_0004"  # live webcam frames and printed photos of them
LIVE_REPLAY_SUBJECT = "td_b8ab8bcc"  # live selfie-video frames and replays of that video


def pad_dir() -> Path:
    folder = Path(os.environ.get("JUSTFACE_PAD_DATA", REPO.parent / "shared" / "pad" / "dev"))
    if not folder.is_dir():
        pytest.fail(
            f"Presentation-attack images not found at {folder}: set JUSTFACE_PAD_DATA to a folder with "
            "{bona_fide,print,replay}/<subject>/*.jpg (e.g. shared/pad/dev).",
            pytrace=False,
        )
    return folder


def pad_image(cls: str, subject: str, n: int = 0, max_side: int = 1280) -> bytes:
    path = sorted((pad_dir() / cls / subject).glob("*.jpg"))[n]
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture
def live_centre(world, tablet_a):
    """Centre A1 with the given liveness policy (no random challenges unless asked)."""

    def set_policy(mode: str, percent: int = 0) -> Centre:
        centre = world.centre_a1
        centre.liveness, centre.liveness_challenge_percent = mode, percent
        centre.save()
        return centre

    return set_policy


def enrolled_live(world, cls_subject: str, photo: int = 0, **overrides):
    member = make_member(world.chain_a, world.centre_a1, first_name="Lea", **overrides)
    consent_to_face_scan(member)
    outcome = enroll_face(member=member, image=pad_image("bona_fide", cls_subject, photo), actor=None)
    assert outcome.ok, outcome.reason
    return member


def answer(tablet, decision: dict, frames: list[bytes], nonce: str | None = None, after: float = 2.0):
    """POST the burst ``after`` seconds after the challenge was issued (the clock moved on, as
    the kiosk takes its frames: 400 ms + 9 x 150 ms at least)."""
    data = {
        "nonce": nonce if nonce is not None else decision["challenge"]["nonce"],
        "frames": [SimpleUploadedFile(f"f{i}.jpg", f, content_type="image/jpeg") for i, f in enumerate(frames)],
    }
    issued = Challenge.objects.get(scan_id=decision["id"]).created_at
    with time_machine.travel(issued + timedelta(seconds=after), tick=True):
        return tablet.client.post(f"/api/v1/door/scans/{decision['id']}/challenge/", data, **tablet.auth)


# --- passive layer --------------------------------------------------------------------------


def test_printed_photo_is_refused_at_the_door_and_recorded(world, tablet_a, live_centre):
    live_centre(Centre.Liveness.PASSIVE)
    enrolled_live(world, LIVE_PRINT_SUBJECT)
    body = tablet_a.scan(pad_image("print", LIVE_PRINT_SUBJECT, 0)).json()
    assert (body["status"], body["reason"], body["member"]) == ("denied", "liveness_failed", None)
    event = AccessEvent.objects.get()
    assert (event.reason, event.liveness_layer, event.member) == ("liveness_failed", "passive", None)
    assert event.liveness_score is not None and event.liveness_score < 0.33
    assert event.score is None  # nobody was identified: liveness comes first


def test_replayed_video_frame_is_refused_at_the_door(world, tablet_a, live_centre):
    live_centre(Centre.Liveness.PASSIVE)
    enrolled_live(world, LIVE_REPLAY_SUBJECT)
    body = tablet_a.scan(pad_image("replay", LIVE_REPLAY_SUBJECT, 0)).json()
    assert (body["status"], body["reason"]) == ("denied", "liveness_failed")


def test_live_member_is_admitted_with_the_passive_check(world, tablet_a, live_centre):
    live_centre(Centre.Liveness.PASSIVE)
    enrolled_live(world, LIVE_PRINT_SUBJECT, photo=0)
    body = tablet_a.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)).json()
    assert (body["status"], body["reason"], body["member"]) == ("granted", "ok", {"first_name": "Lea"})
    event = AccessEvent.objects.get()
    assert event.liveness_layer == "passive" and event.liveness_score >= 0.33
    assert event.liveness_detail["mode"] == "passive"
    assert set(event.liveness_detail["cues"]) == {"p_real", "v2", "fft"}  # scores only, no frame


@pytest.mark.parametrize("cls", ["print", "replay"])
def test_attack_photo_is_refused_at_enrollment(world, cls):
    subject = LIVE_PRINT_SUBJECT if cls == "print" else LIVE_REPLAY_SUBJECT
    world.centre_a1.liveness = Centre.Liveness.CHALLENGE_IN_DOUBT
    world.centre_a1.save()
    member = make_member(world.chain_a, world.centre_a1)
    consent_to_face_scan(member)
    outcome = enroll_face(member=member, image=pad_image(cls, subject, 1), actor=None)
    assert (outcome.ok, outcome.reason) == (False, "not_live")
    assert "not of a photo or a screen" in outcome.message
    assert not member.face_templates.exists()


def test_enrollment_message_is_translated(world):
    from django.utils import translation

    from justface.face_messages import enrollment_message

    english = enrollment_message("not_live")
    for language, word in (("da", "skærm"), ("nb", "skjerm")):
        with translation.override(language):
            assert enrollment_message("not_live") != english and word in enrollment_message("not_live")


# --- the challenge ----------------------------------------------------------------------------


def challenged(world, tablet, live_centre, mode=Centre.Liveness.CHALLENGE_ALWAYS) -> dict:
    live_centre(mode)
    enrolled_live(world, LIVE_PRINT_SUBJECT, photo=0)
    body = tablet.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)).json()
    assert body["status"] == "challenge", body
    return body


def test_challenge_is_issued_with_nonce_expiry_and_instruction(world, tablet_a, live_centre):
    body = challenged(world, tablet_a, live_centre)
    challenge = body["challenge"]
    assert challenge["instruction"] in ("turn_left", "turn_right")
    assert challenge["message"].startswith("Drej hovedet")  # centre A1 speaks Danish
    assert len(challenge["nonce"]) >= 32 and (challenge["frames"], challenge["interval_ms"]) == (10, 150)
    assert challenge["answer_url"].endswith(f"/api/v1/door/scans/{body['id']}/challenge/")
    row = Challenge.objects.get()
    assert row.nonce_hash != challenge["nonce"] and row.device_id == tablet_a.device.pk
    assert not AccessEvent.objects.exists()  # not decided yet: one event when it is
    # Polling the scan shows the challenge again, without the nonce (it is stored hashed only).
    polled = tablet_a.poll(body["id"]).json()
    assert polled["status"] == "challenge" and polled["challenge"]["nonce"] is None


def test_still_picture_burst_is_refused(world, tablet_a, live_centre):
    body = challenged(world, tablet_a, live_centre)
    still = Image.open(io.BytesIO(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)))
    frames = [jpeg(f) for f in still_burst(still, np.random.default_rng(5))]
    decision = answer(tablet_a, body, frames).json()
    assert (decision["status"], decision["reason"], decision["member"]) == ("denied", "liveness_failed", None)
    event = AccessEvent.objects.get()
    assert event.liveness_layer == "challenge" and event.liveness_detail["challenge"]["why"] in ("no_turn", "flat")
    assert event.liveness_detail["trigger"] == "always"


def test_two_photo_burst_is_refused(world, tablet_a, live_centre, colin):
    """The head turn answered with two ordinary photos of the member, [P, P, T, T],
    T mirrored when it turns the other way. Before the burst had to be one continuous capture,
    this was granted (photos 9 and 3 of Colin Powell: either instruction)."""
    live_centre(Centre.Liveness.CHALLENGE_ALWAYS)
    body = tablet_a.scan(face_photo("Colin_Powell", 9)).json()
    assert body["status"] == "challenge", body
    p = Image.open(io.BytesIO(face_photo("Colin_Powell", 9))).convert("RGB")
    t = Image.open(io.BytesIO(face_photo("Colin_Powell", 3))).convert("RGB")
    if body["challenge"]["instruction"] == "turn_left":
        t = ImageOps.mirror(t)  # photo 3 is turned to the member's right: mirrored, to the left
    decision = answer(tablet_a, body, [jpeg(f) for f in (p, p, t, t)]).json()
    assert (decision["status"], decision["reason"], decision["member"]) == ("denied", "liveness_failed", None)
    event = AccessEvent.objects.get()
    assert event.liveness_layer == "challenge" and event.member is None
    assert event.liveness_detail["challenge"]["why"] == "repeated_frames"
    assert event.liveness_detail["challenge"]["repeats"] == 2


def test_two_photo_burst_held_by_hand_is_refused(world, tablet_a, live_centre, colin):
    """The same two photos, each frame moved as a hand-held picture (no two frames alike): the
    cut from one photo to the other is no continuous capture and no gradual turn."""
    live_centre(Centre.Liveness.CHALLENGE_ALWAYS)
    body = tablet_a.scan(face_photo("Colin_Powell", 9)).json()
    assert body["status"] == "challenge", body
    photos = [Image.open(io.BytesIO(face_photo("Colin_Powell", n))).convert("RGB") for n in (9, 3)]
    mirrored = [1] if body["challenge"]["instruction"] == "turn_left" else []
    frames = photo_burst(photos, [0, 0, 0, 0, 1, 1, 1, 1], mirrored=mirrored, rng=np.random.default_rng(7))
    decision = answer(tablet_a, body, [jpeg(f) for f in frames]).json()
    assert (decision["status"], decision["reason"]) == ("denied", "liveness_failed")
    why = AccessEvent.objects.get().liveness_detail["challenge"]["why"]
    assert why in ("not_one_capture", "turn_not_gradual"), why


def test_an_answer_sooner_than_the_frames_take_is_refused(world, tablet_a, live_centre):
    """The server's own clock. 10 frames 150 ms apart cannot arrive 0.5 s after the
    challenge was issued: whatever the frames show, that burst was not taken by the kiosk."""
    body = challenged(world, tablet_a, live_centre)
    frame = pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)
    decision = answer(tablet_a, body, [frame] * 10, after=0.5).json()
    assert (decision["status"], decision["reason"]) == ("denied", "liveness_failed")
    detail = AccessEvent.objects.get().liveness_detail["challenge"]
    assert detail["why"] == "too_fast" and 400 <= detail["answered_after_ms"] < 1350


def test_challenge_answer_is_single_use(world, tablet_a, live_centre):
    body = challenged(world, tablet_a, live_centre)
    frame = pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)
    assert answer(tablet_a, body, [frame] * 4).status_code == 200
    again = answer(tablet_a, body, [frame] * 4)
    assert again.status_code == 409
    assert AccessEvent.objects.count() == 1


def test_wrong_nonce_is_refused(world, tablet_a, live_centre):
    body = challenged(world, tablet_a, live_centre)
    response = answer(tablet_a, body, [pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)] * 4, nonce="x" * 32)
    assert response.status_code == 403
    assert Scan.objects.get().status == "challenge" and not AccessEvent.objects.exists()


def test_another_tablet_cannot_answer(world, tablet_a, live_centre):
    body = challenged(world, tablet_a, live_centre)
    other = pair_tablet(world.centre_a1, "Side door")
    response = answer(other, body, [pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)] * 4)
    assert response.status_code == 404
    assert Scan.objects.get().status == "challenge"


def test_expired_challenge_is_refused_and_recorded(world, tablet_a, live_centre):
    body = challenged(world, tablet_a, live_centre)
    Challenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    decision = answer(tablet_a, body, [pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)] * 4).json()
    assert (decision["status"], decision["reason"]) == ("denied", "liveness_failed")
    event = AccessEvent.objects.get()
    assert event.liveness_layer == "challenge" and event.liveness_detail["challenge"] == {"why": "unanswered"}


def test_unanswered_challenge_is_decided_by_the_purge(world, tablet_a, live_centre):
    challenged(world, tablet_a, live_centre)
    assert services.expire_stale_scans(at=timezone.now() + timedelta(seconds=21)) == 1
    assert AccessEvent.objects.get().reason == "liveness_failed"
    assert Scan.objects.get().status == "denied"


def test_in_doubt_policy_challenges_what_is_not_clearly_live_for_this_door(world, tablet_a, live_centre):
    """A new door holds frames against the conservative default (a live member is
    challenged); once the door knows its camera the same member walks in unchallenged."""
    live_centre(Centre.Liveness.CHALLENGE_IN_DOUBT)
    member = enrolled_live(world, LIVE_PRINT_SUBJECT, photo=0)
    door_liveness.confirm_enrollment(member)  # as after an earlier live entry (its own test below)
    body = tablet_a.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3)).json()
    assert body["status"] == "challenge"
    assert Challenge.objects.get().trigger == "doubt"
    Door.objects.filter(pk=tablet_a.device.door_id).update(liveness_reference=FLOOR_REFERENCE.as_record())
    assert tablet_a.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 4)).json()["status"] == "granted"
    event = AccessEvent.objects.get()
    assert event.liveness_detail["reference"] == FLOOR_REFERENCE.as_record()


def test_a_good_print_scoring_live_at_a_new_door_is_challenged_not_let_in(world, tablet_a, live_centre):
    """A large, good printed photo (dev2, MSU-MFSD) that MiniFASNetV2 takes for live (p_real
    above the old grey band) meets the new door's default reference: the challenge, never a
    straight entry."""
    live_centre(Centre.Liveness.CHALLENGE_IN_DOUBT)
    path = (
        pad_dir().parent / "dev2" / "print" / "msu_client039" / "attack_client039_android_SD_printed_photo_scene01.jpg"
    )
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    body = tablet_a.scan(jpeg(image)).json()
    assert body["status"] == "challenge", body
    row = Challenge.objects.get()
    assert row.trigger == "doubt" and row.passive_score > 0.99  # the old policy let it walk in


def test_leaving_is_not_challenged(world, tablet_a, live_centre):
    live_centre(Centre.Liveness.CHALLENGE_ALWAYS)
    enrolled_live(world, LIVE_PRINT_SUBJECT, photo=0)
    body = tablet_a.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3), direction="out").json()
    assert body["status"] == "granted"


# --- off: exactly as before -----------------------------------------------------------------


def test_policy_off_admits_a_printed_photo_as_before(world, tablet_a, live_centre):
    """With liveness off nothing changes: a print of a member is matched like the member (the
    attack liveness is about), and the event carries no liveness fields."""
    live_centre(Centre.Liveness.OFF)
    enrolled_live(world, LIVE_PRINT_SUBJECT, photo=0)
    body = tablet_a.scan(pad_image("print", LIVE_PRINT_SUBJECT, 0)).json()
    event = AccessEvent.objects.get()
    assert body["reason"] != "liveness_failed"
    assert (event.liveness_layer, event.liveness_score, event.liveness_detail) == ("", None, {})


def test_policy_off_enrolls_a_press_photo_as_before(world, colin):
    assert colin.face_templates.count() == 1  # dev photos (press photos) enroll with liveness off
    member = make_member(world.chain_a, world.centre_a1)
    consent_to_face_scan(member)
    assert enroll_face(member=member, image=face_photo("John_Shimkus", 1), actor=None).ok


# --- schema and admin ----------------------------------------------------------------------------


def test_the_schema_documents_the_challenge(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    answer_op = schema["paths"]["/api/v1/door/scans/{scan_id}/challenge/"]["post"]
    assert set(answer_op["responses"]) >= {"200", "400", "401", "403", "404", "409", "413", "415"}
    body = answer_op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][body]["properties"]) == {"nonce", "frames"}
    challenge = schema["components"]["schemas"]["Challenge"]["properties"]
    assert {"instruction", "message", "nonce", "expires_at", "frames", "interval_ms", "answer_url"} <= set(challenge)


def test_admin_counts_failed_liveness_per_door_and_hour_and_flags_a_burst(world, tablet_a, live_centre, login):
    from access import selectors

    live_centre(Centre.Liveness.PASSIVE)
    printed = pad_image("print", LIVE_PRINT_SUBJECT, 0)
    for _ in range(selectors.LIVENESS_BURST):
        tablet_a.scan(printed)
    assert AccessEvent.objects.filter(reason="liveness_failed").count() == selectors.LIVENESS_BURST
    client = login("manager_a")
    report = client.get("/admin/access/accessevent/liveness/")
    assert report.status_code == 200
    text = report.content.decode()
    assert "Main entrance" in text and "Burst: someone may be trying" in text
    listing = client.get("/admin/access/accessevent/")
    assert "failed liveness checks" in listing.content.decode()
    # Another chain's manager sees none of it.
    other = login("manager_b").get("/admin/access/accessevent/liveness/").content.decode()
    assert "Main entrance" not in other and "No failed liveness checks" in other


# --- enrollment photos ------------------------------------------------------------


def dev2_image(cls: str, subject: str, name: str) -> bytes:
    path = pad_dir().parent / "dev2" / cls / subject / name
    return jpeg(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))


MSU_PRINT = ("print", "msu_client039", "attack_client039_android_SD_printed_photo_scene01.jpg")
MSU_LIVE = ("bona_fide", "msu_client023", "real_client023_android_SD_scene01.jpg")


def test_an_enrollment_photo_not_clearly_live_asks_for_the_challenge_at_the_door(world, tablet_a, live_centre):
    """Someone enrolls a good print of another person (it passes the refusal threshold): the
    template is kept but marked, and at a door that takes the print for live the member is
    challenged, not let in, until a live entry has confirmed the face."""
    live_centre(Centre.Liveness.CHALLENGE_IN_DOUBT)
    member = make_member(world.chain_a, world.centre_a1, first_name="Lea")
    consent_to_face_scan(member)
    outcome = enroll_face(member=member, image=dev2_image(*MSU_PRINT), actor=None)
    assert outcome.ok, outcome.reason
    assert list(member.face_templates.values_list("enrolled_live", flat=True)) == [False]
    Door.objects.filter(pk=tablet_a.device.door_id).update(liveness_reference=FLOOR_REFERENCE.as_record())
    body = tablet_a.scan(dev2_image(*MSU_PRINT)).json()
    assert body["status"] == "challenge", body
    assert Challenge.objects.get().trigger == "enrollment"
    # A live entry that passed the challenge confirms the face; the next entry walks in.
    assert door_liveness.confirm_enrollment(member) == 1
    assert not door_liveness.enrollment_in_doubt(member)


def test_a_clearly_live_enrollment_photo_lets_the_member_straight_in(world, tablet_a, live_centre):
    live_centre(Centre.Liveness.CHALLENGE_IN_DOUBT)
    member = make_member(world.chain_a, world.centre_a1, first_name="Lea")
    consent_to_face_scan(member)
    assert enroll_face(member=member, image=dev2_image(*MSU_LIVE), actor=None).ok
    assert list(member.face_templates.values_list("enrolled_live", flat=True)) == [True]
    Door.objects.filter(pk=tablet_a.device.door_id).update(liveness_reference=FLOOR_REFERENCE.as_record())
    body = tablet_a.scan(dev2_image(*MSU_LIVE)).json()
    assert (body["status"], body["member"]) == ("granted", {"first_name": "Lea"})
