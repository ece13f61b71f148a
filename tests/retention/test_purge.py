"""The retention purge: door photos go at their deadline through erasure jobs that exactly one
worker claims; orphaned pending scans end as `unavailable`; old scans go, their events stay."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from access.models import AccessEvent, Scan, Visit
from justface.models import AuditEntry
from retention.jobs import claim, purge_due
from retention.models import ErasureJob
from tests.access.conftest import kept_files
from tests.conftest import face_photo


def checked_in(tablet, identity="Colin_Powell"):
    response = tablet.scan(face_photo(identity, 2))
    assert response.json()["status"] == "granted"
    return Scan.objects.get(pk=response.json()["id"])


def test_a_door_photo_goes_at_its_deadline_once(
    tablet_a, colin, private_root, world, django_capture_on_commit_callbacks
):
    scan = checked_in(tablet_a)
    assert purge_due()["jobs_planned"] == 0 and len(kept_files(private_root)) == 1  # not due yet
    later = scan.frame_expires_at + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        report = purge_due(at=later)
    assert (report["jobs_planned"], report["jobs_done"], report["jobs_failed"]) == (1, 1, 0)
    assert kept_files(private_root) == []
    job = ErasureJob.objects.get()
    assert (job.kind, job.subject_type, job.subject_id, job.chain) == (
        "door_photo",
        "access.scan",
        str(scan.pk),
        world.chain_a,
    )
    assert job.done_at and job.outcome == "deleted"
    assert (
        AuditEntry.objects.filter(action="door_photo.erase", object_id=str(scan.pk), actor_kind="system").count() == 1
    )
    # The visit has ended on its own: nobody is counted inside any more.
    assert not Visit.objects.filter(ends_at__gt=later).exists()
    assert purge_due(at=later)["jobs_done"] == 0  # nothing runs twice


def test_a_job_is_taken_only_while_undone_and_as_read(tablet_a, colin, world):
    now = timezone.now()
    job = ErasureJob.objects.create(
        chain=world.chain_a,
        kind="door_photo",
        subject_type="access.scan",
        subject_id="00000000-0000-0000-0000-000000000000",
        due_at=now,
    )
    seen = ErasureJob.objects.get(pk=job.pk)
    ErasureJob.objects.filter(pk=job.pk).update(claimed_at=now)  # another worker's failed attempt meanwhile
    with transaction.atomic():
        assert claim(seen) is False  # read before that: lost the compare
    assert purge_due(at=now + timedelta(minutes=1))["jobs_done"] == 0  # a fresh failed attempt: left alone
    # After CLAIM_EXPIRES the job is tried again (workers that die leave no claim: test_purge_workers).
    report = purge_due(at=now + timedelta(minutes=11))
    assert report["jobs_done"] == 1 and ErasureJob.objects.get().outcome == "already gone"
    with transaction.atomic():
        assert claim(ErasureJob.objects.get()) is False  # done


def test_orphaned_pending_scans_are_decided_and_old_scans_purged(tablet_a, colin, world):
    checked_in(tablet_a)
    lost = Scan.objects.create(device=tablet_a.device, door=tablet_a.device.door, centre=world.centre_a1, method="face")
    report = purge_due(at=timezone.now() + timedelta(minutes=1))
    assert report["scans_expired"] == 1
    lost.refresh_from_db()
    assert (lost.status, lost.reason) == ("denied", "unavailable")
    # A day on, decided scans go (the granted one once this run has erased its door photo);
    # their access events stay.
    report = purge_due(at=timezone.now() + timedelta(days=2))
    assert report["jobs_done"] == 1 and report["scans_deleted"] == 2 and not Scan.objects.exists()
    assert AccessEvent.objects.count() == 2 and AccessEvent.objects.filter(scan=None).count() == 2


def test_a_scan_still_holding_a_door_photo_is_not_purged(tablet_a, colin):
    granted = checked_in(tablet_a)
    Scan.objects.filter(pk=granted.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert purge_due()["scans_deleted"] == 0 and Scan.objects.filter(pk=granted.pk).exists()


def test_the_purge_is_scheduled_every_minute_and_runs_from_the_command(db):
    schedule = Schedule.objects.get(name="retention.purge_due")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "retention.jobs.purge_due",
        "I",
        1,
        -1,
    )
    call_command("purge_due")
