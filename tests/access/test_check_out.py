"""Leaving by face: a photo of a member held to the tablet with *I am leaving*
must not name them, close their visit, or reveal their status. A check-out by face names the
member and closes the visit only when the centre's passive liveness check ran and the frame is
clearly live for the door's camera (as an entry with no challenge); every other check-out by face
gets one neutral goodbye, whoever is in the picture. Real faces: ../shared/faces/dev and the live, printed and replayed
frames of ../shared/pad/dev (passive scores as of this change: bona fide nuaa_0004 #3 0.99, #0 0.98;
td_b8ab8bcc's replay #5 0.49, in doubt; nuaa_0004's print #0 0.02)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from access.models import AccessEvent, Challenge, Door, Scan, Visit
from consent import services as consent_services
from consent.models import ConsentDocument
from justface.face.liveness import FLOOR_REFERENCE
from members.models import Centre, Exclusion, Member
from members.services import set_pin
from tests.access.conftest import kept_files, withdraw_face_consent
from tests.access.test_liveness_door import LIVE_PRINT_SUBJECT, LIVE_REPLAY_SUBJECT, enrolled_live, pad_image
from tests.conftest import face_photo

NEUTRAL = {
    "status": "granted",
    "reason": "goodbye",
    "message": "Farvel. Vi ses!",  # chain A's doors speak Danish
    "member": None,
    "method": "face",
    "direction": "out",
    "confirm_url": None,
    "challenge": None,
}
LIVE, LIVE_AGAIN = 3, 0  # bona fide frames of nuaa_0004 well above the doubt band


def shown(response) -> dict:
    """What the tablet gets, without what differs between any two answers (id, time)."""
    assert response.status_code == 200, response.content
    return {k: v for k, v in response.json().items() if k not in ("id", "decided_at")}


def out(tablet, photo: bytes) -> dict:
    return shown(tablet.scan(photo, direction="out"))


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"  # publishing a re-consent version e-mails links


@pytest.fixture
def passive(world, tablet_a):
    world.centre_a1.liveness = Centre.Liveness.PASSIVE
    world.centre_a1.save()
    return world.centre_a1


def publish_reconsent(chain) -> None:
    current = ConsentDocument.objects.get(chain=chain, kind=ConsentDocument.Kind.BIOMETRIC, version=1)
    draft = consent_services.new_version(document=current, actor=None)
    draft.body += "\nNow also at the exit."
    draft.requires_reconsent = True
    draft.save()
    consent_services.publish_document(document=draft, actor=None)


def test_with_liveness_off_a_photo_check_out_names_no_one_and_closes_nothing(world, tablet_a, colin, private_root):
    """No liveness check runs at this centre: a check-out by face can never tell a photo from the
    member, so it names no one, whoever is in the picture, and the visit and its door photo stay
    until the visit ends (or a PIN check-out, or the next check-in)."""
    assert tablet_a.scan(face_photo("Colin_Powell", 2)).json()["status"] == "granted"  # in, door photo kept
    assert len(kept_files(private_root)) == 1
    answers = {"member": out(tablet_a, face_photo("Colin_Powell", 3))}
    answers["stranger"] = out(tablet_a, face_photo("Tony_Blair", 1))
    Exclusion.objects.create(
        chain=world.chain_a,
        member_number=colin.member_number,
        full_name=colin.full_name,
        starts_on=date(2025, 1, 1),
        reason="Quarantine",
    )
    answers["excluded"] = out(tablet_a, face_photo("Colin_Powell", 4))
    Member.objects.filter(pk=colin.pk).update(restricted_since=timezone.now())
    answers["restricted"] = out(tablet_a, face_photo("Colin_Powell", 5))
    Member.objects.filter(pk=colin.pk).update(restricted_since=None)
    publish_reconsent(world.chain_a)
    answers["re-consent pending"] = out(tablet_a, face_photo("Colin_Powell", 6))
    assert all(answer == NEUTRAL for answer in answers.values()), answers
    visit = Visit.objects.get()
    assert visit.checked_out_at is None and len(kept_files(private_root)) == 1
    goodbyes = AccessEvent.objects.filter(direction="out")
    assert goodbyes.count() == 5 and set(goodbyes.values_list("member", "reason", "decision")) == {
        (None, "goodbye", "granted")
    }
    assert not Scan.objects.filter(direction="out").exclude(frame_file="").exists()  # no check-out frame kept
    # The PIN still checks the member out by name (and the door photo goes).
    body = tablet_a.pin(colin.member_number, "4711", direction="out").json()
    assert (body["status"], body["member"]) == ("granted", {"first_name": "Colin"})
    visit.refresh_from_db()
    assert visit.checked_out_at is not None


def test_a_clearly_live_member_is_checked_out_by_name(world, tablet_a, passive, private_root):
    """ "Clearly live" is the door's own: at a new door, whose cautious default
    reference challenges most members on the way in, a check-out by face rarely names anyone;
    at a door calibrated to its camera (here: to its floor), a live member leaves by name."""
    lea = enrolled_live(world, LIVE_PRINT_SUBJECT, photo=1)
    body = tablet_a.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, LIVE), direction="out").json()
    assert (body["reason"], body["member"]) == ("goodbye", None)  # new door: not clearly live enough
    Door.objects.filter(pk=tablet_a.device.door_id).update(liveness_reference=FLOOR_REFERENCE.as_record())
    assert tablet_a.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, LIVE_AGAIN)).json()["status"] == "granted"
    assert len(kept_files(private_root)) == 1
    body = tablet_a.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, LIVE), direction="out").json()
    assert (body["status"], body["reason"], body["member"]) == ("granted", "ok", {"first_name": "Lea"})
    assert body["message"] == "Farvel, Lea. Vi ses!"
    assert Visit.objects.get(member=lea).checked_out_at is not None
    assert not Scan.objects.exclude(frame_file="").exists()  # the door photo went with the visit
    event = AccessEvent.objects.filter(direction="out").latest("pk")
    assert (event.member, event.liveness_layer) == (lea, "passive") and event.liveness_score >= 0.9


def test_a_print_or_a_replay_of_a_member_checks_out_no_one(world, tablet_a, private_root):
    """Whatever the centre's policy (the challenge is never asked on the way out), a printed photo
    or a replayed video of a member gets the very answer a stranger's does, and the member's
    visit stays open."""
    lea = enrolled_live(world, LIVE_PRINT_SUBJECT, photo=1)
    set_pin(member=lea, pin="4711", actor=None)
    ida = enrolled_live(world, LIVE_REPLAY_SUBJECT, photo=0)
    set_pin(member=ida, pin="2580", actor=None)
    for policy in (Centre.Liveness.PASSIVE, Centre.Liveness.CHALLENGE_IN_DOUBT, Centre.Liveness.CHALLENGE_ALWAYS):
        world.centre_a1.liveness = policy
        world.centre_a1.save()
        for member, pin in ((lea, "4711"), (ida, "2580")):
            assert tablet_a.pin(member.member_number, pin).json()["status"] == "granted"
        answers = {
            "print of a member": out(tablet_a, pad_image("print", LIVE_PRINT_SUBJECT, 0)),
            "replay of a member (in doubt)": out(tablet_a, pad_image("replay", LIVE_REPLAY_SUBJECT, 5)),
            "print of a stranger": out(tablet_a, pad_image("print", "nuaa_0001", 0)),
            "a live stranger": out(tablet_a, pad_image("bona_fide", "nuaa_0001", 0)),
        }
        assert all(answer == NEUTRAL for answer in answers.values()), (policy, answers)
        assert Visit.objects.filter(checked_out_at=None).count() == 2
        assert not Challenge.objects.exists()
    assert not AccessEvent.objects.filter(direction="out").exclude(member=None).exists()


def test_a_live_member_in_doubt_for_the_door_checks_out_no_one(world, tablet_a, passive):
    lea = enrolled_live(world, LIVE_PRINT_SUBJECT, photo=1)
    set_pin(member=lea, pin="4711", actor=None)
    assert tablet_a.pin(lea.member_number, "4711").json()["status"] == "granted"
    # A new door's cautious reference: this live frame is in doubt there, so it names no one.
    assert out(tablet_a, pad_image("bona_fide", LIVE_PRINT_SUBJECT, LIVE)) == NEUTRAL
    assert Visit.objects.get().checked_out_at is None
    # The door calibrated to its camera: the same frame is clearly live and names Lea.
    Door.objects.filter(pk=tablet_a.device.door_id).update(liveness_reference=FLOOR_REFERENCE.as_record())
    assert out(tablet_a, pad_image("bona_fide", LIVE_PRINT_SUBJECT, LIVE))["member"] == {"first_name": "Lea"}
    assert Visit.objects.get().checked_out_at is not None


def test_a_live_check_out_never_reveals_a_status(world, tablet_a, passive):
    """A clearly live face of a member whose face may not name them (withdrawn consent, re-consent
    pending, restricted) gets the stranger's neutral goodbye; an excluded member leaving is named
    like anyone leaving (leaving is never refused), so the exclusion shows nowhere."""
    lea = enrolled_live(world, LIVE_PRINT_SUBJECT, photo=1)
    Door.objects.filter(pk=tablet_a.device.door_id).update(liveness_reference=FLOOR_REFERENCE.as_record())
    live = pad_image("bona_fide", LIVE_PRINT_SUBJECT, LIVE)
    named = out(tablet_a, live)
    assert named["member"] == {"first_name": "Lea"}
    Exclusion.objects.create(
        chain=world.chain_a, member_number=lea.member_number, full_name=lea.full_name, starts_on=date(2025, 1, 1)
    )
    assert out(tablet_a, live) == named
    Exclusion.objects.all().delete()
    stranger = out(tablet_a, pad_image("bona_fide", "nuaa_0001", 0))
    assert stranger == NEUTRAL
    Member.objects.filter(pk=lea.pk).update(restricted_since=timezone.now())
    assert out(tablet_a, live) == stranger
    Member.objects.filter(pk=lea.pk).update(restricted_since=None)
    publish_reconsent(world.chain_a)
    assert out(tablet_a, live) == stranger
    withdraw_face_consent(lea)
    assert out(tablet_a, live) == stranger
