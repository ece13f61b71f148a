"""Erasure as one explicit path: each app erases its own data through its own service, and the
receipt counts every category removed (no invisible cascades)."""

from __future__ import annotations

from access.models import AccessEvent, Scan, Visit
from consent.models import ConsentRecord
from members.models import Invitation, Member
from members.services import invite_member, set_pin
from retention.services import erase_member
from tests.access.conftest import enrolled, open_around_the_clock, pair_tablet
from tests.conftest import face_photo


def test_the_receipt_counts_every_category(world, settings, mailoutbox):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example"
    open_around_the_clock(world.centre_a1)
    tablet = pair_tablet(world.centre_a1)
    colin = enrolled(world.chain_a, world.centre_a1, "Colin_Powell", first_name="Colin")
    set_pin(member=colin, pin="4711", actor=None)
    assert tablet.scan(face_photo("Colin_Powell", 2)).json()["status"] == "granted"
    tablet.pin(colin.member_number, "0000")  # a wrong PIN: a lockout row for the member number
    invite_member(member=colin, actor=None)

    receipt = erase_member(member=colin, actor=None, reason="test")

    assert receipt["member_id"] == colin.pk and receipt["face_templates"] == 1
    assert (receipt["check_ins_anonymised"], receipt["visits_deleted"], receipt["scans_deleted"]) == (1, 1, 1)
    assert receipt["pin_lockouts_deleted"] == 1 and receipt["consent_records_deleted"] == 1
    assert receipt["invitations_deleted"] == 1 and receipt["guardian_links_deleted"] == 0
    assert not Member.objects.filter(pk=colin.pk).exists() and not Invitation.objects.exists()
    assert not (Visit.objects.exists() or ConsentRecord.objects.exists())
    assert Scan.objects.filter(member_number_hash=colin.member_number_hash).count() == 0
    assert AccessEvent.objects.filter(member=None).count() == 2  # the face check-in and the wrong PIN
