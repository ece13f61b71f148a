"""A membership that ends through the integration starts what ending it in the admin starts:
the end is stamped like an admin edit (Member.refresh_ended_at), and the retention job erases
face data the day after, the whole member after the check-in period; a member who comes back
before the erasure keeps templates and consent, as the notices say ("at the latest ... after
your membership ends": it did not stay ended)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from consent.models import ConsentRecord
from consent.selectors import biometric_consent_active
from integration.models import FeedEvent
from integration.sync import upsert_member
from justface.models import AuditEntry
from members.models import FaceTemplate, Member
from retention.jobs import purge_due
from tests.conftest import make_member
from tests.consent.test_enrollment import consent_to_face_scan
from tests.retention.test_policy_erasure import with_template


def _enrolled(world, number: str) -> Member:
    member = make_member(world.chain_a, world.centre_a1, member_number=number)
    consent_to_face_scan(member)
    return with_template(member)


def test_status_ended_stamps_the_end_exactly_as_the_admin_does(clock, world):
    by_api, by_admin = _enrolled(world, "API-1"), _enrolled(world, "ADM-1")
    assert upsert_member(chain=world.chain_a, external_id="API-1", data={"status": "ended"}, actor=None).outcome == (
        "updated"
    )
    by_admin.status = Member.Status.ENDED
    by_admin.save()  # what the admin's change form does
    by_api.refresh_from_db()
    assert by_api.ended_at is not None and by_api.ended_at.date() == by_admin.ended_at.date()
    assert by_api.membership_end_day() == by_admin.membership_end_day() == timezone.localdate()


def test_end_of_membership_erases_on_the_retention_schedule(clock, world):
    member = _enrolled(world, "END-1")
    upsert_member(chain=world.chain_a, external_id="END-1", data={"status": "ended"}, actor=None)
    purge_due(at=timezone.now())
    assert FaceTemplate.objects.filter(member=member).exists()  # kept through the last day

    clock.shift(timedelta(days=1))
    purge_due(at=timezone.now())
    assert not FaceTemplate.objects.filter(member=member).exists()
    assert Member.objects.filter(pk=member.pk).exists()  # only the biometrics went
    assert FeedEvent.objects.filter(kind=FeedEvent.Kind.FACE_ERASED, member_id=member.pk).exists()

    clock.shift(timedelta(days=member.chain.policy.checkins_retention_days))
    purge_due(at=timezone.now())
    assert not Member.objects.filter(pk=member.pk).exists()
    erased = FeedEvent.objects.get(kind=FeedEvent.Kind.MEMBER_ERASED, member_id=member.pk)
    assert erased.data == {"member_id": member.pk}  # the member number went with the member
    # Earlier events of the member lost the member number with the member.
    face_events = FeedEvent.objects.filter(kind=FeedEvent.Kind.FACE_ERASED, member_id=member.pk)
    assert face_events and all("external_id" not in e.data for e in face_events)
    assert AuditEntry.objects.filter(action="member.erase", object_id=str(member.pk)).exists()


def test_an_end_date_that_passes_erases_like_a_status(clock, world):
    member = _enrolled(world, "END-2")
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    upsert_member(chain=world.chain_a, external_id="END-2", data={"end_date": yesterday}, actor=None)
    purge_due(at=timezone.now())
    assert not FaceTemplate.objects.filter(member=member).exists()


def test_a_member_who_returns_before_the_erasure_keeps_face_and_consent(clock, world):
    member = _enrolled(world, "BACK-1")
    upsert_member(chain=world.chain_a, external_id="BACK-1", data={"status": "ended"}, actor=None)
    upsert_member(chain=world.chain_a, external_id="BACK-1", data={"status": "active"}, actor=None)
    member.refresh_from_db()
    assert member.ended_at is None
    clock.shift(timedelta(days=2))
    purge_due(at=timezone.now())
    assert FaceTemplate.objects.filter(member=member).exists()
    assert biometric_consent_active(member)


def test_a_member_who_returns_after_the_erasure_enrolls_again(clock, world):
    member = _enrolled(world, "BACK-2")
    upsert_member(chain=world.chain_a, external_id="BACK-2", data={"status": "ended"}, actor=None)
    clock.shift(timedelta(days=1))
    purge_due(at=timezone.now())
    upsert_member(chain=world.chain_a, external_id="BACK-2", data={"status": "active"}, actor=None)
    # The face data went on the schedule and stays gone; the signed consent record stays as proof
    # (kept with the member, as the notice's "consent records" period says) and nothing is restored.
    assert not FaceTemplate.objects.filter(member=member).exists()
    assert ConsentRecord.objects.filter(member=member).exists()
